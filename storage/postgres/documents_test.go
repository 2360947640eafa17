package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// Uploads arriving together are recorded by group commit, and each still
// gets its own answer: its rows and its own audit event (as its own actor)
// when it was recorded; duplicate_document when the same bytes won the
// race, inside its group or another; not found for an unknown person;
// idempotency_key_in_use for a key already used. One upload's failure never
// costs another its record, and the log verifies whole.
func TestCreateDocumentGroupCommit(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	persons := []*casefile.Person{mustPerson(t, db, "G1"), mustPerson(t, db, "G2")}
	doc := func(person, sha string) *casefile.Document {
		id := uuid.Must(uuid.NewV7()).String()
		att := uuid.Must(uuid.NewV7()).String()
		d := &casefile.Document{ID: id, PersonID: person, Kind: casefile.DocumentEmail, Filename: "m.eml", Title: "m", Category: "correspondence",
			ContentType: "message/rfc822", Size: 10, SHA256: sha, ObjectKey: "documents/" + id}
		d.Attachments = []*casefile.Document{{ID: att, PersonID: person, Kind: casefile.DocumentAttachment, ParentID: &d.ID, Filename: "a.pdf",
			Title: "a.pdf", Category: "correspondence", ContentType: "application/pdf", Size: 3, SHA256: sha + "-a", ObjectKey: "documents/" + att}}
		return d
	}
	type call struct {
		actor string
		d     *casefile.Document
		key   string
		code  string // what it must get: "" recorded, or an error code
	}
	var calls []call
	for i := 0; i < 40; i++ {
		calls = append(calls, call{fmt.Sprintf("worker-%d", i), doc(persons[i%2].ID, fmt.Sprintf("sha-%d", i)), "", ""})
	}
	// Ten uploads of the same bytes to one person: one is recorded.
	for i := 0; i < 10; i++ {
		calls = append(calls, call{"twin", doc(persons[0].ID, "same-bytes"), "", "duplicate_document?"})
	}
	calls = append(calls, call{"stranger", doc("0190a0c0-0000-7000-8000-000000000000", "sha-x"), "", "not_found"})
	calls = append(calls, call{"keyholder", doc(persons[1].ID, "sha-k1"), "key-1", ""})

	results := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx := casefile.WithActor(context.Background(), casefile.Actor{Name: c.actor, Role: casefile.RolePractitioner})
			results[i] = db.CreateDocument(cctx, c.d, c.key)
		}()
	}
	wg.Wait()
	twins := 0
	for i, c := range calls {
		got := casefile.ErrorCode(results[i])
		switch {
		case c.code == "duplicate_document?":
			if results[i] == nil {
				twins++
			} else if got != "duplicate_document" {
				t.Errorf("twin upload: %v", results[i])
			}
		case c.code == "" && results[i] != nil, c.code != "" && got != c.code:
			t.Errorf("%s: %v, want %q", c.actor, results[i], c.code)
		}
	}
	if twins != 1 {
		t.Fatalf("%d of the ten identical uploads recorded, want 1", twins)
	}
	// The same key again, for other bytes, after the first was recorded.
	again := doc(persons[1].ID, "sha-k2")
	keyholder := casefile.WithActor(context.Background(), casefile.Actor{Name: "keyholder", Role: casefile.RolePractitioner})
	if err := db.CreateDocument(keyholder, again, "key-1"); casefile.ErrorCode(err) != "idempotency_key_in_use" {
		t.Fatalf("a used key: %v", err)
	}

	// Every recorded upload has its rows and one event by its own actor.
	byTarget := map[string]casefile.AuditEvent{}
	for cursor := "-"; cursor != ""; {
		if cursor == "-" {
			cursor = ""
		}
		evs, next, err := db.AuditEvents(ctx, casefile.AuditFilter{Action: "document.upload", Page: casefile.Page{Limit: 500, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if _, dup := byTarget[e.TargetID]; dup {
				t.Fatalf("two upload events for %s", e.TargetID)
			}
			byTarget[e.TargetID] = *e
		}
		cursor = next
	}
	recorded := 0
	for i, c := range calls {
		e, audited := byTarget[c.d.ID]
		stored, err := db.Document(ctx, c.d.ID)
		if results[i] != nil {
			if audited || err == nil {
				t.Errorf("%s: refused (%v) but audited %v / stored %v", c.actor, results[i], audited, err == nil)
			}
			continue
		}
		recorded++
		if !audited || e.Actor != c.actor || err != nil || len(stored.Attachments) != 1 || stored.CreatedBy != c.actor {
			t.Errorf("%s: audited %v as %q, stored %v (%v)", c.actor, audited, e.Actor, stored, err)
		}
	}
	if recorded != 40+1+1 || len(byTarget) != recorded {
		t.Fatalf("%d recorded, %d upload events; want 42 of each", recorded, len(byTarget))
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("verify: %+v, %v", v, err)
	}

	// An upload on its own is recorded in three round trips: BEGIN with its
	// rows and the lock of the audit chain's head, its audit event, COMMIT;
	// and one refused on its own (a duplicate) in three: its rows, ROLLBACK
	// TO SAVEPOINT, and ROLLBACK of the transaction with nothing in it.
	before := db.RoundTrips()
	if err := db.CreateDocument(keyholder, doc(persons[1].ID, "sha-alone"), ""); err != nil {
		t.Fatal(err)
	}
	if n := db.RoundTrips() - before; n != 3 {
		t.Errorf("an upload on its own took %d round trips, want 3", n)
	}
	before = db.RoundTrips()
	if err := db.CreateDocument(keyholder, doc(persons[1].ID, "sha-alone"), ""); casefile.ErrorCode(err) != "duplicate_document" {
		t.Fatalf("the same bytes again: %v", err)
	}
	if n := db.RoundTrips() - before; n != 3 {
		t.Errorf("a refused upload on its own took %d round trips, want 3", n)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("verify after the lone uploads: %+v, %v", v, err)
	}
}
