package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// An access check left to the storage (casefile.AccessCheck) refuses a
// restricted record exactly as CanAccessPerson does, whichever read or
// change makes it: nothing is read or changed, the refusal is audited, and
// whoever the record is open to reads it, audited, in one round trip of its
// own plus its share of the reads' group commit.
func TestAccessCheckMadeByTheRead(t *testing.T) {
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "AC1")
	open := mustPerson(t, db, "AC2")
	mustNote(t, db, p.ID, "contact", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "Spoke to mum.")
	member, owner, outsider := mustUser(t, db), uid(), uid()
	if _, err := db.Restrict(as(owner, casefile.RoleManager), p.ID, casefile.RestrictionInput{Reason: "kept to a few", UserIDs: []string{member}}); err != nil {
		t.Fatal(err)
	}
	checked := func(actor context.Context, person string) (context.Context, *casefile.AccessCheck) {
		return casefile.WithAccessCheck(actor, person)
	}
	reads := map[string]func(ctx context.Context, person string) error{
		"notes": func(ctx context.Context, person string) error {
			_, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: person})
			return err
		},
		"person": func(ctx context.Context, person string) error {
			_, err := db.Person(ctx, person)
			return err
		},
		"documents": func(ctx context.Context, person string) error {
			_, _, err := db.Documents(ctx, person, casefile.Page{})
			return err
		},
		"a change (a note written)": func(ctx context.Context, person string) error {
			return db.CreateNote(ctx, &casefile.Note{PersonID: person, Type: "contact", OccurredAt: time.Now()}, "Visited.")
		},
		"an upload's check of the person and its bytes": func(ctx context.Context, person string) error {
			_, err := db.CheckUpload(ctx, person, strings.Repeat("ab", 32))
			return err
		},
		"an upload's check of the person": func(ctx context.Context, person string) error {
			return db.CheckPerson(ctx, person)
		},
	}
	denied := 0
	for what, read := range reads {
		ctx, check := checked(as(outsider, casefile.RolePractitioner), p.ID)
		wantRestricted(t, what+" by an outsider", read(ctx, p.ID))
		denied++
		if !check.Made() {
			t.Errorf("%s: the check is not marked made", what)
		}
		if n := len(events(t, db, p.ID, "access.denied")); n != denied {
			t.Errorf("%s: %d access.denied events, want %d", what, n, denied)
		}
		ctx, _ = checked(as(member, casefile.RolePractitioner), p.ID)
		if err := read(ctx, p.ID); err != nil {
			t.Errorf("%s by a named user: %v", what, err)
		}
		ctx, _ = checked(as(outsider, casefile.RolePractitioner), open.ID)
		if err := read(ctx, open.ID); err != nil {
			t.Errorf("%s of an open record: %v", what, err)
		}
	}
	// Nothing of the outsider's refused reads or changes was kept.
	all, _, err := db.AuditEvents(actorCtx(), casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		if ev.ActorID == outsider && ev.Action != "access.denied" {
			t.Errorf("the outsider has a %s event on the restricted record", ev.Action)
		}
		if ev.ActorID == member && ev.Action == "access.denied" {
			t.Errorf("the named user was refused")
		}
	}
	if ns, _, err := db.Notes(actorCtx(), casefile.NoteFilter{PersonID: p.ID}); err != nil || len(ns) != 2 {
		t.Fatalf("notes on the restricted record: %d, %v; want the first and the named user's", len(ns), err)
	}

	// A chronology read with its check: one round trip for the check, the
	// person and the notes, and two for a group commit of its audit event.
	ctx, _ := checked(as(member, casefile.RolePractitioner), p.ID)
	if _, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID}); err != nil { // statements prepared
		t.Fatal(err)
	}
	ctx, _ = checked(as(member, casefile.RolePractitioner), p.ID)
	before := db.RoundTrips()
	if _, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if n := db.RoundTrips() - before; n != 3 {
		t.Errorf("a checked chronology read took %d round trips, want 3", n)
	}

	// An upload's check of the person and its bytes makes the access check
	// in the same round trip.
	ctx, check := checked(as(member, casefile.RolePractitioner), p.ID)
	before = db.RoundTrips()
	if dup, err := db.CheckUpload(ctx, p.ID, strings.Repeat("cd", 32)); err != nil || dup != nil {
		t.Fatalf("checked upload: %v %v", dup, err)
	}
	if n := db.RoundTrips() - before; n != 1 || !check.Made() {
		t.Errorf("a checked upload's check took %d round trips (made: %v), want 1", n, check.Made())
	}
}
