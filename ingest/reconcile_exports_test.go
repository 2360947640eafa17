package ingest_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// The sweep accounts for disclosure bundles under exports/ as well: a bundle
// object no export names (a build that failed after writing it, a row lost,
// anything else left there) is destroyed once past the grace period and
// audited; the objects of bundles that are built, being built, or retired
// and waiting for the exports' own sweep are kept.
func TestReconcileSweepAccountsForBundles(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "RECON-EXP")
	put := func(key string) {
		t.Helper()
		if _, err := st.Put(ctx, key, bytes.NewReader([]byte("PK bundle")), 9, "application/zip", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	export := func(start bool) (string, string) {
		t.Helper()
		e, err := db.CreateExport(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if start {
			if _, err := db.StartExport(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		key := "exports/" + e.ID + ".zip"
		put(key)
		return e.ID, key
	}
	expiredID, expired := export(true)
	if err := db.FinishExport(ctx, expiredID, expired, 9, "x", "y", ""); err != nil {
		t.Fatal(err)
	}
	if n, err := db.ExpireExports(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 { // its object not yet destroyed
		t.Fatalf("expire: %d %v", n, err)
	}
	builtID, built := export(true)
	if err := db.FinishExport(ctx, builtID, built, 9, "x", "y", ""); err != nil {
		t.Fatal(err)
	}
	_, building := export(true) // written, not yet recorded finished
	_, queued := export(false)  // a worker about to build it
	failedID, failed := export(true)
	if err := db.FinishExport(ctx, failedID, "", 0, "", "", "S3 went away"); err != nil {
		t.Fatal(err)
	}
	unknown := "exports/" + uuid.Must(uuid.NewV7()).String() + ".zip"
	put(unknown)
	put("exports/notes.txt")

	r := &ingest.Reconciler{Store: db, Audit: db, Bundles: db, Blobs: s3.Blobs{S: st}, Lister: s3.Blobs{S: st}, Grace: time.Hour}
	rep, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Orphans != 0 || rep.Inspected != 7 {
		t.Fatalf("within the grace period: %+v", rep)
	}
	r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if rep, err = r.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if rep.Orphans != 3 || len(rep.Kept) != 0 {
		t.Fatalf("past the grace period: %+v, want 3 orphans destroyed", rep)
	}
	var left []string
	if err := st.List(ctx, "exports/", func(o s3.ObjectInfo) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{built, building, queued, expired}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("objects left %v, want %v (failed %s, unknown %s destroyed)", left, want, failed, unknown)
	}
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Action: "storage.orphan_destroyed", Page: casefile.Page{Limit: 50}})
	if err != nil || len(evs) != 3 {
		t.Fatalf("storage.orphan_destroyed events: %d %v", len(evs), err)
	}
}

// Disclosures' bundles under disclosures/ likewise: a ready one's object and
// the one a finalising disclosure is being written under are kept, anything
// else there is destroyed once past the grace period.
func TestReconcileSweepAccountsForDisclosureBundles(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "RECON-DISC")
	put := func(key string) {
		t.Helper()
		if _, err := st.Put(ctx, key, bytes.NewReader([]byte("PK bundle")), 9, "application/zip", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	finalising := func() string {
		t.Helper()
		d, err := db.CreateDisclosure(ctx, p.ID, casefile.DisclosureInput{Purpose: "court", Requester: "Court",
			ReceivedOn: casefile.Today(), DueOn: casefile.Today()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.FinaliseDisclosure(ctx, d.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		key := "disclosures/" + d.ID + ".zip"
		put(key)
		return key
	}
	building := finalising()
	ready := finalising()
	readyID := ready[len("disclosures/") : len(ready)-len(".zip")]
	if err := db.FinishDisclosureBuild(ctx, readyID, ready, 9, "x", ""); err != nil {
		t.Fatal(err)
	}
	unknown := "disclosures/" + uuid.Must(uuid.NewV7()).String() + ".zip"
	put(unknown)

	r := &ingest.Reconciler{Store: db, Audit: db, Bundles: db, Blobs: s3.Blobs{S: st}, Lister: s3.Blobs{S: st}, Grace: time.Hour,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	rep, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Orphans != 1 {
		t.Fatalf("%+v, want the unknown object destroyed", rep)
	}
	var left []string
	if err := st.List(ctx, "disclosures/", func(o s3.ObjectInfo) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{building, ready}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("objects left %v, want %v", left, want)
	}
}
