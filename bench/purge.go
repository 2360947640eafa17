package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

// The purge benchmark: a real retention run over N due documents (their
// objects under governance retention, as ingest stores them) against the
// same S3 server's raw batch delete (RemoveObjects with the versions known,
// governance bypass) of N objects of the same size.
func init() { sections["purge"] = benchPurge }

const purgeObjectSize = 2048

func randHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

func benchDB(ctx context.Context) (*postgres.DB, func(), error) {
	admin := env("CASEFILE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	name := "casefile_bench_" + randHex(10)
	base, query, _ := strings.Cut(admin, "?")
	url := base[:strings.LastIndex(base, "/")+1] + name
	if query != "" {
		url += "?" + query
	}
	db, err := postgres.Open(ctx, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		if c, err := pgx.Connect(context.Background(), admin); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
			c.Close(context.Background())
		}
	}, nil
}

func benchBucket(ctx context.Context) (*s3.Store, func(), error) {
	st, err := s3.Open(ctx, s3.Config{
		Endpoint:  env("CASEFILE_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		AccessKey: env("CASEFILE_TEST_S3_ACCESS_KEY", "casefile"),
		SecretKey: env("CASEFILE_TEST_S3_SECRET_KEY", "casefile-dev-secret"),
		Bucket:    "bench-" + randHex(12),
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	return st, func() { st.Client().RemoveBucket(context.Background(), st.Bucket()) }, nil //nolint:errcheck // best effort
}

// putObjects stores n objects under prefix with a governance lock a year
// ahead, 32 at a time, and returns their keys and versions.
func putObjects(ctx context.Context, st *s3.Store, keys []string) ([]string, error) {
	versions := make([]string, len(keys))
	body := bytes.Repeat([]byte("x"), purgeObjectSize)
	until := time.Now().AddDate(1, 0, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	ch := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				res, err := st.Put(ctx, keys[i], bytes.NewReader(body), int64(len(body)), "application/octet-stream", until)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				versions[i] = res.VersionID
				mu.Unlock()
			}
		}()
	}
	for i := range keys {
		ch <- i
	}
	close(ch)
	wg.Wait()
	return versions, first
}

// seedDue makes persons whose early-help records were due yesterday, each
// with docsEach documents whose objects are stored and locked.
func seedDue(ctx context.Context, db *postgres.DB, st *s3.Store, docs, docsEach int) ([]string, error) {
	ctx = casefile.WithActor(ctx, casefile.Actor{Name: "bench", Role: casefile.RoleAdmin})
	today := casefile.Today()
	dob := casefile.DateOf(today.Time().AddDate(-30, 0, -1))
	var keys []string
	var rows [][]any
	ru := today.AddDays(365)
	for p := 0; p*docsEach < docs; p++ {
		person := &casefile.Person{ExternalRef: "B" + randHex(12), GivenName: "Bench", FamilyName: "Person", DateOfBirth: &dob}
		if err := db.CreatePerson(ctx, person); err != nil {
			return nil, err
		}
		ended := today.AddDays(-400)
		if err := db.AddInvolvement(ctx, &casefile.Involvement{PersonID: person.ID, Kind: casefile.InvolvementEarlyHelp,
			StartedOn: today.AddDays(-800), EndedOn: &ended}); err != nil {
			return nil, err
		}
		for d := 0; d < docsEach && len(keys) < docs; d++ {
			id := uuid.Must(uuid.NewV7()).String()
			key := "documents/" + id
			keys = append(keys, key)
			rows = append(rows, []any{id, person.ID, "file", "letter.txt", "A letter", "letter", "text/plain", int64(purgeObjectSize),
				randHex(64), key, "bench", "parsed text", ru})
		}
	}
	if _, err := putObjects(ctx, st, keys); err != nil {
		return nil, err
	}
	_, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"documents"}, []string{"id", "person_id", "kind", "filename", "title", "category",
		"content_type", "size", "sha256", "object_key", "created_by", "body_text", "retain_until"}, pgx.CopyFromRows(rows))
	return keys, err
}

func benchPurge(ctx context.Context) error {
	n, err := strconv.Atoi(env("BENCH_PURGE_DOCS", "20000"))
	if err != nil || n < 100 {
		return fmt.Errorf("BENCH_PURGE_DOCS must be a whole number of at least 100")
	}
	db, dropDB, err := benchDB(ctx)
	if err != nil {
		return err
	}
	defer dropDB()
	db.SetRetentionPolicy(retention.Policy{S: retention.DefaultSchedule()})
	st, dropBucket, err := benchBucket(ctx)
	if err != nil {
		return err
	}
	defer dropBucket()
	const docsEach = 10
	fmt.Printf("   %d-byte objects under governance retention, %d documents per person, batches of %d\n",
		purgeObjectSize, docsEach, retention.DefaultBatchSize)
	for _, size := range []int{n / 4, n} {
		if _, err := seedDue(ctx, db, st, size, docsEach); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		rctx := casefile.WithActor(ctx, casefile.Actor{Name: "bench", Role: casefile.RoleRecordsOfficer})
		run, err := db.CreateRun(rctx, false, casefile.Today())
		if err != nil {
			return err
		}
		timed := &timedBlobs{Blobs: st}
		runner := &retention.Runner{Store: db, Blobs: timed}
		start := time.Now()
		done, err := runner.Execute(rctx, run.ID)
		if err != nil {
			return err
		}
		d := time.Since(start)
		persons := (size + docsEach - 1) / docsEach
		if done.Destroyed != size+persons {
			return fmt.Errorf("run destroyed %d items, want %d", done.Destroyed, size+persons)
		}
		fmt.Printf("   retention run: %6d documents (+%d persons) destroyed in %7s: %6.0f documents/s (S3 %s, the rest PostgreSQL)\n",
			size, persons, d.Round(time.Millisecond), float64(size)/d.Seconds(), timed.spent.Round(time.Millisecond))
	}
	// The raw floor: one RemoveObjects stream of n known versions.
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "raw/" + uuid.Must(uuid.NewV7()).String()
	}
	versions, err := putObjects(ctx, st, keys)
	if err != nil {
		return err
	}
	ch := make(chan minio.ObjectInfo, 1000)
	go func() {
		defer close(ch)
		for i, k := range keys {
			ch <- minio.ObjectInfo{Key: k, VersionID: versions[i]}
		}
	}()
	start := time.Now()
	failed := 0
	for e := range st.Client().RemoveObjects(ctx, st.Bucket(), ch, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
		if e.Err != nil {
			failed++
		}
	}
	d := time.Since(start)
	if failed > 0 {
		return fmt.Errorf("raw RemoveObjects: %d of %d failed", failed, n)
	}
	fmt.Printf("   raw RemoveObjects: %6d objects removed in %7s: %6.0f objects/s\n", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	return nil
}

// timedBlobs measures the time a run spends in the object store.
type timedBlobs struct {
	retention.Blobs
	spent time.Duration
}

func (t *timedBlobs) DestroyMany(ctx context.Context, keys []string) (map[string]error, error) {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.Blobs.DestroyMany(ctx, keys)
}
