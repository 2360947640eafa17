package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
)

func benchPurge(ctx context.Context, s *server, mc *minio.Client) error {
	n := *purgeDocs
	pid, err := s.person("BENCH-PURGE", time.Now().UTC().AddDate(-31, 0, 0).Format("2006-01-02"))
	if err != nil {
		return err
	}
	// Stage the documents straight into the stores (not through the API,
	// which is measured above): objects under Object Lock, rows, and a
	// closed early-help involvement that makes them due today.
	lockUntil := time.Now().Add(24 * time.Hour)
	keys := make([]string, n)
	versions := make([]string, n)
	var wg sync.WaitGroup
	ch := make(chan int)
	var firstErr error
	var mu sync.Mutex
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				keys[i] = fmt.Sprintf("documents/bench-%08d", i)
				info, err := mc.PutObject(ctx, s.bucket, keys[i], strings.NewReader("x"), 1, minio.PutObjectOptions{
					Mode: minio.Governance, RetainUntilDate: lockUntil})
				versions[i] = info.VersionID
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows := make([][]any, n)
	for i := range rows {
		// Rows as ingest writes them; the sha256 differs per row so that
		// they are not duplicates of each other.
		rows[i] = []any{fmt.Sprintf("0190a0c0-0000-7000-8000-%012d", i), pid, "file", "x.txt", "other", "text/plain", 1,
			fmt.Sprintf("%064x", i), keys[i], versions[i], "bench"}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"documents"}, []string{"id", "person_id", "kind", "filename", "category",
		"content_type", "size", "sha256", "object_key", "object_version", "created_by"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"kind": "early_help", "started_on": "2000-01-01", "ended_on": "2001-01-01"})
	if _, _, err := s.call("POST", "/v1/persons/"+pid+"/involvements", bytes.NewReader(b), int64(len(b)), "application/json"); err != nil {
		return err
	}
	b = []byte(`{"dry_run": false}`)
	t0 := time.Now()
	m, _, err := s.call("POST", "/v1/retention/runs", bytes.NewReader(b), int64(len(b)), "application/json")
	if err != nil {
		return err
	}
	for {
		r, _, err := s.call("GET", "/v1/retention/runs/"+m["id"].(string), nil, -1, "")
		if err != nil {
			return err
		}
		if r["state"] == "done" || r["state"] == "failed" {
			if r["state"] == "failed" {
				return fmt.Errorf("purge run failed: %v", r["error"])
			}
			break
		}
		if r["state"] == "awaiting_approval" {
			// The disposal list waits for a records officer: the bench's
			// admin token approves it (counted in the time).
			if _, _, err := s.call("POST", "/v1/retention/runs/"+m["id"].(string)+"/approve", nil, -1, ""); err != nil {
				return err
			}
			continue
		}
		time.Sleep(200 * time.Millisecond)
	}
	purge := time.Since(t0)

	// Raw: the same number of locked objects removed with RemoveObjects.
	for i := range keys {
		keys[i] = fmt.Sprintf("raw-delete/%08d", i)
	}
	ch = make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				mc.PutObject(ctx, s.bucket, keys[i], strings.NewReader("x"), 1, minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: lockUntil}) //nolint:errcheck
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	t1 := time.Now()
	objs := make(chan minio.ObjectInfo)
	go func() {
		defer close(objs)
		for o := range mc.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "raw-delete/", WithVersions: true, Recursive: true}) {
			objs <- minio.ObjectInfo{Key: o.Key, VersionID: o.VersionID}
		}
	}()
	for e := range mc.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
		if e.Err != nil {
			return e.Err
		}
	}
	raw := time.Since(t1)
	fmt.Printf("purge: %d due documents destroyed by a retention run in %.1fs (%.0f documents/s, all versions, rows, certificate)\n",
		n, purge.Seconds(), float64(n)/purge.Seconds())
	fmt.Printf("  raw S3 list + RemoveObjects of %d locked objects: %.1fs (%.0f objects/s); ratio %.2f\n",
		n, raw.Seconds(), float64(n)/raw.Seconds(), raw.Seconds()/purge.Seconds())
	fmt.Printf("  100,000 documents at this rate: about %.0f minutes\n", 100000/(float64(n)/purge.Seconds())/60)
	return nil
}
