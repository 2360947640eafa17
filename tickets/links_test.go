package tickets

import (
	"fmt"
	"sync"
	"testing"

	"github.com/council/casefile"
)

// An email filed on two siblings' records (a link) is one object: removing
// it from one record keeps the object for the other, whose copy still reads;
// a hold on the record that still files it does not stop the removal on
// the other; the removal on the last record destroys the object (every
// version, its Object Lock bypassed).
func TestRemovalOfALinkedEmailKeepsTheObjectForTheOtherRecord(t *testing.T) {
	f := newFixture(t)
	email, att := f.document(f.amy, []byte("From: school\r\nSubject: both children\r\n\r\nAmy and Bob were absent."))
	amyDoc, err := f.db.Document(f.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	link, existed, err := f.db.LinkDocument(f.ctx, email, f.bob)
	if err != nil || existed || link.PersonID != f.bob || link.LinkedFrom == nil || *link.LinkedFrom != email ||
		len(link.Attachments) != 1 || link.Attachments[0].LinkedFrom == nil || *link.Attachments[0].LinkedFrom != att {
		t.Fatalf("link: %+v, existed %v, %v", link, existed, err)
	}
	hold := &casefile.Hold{Name: "Inquiry", Reason: "moratorium", PersonIDs: []string{f.bob}}
	if err := f.db.CreateHold(f.ctx, hold); err != nil {
		t.Fatal(err)
	}
	keys := []string{amyDoc.ObjectKey, amyDoc.Attachments[0].ObjectKey}

	// Removal on Amy's record: her rows go, the objects stay for Bob's.
	rm := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: email, Reason: "wrong child"})
	if err := f.processor().Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketDone {
		t.Fatalf("removal on Amy's record under Bob's hold: %s %s", got.State, got.Error)
	}
	for _, k := range keys {
		if _, err := f.store.Stat(f.ctx, k); err != nil {
			t.Fatalf("object %s after removal on one of two records: %v", k, err)
		}
	}
	if _, err := f.db.OpenDocument(f.ctx, email); casefile.ErrorCode(err) != "removed" {
		t.Fatalf("Amy's copy: %v, want removed", err)
	}
	for _, id := range []string{link.ID, link.Attachments[0].ID} {
		if d, err := f.db.OpenDocument(f.ctx, id); err != nil || d.ObjectKey == "" {
			t.Fatalf("Bob's copy %s: %v", id, err)
		}
	}
	// The reconciliation sees the objects named still (no orphan to destroy).
	if named, err := f.db.ActiveObjectKeys(f.ctx, keys); err != nil || !named[keys[0]] || !named[keys[1]] {
		t.Fatalf("objects named after the removal on one record: %v, %v", named, err)
	}

	// Removal on Bob's record is refused while his hold stands.
	rm2 := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: link.ID, Reason: "not needed"})
	if err := f.processor().Handle(f.ctx, payload(rm2.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm2.ID); got.State != casefile.TicketFailed {
		t.Fatalf("removal under hold: %s", got.State)
	}
	if _, err := f.db.ReleaseHold(f.ctx, hold.ID, "inquiry over"); err != nil {
		t.Fatal(err)
	}
	rm3 := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: link.ID, Reason: "not needed"})
	if err := f.processor().Handle(f.ctx, payload(rm3.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm3.ID); got.State != casefile.TicketDone {
		t.Fatalf("removal on the last record: %s %s", got.State, got.Error)
	}
	for _, k := range keys {
		if _, err := f.store.Stat(f.ctx, k); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Fatalf("object %s after the last record let it go: %v, want it destroyed", k, err)
		}
	}
	if a := f.actions(); a["document.link_out"] != 1 || a["document.link_in"] != 1 || a["document.remove"] != 2 {
		t.Fatalf("audit: %v", a)
	}
}

// Both records let go of a linked email at the same moment (two removal
// tickets carried out at once): the object lock on the key makes one of them
// see the other's copy gone, so the object is destroyed, never left behind
// with no record naming it.
func TestConcurrentRemovalsOfBothCopiesDestroyTheObject(t *testing.T) {
	f := newFixture(t)
	for i := range 4 {
		email, _ := f.document(f.amy, []byte(fmt.Sprintf("From: school\r\nSubject: round %d\r\n\r\nAbout both.", i)))
		link, _, err := f.db.LinkDocument(f.ctx, email, f.bob)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.db.Document(f.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, target := range []string{email, link.ID} {
			ids = append(ids, f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: target, Reason: "both"}).ID)
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.processor().Handle(f.ctx, payload(id)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if got := f.ticket(id); got.State != casefile.TicketDone {
				t.Fatalf("round %d: ticket %s", i, got.State)
			}
		}
		for _, k := range []string{d.ObjectKey, d.Attachments[0].ObjectKey} {
			if _, err := f.store.Stat(f.ctx, k); casefile.ErrorKind(err) != casefile.ENotFound {
				t.Fatalf("round %d: object %s after both records let it go at once: %v, want destroyed", i, k, err)
			}
		}
	}
}
