package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/anchor"
)

// An insider with the database superuser and the app's own S3 credential
// rewrites the log (deleting an anchored event), writes a plausible later
// anchor of the rewritten heads, tries to delete the genuine anchor and hides
// it behind a delete marker: `casefile audit verify` still fails, naming the
// missing event, because every anchor ever written is checked.
func TestAuditVerifySeesThroughALaterForgedAnchor(t *testing.T) {
	s := startService(t, nil)
	for _, ref := range []string{"ANC-1", "ANC-2", "ANC-3"} {
		s.person(ref, "2015-05-05")
	}
	out, err := s.cli("audit", "anchor")
	if err != nil || !strings.Contains(out, anchor.Prefix) {
		t.Fatalf("casefile audit anchor: %v %s", err, out)
	}
	genuine := strings.TrimSpace(out[strings.Index(out, anchor.Prefix):])
	if out, err := s.cli("audit", "verify"); err != nil || !strings.Contains(out, "matches the anchor kept in the bucket") {
		t.Fatalf("verify after anchoring: %v %s", err, out)
	}

	// The rewrite, as a superuser would do it: the newest event goes and its
	// chain's head moves back, so the database's own check passes.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var deleted int64
	if err := conn.QueryRow(ctx, "SELECT max(seq) FROM audit_events").Scan(&deleted); err != nil {
		t.Fatal(err)
	}
	missing := fmt.Sprintf("event %d, anchored in the bucket", deleted)
	for _, q := range []string{"SET session_replication_role = replica",
		`WITH newest AS (SELECT seq, chain FROM audit_events ORDER BY seq DESC LIMIT 1),
			gone AS (DELETE FROM audit_events e USING newest n WHERE e.seq = n.seq RETURNING e.chain)
		UPDATE audit_heads h SET seq = coalesce(p.seq, 0), hash = coalesce(p.hash, repeat('0', 64))
		FROM gone g LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events WHERE chain = g.chain
			AND seq < (SELECT seq FROM newest) ORDER BY seq DESC LIMIT 1) p ON true
		WHERE h.chain = g.chain`,
		"SET session_replication_role = origin"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("tamper: %v", err)
		}
	}

	// A plausible later anchor of the rewritten heads, written with the
	// app's credential, as the service would write it.
	store := s.s3store(t)
	rows, err := conn.Query(ctx, "SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
	if err != nil {
		t.Fatal(err)
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.AuditHead, error) {
		var h casefile.AuditHead
		return h, r.Scan(&h.Chain, &h.Seq, &h.Hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	genuineBody := readObject(t, store.Client(), store.Bucket(), genuine)
	prevSum := sha256.Sum256(genuineBody)
	at := time.Now().UTC()
	forged, _ := json.Marshal(map[string]any{"at": at, "heads": heads, "prev_key": genuine, "prev_sha256": hexOf(prevSum[:])})
	sum := sha256.Sum256(forged)
	key := anchor.Prefix + at.Format("20060102T150405.000000000Z") + ".json"
	if _, err := store.PutChecked(ctx, key, forged, sum[:], "application/json", at.Add(anchor.Retention)); err != nil {
		t.Fatal(err)
	}
	// The genuine anchor cannot be deleted, even bypassing governance with
	// the app's credential: anchors are kept in compliance mode.
	info, err := store.Client().StatObject(ctx, store.Bucket(), genuine, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = store.Client().RemoveObject(ctx, store.Bucket(), genuine, minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true})
	if err == nil {
		t.Fatal("the app's credential deleted the genuine anchor with governance bypass")
	}
	// It can only be hidden behind a delete marker.
	if err := store.Client().RemoveObject(ctx, store.Bucket(), genuine, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	out, err = s.cli("audit", "verify")
	var code exitError
	if !errors.As(err, &code) || code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, missing) || !strings.Contains(out, "missing from the log") {
		t.Fatalf("verify after a rewrite and a forged anchor: %v\n%s", err, out)
	}
	if v := s.must(200, "GET", "/v1/audit/verify", s.token("auditor"), nil); v["ok"] != false {
		t.Fatalf("GET /v1/audit/verify after a rewrite and a forged anchor = %v", v)
	}
}

// An anchor dated in the future is refused: the service writes each anchor
// at the time it names.
func TestAuditVerifyRefusesAnAnchorDatedInTheFuture(t *testing.T) {
	s := startService(t, nil)
	s.person("FUT-1", "2015-05-05")
	if out, err := s.cli("audit", "anchor"); err != nil {
		t.Fatalf("casefile audit anchor: %v %s", err, out)
	}
	store := s.s3store(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
	if err != nil {
		t.Fatal(err)
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.AuditHead, error) {
		var h casefile.AuditHead
		return h, r.Scan(&h.Chain, &h.Seq, &h.Hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(48 * time.Hour)
	b, _ := json.Marshal(map[string]any{"at": at, "heads": heads})
	sum := sha256.Sum256(b)
	if _, err := store.PutChecked(ctx, anchor.Prefix+at.Format("20060102T150405.000000000Z")+".json", b, sum[:], "application/json", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	out, err := s.cli("audit", "verify")
	var code exitError
	if !errors.As(err, &code) || code != 1 || !strings.Contains(out, "in the future") {
		t.Fatalf("verify with an anchor dated in the future: %v\n%s", err, out)
	}
}

func readObject(t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	o, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
