package tickets

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/export"
)

// A re-index takes a document off Amy's record: the bundles of Amy's record
// built or being built hold it, so they are withdrawn (as after a removal),
// their objects destroyed, and a bundle that finishes later stays
// withdrawn. Bob's bundle (without the document) is left alone.
func TestReindexWithdrawsTheOldPersonsBundles(t *testing.T) {
	f := newFixture(t)
	docID, _ := f.document(f.amy, []byte("a letter about Bob"))
	built, builtKey := f.bundle(f.amy)
	building, err := f.db.CreateExport(f.ctx, f.amy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.StartExport(f.ctx, building.ID); err != nil {
		t.Fatal(err)
	}
	bobs, bobsKey := f.bundle(f.bob)

	ri := f.approved(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "document", TargetID: docID, ToPersonID: &f.bob, Reason: "wrong child"})
	if err := f.processor().Handle(f.ctx, payload(ri.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(ri.ID); got.State != casefile.TicketDone {
		t.Fatalf("re-index: %s %q", got.State, got.Error)
	}
	if _, _, err := f.db.ExportObject(f.ctx, built); casefile.ErrorCode(err) != "export_withdrawn" || !strings.Contains(err.Error(), ri.ID) {
		t.Fatalf("download of Amy's bundle after the re-index: %v", err)
	}
	if _, err := f.store.Stat(f.ctx, builtKey); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("Amy's bundle's object: %v, want it destroyed", err)
	}
	buildingKey := "exports/" + building.ID + ".zip"
	f.finishBundle(building.ID, buildingKey)
	if e, err := f.db.Export(f.ctx, building.ID); err != nil || e.State != "withdrawn" {
		t.Fatalf("bundle finished after the re-index: %+v %v", e, err)
	}
	if _, key, err := f.db.ExportObject(f.ctx, bobs); err != nil || key != bobsKey {
		t.Fatalf("Bob's bundle: %q %v", key, err)
	}
	evs, _, err := f.db.AuditEvents(f.ctx, casefile.AuditFilter{PersonID: f.amy, Action: "export.withdraw", Page: casefile.Page{Limit: 50}})
	if err != nil || len(evs) != 2 {
		t.Fatalf("export.withdraw on Amy's trail: %d %v", len(evs), err)
	}
}

// exportService is the export worker as cmd wires it, on the fixture's
// database and bucket; put, when set, runs before each upload.
func (f *fixture) exportService(put func(key string)) *export.Service {
	svc := f.exports(30 * 24 * time.Hour)
	svc.Builder = &export.Builder{Source: f.db, Open: func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := f.store.Get(ctx, key, nil)
		return rc, err
	}}
	svc.Put = func(ctx context.Context, key string, r io.Reader) error {
		if put != nil {
			put(key)
		}
		_, err := f.store.Put(ctx, key, r, -1, "application/zip", time.Time{})
		return err
	}
	return svc
}

func exportPayload(id string) []byte { return []byte(`{"export_id":"` + id + `"}`) }

// A redelivered build task (the queue delivers at least once) never brings
// back a bundle that was expired or withdrawn: it does nothing. A bundle
// withdrawn while it was being written is destroyed as soon as it is
// written, not left for the next sweep.
func TestRedeliveredBuildLeavesRetiredBundles(t *testing.T) {
	f := newFixture(t)
	f.note(f.amy, "contact", "Visited Amy.")
	removal := func() {
		t.Helper()
		rm := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note",
			TargetID: f.note(f.amy, "contact", "From: x\nSent: y\nSubject: pasted"), Reason: "pasted"})
		if err := f.processor().Handle(f.ctx, payload(rm.ID)); err != nil {
			t.Fatal(err)
		}
	}
	gone := func(id, want string) {
		t.Helper()
		if e, err := f.db.Export(f.ctx, id); err != nil || e.State != want {
			t.Fatalf("export %s: %+v %v, want %s", id, e, err, want)
		}
		if _, err := f.store.Stat(f.ctx, "exports/"+id+".zip"); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Fatalf("export %s's object: %v, want none", id, err)
		}
	}
	svc := f.exportService(nil)

	// Built, expired, then its task delivered again.
	old, err := f.db.CreateExport(f.ctx, f.amy)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Handle(f.ctx, exportPayload(old.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Pool().Exec(f.ctx, "UPDATE exports SET finished_at = now() - interval '31 days' WHERE id = $1", old.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	gone(old.ID, "expired")
	if err := svc.Handle(f.ctx, exportPayload(old.ID)); err != nil {
		t.Fatal(err)
	}
	gone(old.ID, "expired")

	// Started by a worker that died, withdrawn by a removal, then delivered again.
	crashed, err := f.db.CreateExport(f.ctx, f.amy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.StartExport(f.ctx, crashed.ID); err != nil {
		t.Fatal(err)
	}
	removal()
	if err := svc.Handle(f.ctx, exportPayload(crashed.ID)); err != nil {
		t.Fatal(err)
	}
	gone(crashed.ID, "withdrawn")

	// Withdrawn while its zip is being written: destroyed once written.
	late, err := f.db.CreateExport(f.ctx, f.amy)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.exportService(func(string) { removal() }).Handle(f.ctx, exportPayload(late.ID)); err != nil {
		t.Fatal(err)
	}
	gone(late.ID, "withdrawn")
	if keys, err := f.db.RetiredBundles(f.ctx); err != nil || len(keys) != 0 {
		t.Fatalf("retired bundles left to destroy: %v %v", keys, err)
	}
}
