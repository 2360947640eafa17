package anchor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/anchor"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// Someone who can rewrite the database deletes the newest audit events and
// moves the chain's head back to match: the database alone verifies, but the
// anchor kept in the bucket does not agree, and verification says so.
func TestAnchorCatchesARewriteTheDatabaseCannot(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "tester", Role: casefile.RoleAdmin})
	for _, ref := range []string{"A1", "A2", "A3", "A4", "A5"} {
		if err := db.CreatePerson(ctx, &casefile.Person{ExternalRef: ref, GivenName: "A", FamilyName: "B"}); err != nil {
			t.Fatal(err)
		}
	}
	an := &anchor.Anchorer{Store: db, Objects: s3.Anchors{S: st}}
	verify := func() *casefile.AuditVerification {
		t.Helper()
		v, err := db.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := an.Check(ctx, v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := verify(); !v.OK || v.AnchoredAt != nil {
		t.Fatalf("before any anchor: %+v", v)
	}
	key, err := an.Write(ctx)
	if err != nil || !strings.HasPrefix(key, anchor.Prefix) {
		t.Fatalf("write: %q, %v", key, err)
	}
	if again, err := an.Write(ctx); err != nil || again != "" {
		t.Fatalf("a second write with nothing new: %q, %v", again, err)
	}
	if v := verify(); !v.OK || v.AnchoredAt == nil || time.Since(*v.AnchoredAt) > time.Minute {
		t.Fatalf("with the anchor: %+v", v)
	}
	// The anchor is under Object Lock: it cannot simply be deleted.
	if err := st.Client().RemoveObject(ctx, st.Bucket(), key, removeVersion(t, st, key)); err == nil {
		t.Fatal("the anchor could be deleted")
	}

	// The rewrite: the newest event goes, and its chain's head is moved back.
	testenv.Tamper(t, db, `WITH newest AS (SELECT seq, chain FROM audit_events ORDER BY seq DESC LIMIT 1),
			gone AS (DELETE FROM audit_events e USING newest n WHERE e.seq = n.seq RETURNING e.chain)
		UPDATE audit_heads h SET seq = coalesce(p.seq, 0), hash = coalesce(p.hash, repeat('0', 64))
		FROM gone g LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events WHERE chain = g.chain
			AND seq < (SELECT seq FROM newest) ORDER BY seq DESC LIMIT 1) p ON true
		WHERE h.chain = g.chain`)
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("the rewrite should pass the database's own check: %+v, %v", v, err)
	}
	v := verify()
	if v.OK || !strings.Contains(v.Problem, "missing from the log") {
		t.Fatalf("with the anchor: %+v, want the rewrite caught", v)
	}
}

func removeVersion(t *testing.T, st *s3.Store, key string) minio.RemoveObjectOptions {
	t.Helper()
	info, err := st.Client().StatObject(context.Background(), st.Bucket(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return minio.RemoveObjectOptions{VersionID: info.VersionID}
}
