package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// Reads are audited by group commit: many readers at once each get their own
// event, as themselves, and the chain verifies; a read whose event cannot be
// kept fails.
func TestReadsAreAuditedByGroupCommit(t *testing.T) {
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "GC1")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n := mustNote(t, db, p.ID, "contact", at, "Spoke to mum.")

	const readers = 40
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := casefile.WithActor(context.Background(), casefile.Actor{ID: fmt.Sprintf("0190a0c0-0000-7000-8000-%012d", i),
				Kind: casefile.ActorToken, Name: fmt.Sprintf("reader %d", i), Role: casefile.RolePractitioner})
			if i%2 == 0 {
				_, _, errs[i] = db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID})
			} else {
				_, errs[i] = db.Note(ctx, n.ID)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
	}
	evs, _, err := db.AuditEvents(actorCtx(), casefile.AuditFilter{PersonID: p.ID, Action: "note.read", Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range evs {
		seen[ev.Actor]++
	}
	for i := range readers {
		if who := fmt.Sprintf("reader %d", i); seen[who] != 1 {
			t.Errorf("%s has %d note.read events, want 1 (all: %v)", who, seen[who], seen)
		}
	}
	if v, err := db.VerifyAudit(actorCtx()); err != nil || !v.OK {
		t.Fatalf("verify after grouped reads: %+v, %v", v, err)
	}

	// The audit log cannot be written: the read fails rather than go unrecorded.
	testenv.Tamper(t, db, "ALTER TABLE audit_events RENAME TO audit_events_away")
	_, _, err = db.Notes(actorCtx(), casefile.NoteFilter{PersonID: p.ID})
	testenv.Tamper(t, db, "ALTER TABLE audit_events_away RENAME TO audit_events")
	if err == nil {
		t.Fatal("a read whose audit event could not be kept answered")
	}
	if _, _, err := db.Notes(actorCtx(), casefile.NoteFilter{PersonID: p.ID}); err != nil {
		t.Fatalf("reading once the log is back: %v", err)
	}
}
