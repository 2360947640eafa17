package ingest_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// One sweep over a bucket and database that disagree: objects no document
// names are destroyed once past the grace period (and not before), each
// destruction audited; documents whose object has gone are reported and
// audited; everything else is left exactly as it was. Enough documents are
// stored that the database side is read in several pages.
func TestReconcileSweep(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "RECON-1")
	svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 1 << 20}
	var docs []*casefile.Document
	for i := 0; i < 1100; i++ {
		body := []byte(fmt.Sprintf("letter %d\n", i))
		staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "l.txt", Body: bytes.NewReader(body), Size: int64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := svc.Commit(ctx, staged, "", "letter", "")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	until := time.Now().AddDate(0, 0, 1)
	for _, k := range []string{"documents/0-orphan", "documents/zz-orphan", "documents/" + docs[500].ID + "-orphan"} {
		if _, err := st.Put(ctx, k, bytes.NewReader([]byte("left behind")), 11, "", until); err != nil {
			t.Fatal(err)
		}
	}
	// Two documents lose their objects (the first and one in the middle of a page).
	lost := []*casefile.Document{docs[0], docs[777]}
	for _, d := range lost {
		if err := st.Destroy(ctx, d.ObjectKey); err != nil {
			t.Fatal(err)
		}
	}
	r := &ingest.Reconciler{Store: db, Audit: db, Blobs: s3.Blobs{S: st}, Lister: s3.Blobs{S: st}, Grace: time.Hour}

	// Within the grace period the orphans stay (an upload may still be committing them).
	rep, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Orphans != 0 || rep.Inspected != 1100-2+3 || len(rep.Missing) != 2 {
		t.Fatalf("within the grace period: %+v", rep)
	}
	r.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err = r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{lost[0].ID, lost[1].ID}
	slices.Sort(want)
	slices.Sort(rep.Missing)
	if rep.Orphans != 3 || len(rep.Kept) != 0 || !slices.Equal(rep.Missing, want) {
		t.Fatalf("past the grace period: %+v, want 3 orphans destroyed and missing %v", rep, want)
	}
	left := 0
	if err := st.List(ctx, "documents/", func(o s3.ObjectInfo) error { left++; return nil }); err != nil {
		t.Fatal(err)
	}
	if left != 1100-2 {
		t.Fatalf("%d objects left, want the %d of the documents", left, 1100-2)
	}
	rep, err = r.Sweep(ctx)
	if err != nil || rep.Orphans != 0 || len(rep.Missing) != 2 {
		t.Fatalf("a second sweep: %+v, %v", rep, err)
	}
	count := map[string]int{}
	for cursor := "start"; cursor != ""; {
		if cursor == "start" {
			cursor = ""
		}
		events, next, err := db.AuditEvents(ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			count[e.Action]++
		}
		cursor = next
	}
	if count["storage.orphan_destroyed"] != 3 || count["storage.missing_object"] != 3*2 {
		t.Fatalf("audit = %v", count)
	}
}
