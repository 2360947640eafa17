package anchor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
	an := &anchor.Anchorer{Store: db, Objects: s3.Anchors{S: st}, Retention: time.Hour}
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

// Anchors that casefile did not write are refused: one inserted between two
// genuine ones (out of the chain), one whose heads go back, one that is not
// an anchor at all. Each is written with the app's own credential.
func TestForeignAnchorsAreRefused(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "tester", Role: casefile.RoleAdmin})
	person := func(ref string) {
		t.Helper()
		if err := db.CreatePerson(ctx, &casefile.Person{ExternalRef: ref, GivenName: "A", FamilyName: "B"}); err != nil {
			t.Fatal(err)
		}
	}
	an := &anchor.Anchorer{Store: db, Objects: s3.Anchors{S: st}, Retention: time.Hour}
	check := func() *casefile.AuditVerification {
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
	person("F1")
	first, err := an.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	person("F2")
	second, err := an.Write(ctx)
	if err != nil || second == "" || second == first {
		t.Fatalf("second anchor: %q %v", second, err)
	}
	if v := check(); !v.OK || v.Anchors != 2 {
		t.Fatalf("two genuine anchors: %+v", v)
	}
	var a1, a2 anchor.Anchor
	for key, a := range map[string]*anchor.Anchor{first: &a1, second: &a2} {
		if err := json.Unmarshal(get(t, st, key), a); err != nil {
			t.Fatal(err)
		}
	}
	if a2.PrevKey != first || len(a2.PrevSHA256) != 64 {
		t.Fatalf("the second anchor does not name the first: %+v", a2)
	}
	put := func(key string, b []byte) {
		t.Helper()
		sum := sha256.Sum256(b)
		if _, err := st.PutChecked(ctx, anchor.Prefix+key, b, sum[:], "application/json", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	// A copy of the first anchor's heads, dated between the two: the second
	// no longer follows the anchor before it.
	between := a1
	between.At = a1.At.Add(a2.At.Sub(a1.At) / 2)
	b, _ := json.Marshal(between)
	put("between.json", b)
	if v := check(); v.OK || !strings.Contains(v.Problem, "does not follow") {
		t.Fatalf("an anchor inserted between two: %+v", v)
	}
	if v, _ := db.VerifyAudit(ctx); !v.OK {
		t.Fatalf("the log itself is untouched, yet the database's own check fails: %+v", v)
	}
}

// An anchor whose heads go back, written after the genuine ones, is
// refused even when every event it names is in the log.
func TestAnAnchorGoingBackIsRefused(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "tester", Role: casefile.RoleAdmin})
	an := &anchor.Anchorer{Store: db, Objects: s3.Anchors{S: st}, Retention: time.Hour}
	if err := db.CreatePerson(ctx, &casefile.Person{ExternalRef: "B1", GivenName: "A", FamilyName: "B"}); err != nil {
		t.Fatal(err)
	}
	early, _ := db.AuditHeads(ctx)
	if err := db.CreatePerson(ctx, &casefile.Person{ExternalRef: "B2", GivenName: "A", FamilyName: "B"}); err != nil {
		t.Fatal(err)
	}
	key, err := an.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(get(t, st, key))
	back := anchor.Anchor{At: time.Now().UTC(), Heads: early, PrevKey: key, PrevSHA256: hex.EncodeToString(sum[:])}
	b, _ := json.Marshal(back)
	s := sha256.Sum256(b)
	if _, err := st.PutChecked(ctx, anchor.Prefix+"zz-back.json", b, s[:], "application/json", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := an.Check(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.OK || !strings.Contains(v.Problem, "never go back") {
		t.Fatalf("an anchor going back: %+v", v)
	}
	// Something that is not an anchor at all under the prefix is refused too.
	junk := []byte(`{"hello": "world"}`)
	js := sha256.Sum256(junk)
	if _, err := st.PutChecked(ctx, anchor.Prefix+"000-junk.json", junk, js[:], "application/json", time.Time{}); err != nil {
		t.Fatal(err)
	}
	v, _ = db.VerifyAudit(ctx)
	if err := an.Check(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.OK || !strings.Contains(v.Problem, "not readable") {
		t.Fatalf("junk under the anchors' prefix: %+v", v)
	}
}

func get(t *testing.T, st *s3.Store, key string) []byte {
	t.Helper()
	rc, _, err := st.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
