package tickets

import (
	"strings"
	"testing"

	"github.com/council/casefile"
)

// bundle makes a built export bundle of the person and returns its id and key.
func (f *fixture) bundle(person string) (string, string) {
	f.t.Helper()
	e, err := f.db.CreateExport(f.ctx, person)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.StartExport(f.ctx, e.ID); err != nil {
		f.t.Fatal(err)
	}
	key := "exports/" + e.ID + ".zip"
	f.finishBundle(e.ID, key)
	return e.ID, key
}

func (f *fixture) hold(person string) *casefile.Hold {
	f.t.Helper()
	h := &casefile.Hold{Name: "Hold on " + person, Reason: "litigation", PersonIDs: []string{person}}
	if err := f.db.CreateHold(f.ctx, h); err != nil {
		f.t.Fatal(err)
	}
	return h
}

// A removal acts where the item is now. Amy's document is to be removed,
// but the removal fails (a hold on Amy), and meanwhile a re-index moves the
// document to Bob, whose record is under a hold of its own. The retried
// removal must honour Bob's hold (it destroyed the document before), and
// once that is released it must audit the removal on Bob's record and
// withdraw Bob's bundles, not Amy's.
func TestRemovalActsWhereTheItemIsNow(t *testing.T) {
	f := newFixture(t)
	p := f.processor()
	docID, attID := f.document(f.amy, []byte("a letter with a pasted email"))
	amyHold := f.hold(f.amy)
	rm := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: docID, Reason: "pasted email"})
	if err := p.Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketFailed {
		t.Fatalf("removal under Amy's hold: %s %q", got.State, got.Error)
	}
	ri := f.approved(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "document", TargetID: docID, ToPersonID: &f.bob, Reason: "wrong child"})
	if err := p.Handle(f.ctx, payload(ri.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(ri.ID); got.State != casefile.TicketDone {
		t.Fatalf("re-index: %s %q", got.State, got.Error)
	}
	bobHold := f.hold(f.bob)
	if _, err := f.db.ReleaseHold(f.ctx, amyHold.ID, "over"); err != nil {
		t.Fatal(err)
	}
	amyBundle, amyKey := f.bundle(f.amy)
	bobBundle, bobKey := f.bundle(f.bob)

	if _, err := f.db.RetryTicket(f.ict, rm.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	got := f.ticket(rm.ID)
	if got.State != casefile.TicketFailed || !strings.Contains(got.Error, "under_legal_hold") || !strings.Contains(got.Error, bobHold.Name) {
		t.Fatalf("removal of a document now under Bob's hold: %s %q", got.State, got.Error)
	}
	for _, id := range []string{docID, attID} {
		if d, err := f.db.Document(f.ctx, id); err != nil || d.Status != casefile.StatusActive || d.PersonID != f.bob {
			t.Fatalf("document %s under Bob's hold: %+v %v", id, d, err)
		}
		if _, err := f.store.Stat(f.ctx, "documents/"+id); err != nil {
			t.Fatalf("object of %s under Bob's hold: %v", id, err)
		}
	}

	if _, err := f.db.ReleaseHold(f.ctx, bobHold.ID, "over"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RetryTicket(f.ict, rm.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketDone || got.PersonID != f.bob {
		t.Fatalf("removal after Bob's hold was released: %s on %s %q", got.State, got.PersonID, got.Error)
	}
	if _, err := f.store.Stat(f.ctx, "documents/"+docID); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("removed document's object: %v", err)
	}
	// The removal is on Bob's trail, where the document was.
	evs, _, err := f.db.AuditEvents(f.ctx, casefile.AuditFilter{PersonID: f.bob, Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	onBob := map[string]int{}
	for _, e := range evs {
		onBob[e.Action]++
	}
	if onBob["document.remove"] != 1 || onBob["ticket.done"] != 1 || onBob["export.withdraw"] != 1 || onBob["ticket.follow"] != 1 {
		t.Fatalf("Bob's trail: %v", onBob)
	}
	// Bob's bundle (which held the document) is withdrawn; Amy's (made after
	// the move, without it) is not.
	if _, _, err := f.db.ExportObject(f.ctx, bobBundle); casefile.ErrorCode(err) != "export_withdrawn" {
		t.Fatalf("Bob's bundle: %v", err)
	}
	if _, err := f.store.Stat(f.ctx, bobKey); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("Bob's bundle's object: %v", err)
	}
	if _, key, err := f.db.ExportObject(f.ctx, amyBundle); err != nil || key != amyKey {
		t.Fatalf("Amy's bundle: %q %v", key, err)
	}
}

// One live ticket per target, of any kind: a removal and a re-index (or a
// reopen) open at once on the same note would act on each other's result.
// A failed ticket is not live, but its retry is refused while another is.
func TestOneLiveTicketOfAnyKindPerTarget(t *testing.T) {
	f := newFixture(t)
	raise := func(tk *casefile.Ticket) error { return f.db.CreateTicket(f.ctx, tk) }
	exists := func(err error, other string) {
		t.Helper()
		if casefile.ErrorKind(err) != casefile.EConflict || casefile.ErrorCode(err) != "ticket_exists" || !strings.Contains(err.Error(), other) {
			t.Fatalf("second live ticket: %v, want 409 ticket_exists naming %s", err, other)
		}
	}
	v := f.note(f.amy, "cin_visit", "CIN visit; pasted email below.")
	rm := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: v, Reason: "pasted"}
	if err := raise(rm); err != nil {
		t.Fatal(err)
	}
	exists(raise(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: v, ToPersonID: &f.bob, Reason: "wrong child"}), rm.ID)
	exists(raise(&casefile.Ticket{Kind: casefile.TicketReopen, TargetType: "note", TargetID: v, Reason: "amend"}), rm.ID)
	if id, err := f.db.BlockingTicket(f.ctx, "note", v); err != nil || id != rm.ID {
		t.Fatalf("the ticket in the way: %q %v", id, err)
	}

	// The removal fails (a hold); a re-index is then allowed, and the
	// removal's retry is refused while the re-index is live.
	h := f.hold(f.amy)
	if _, err := f.db.ApproveTicket(f.ict, rm.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.processor().Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketFailed {
		t.Fatalf("removal under a hold: %s", got.State)
	}
	ri := &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: v, ToPersonID: &f.bob, Reason: "wrong child"}
	if err := raise(ri); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.RetryTicket(f.ict, rm.ID)
	exists(err, ri.ID)
	// What a scan raising the removal again is told: the re-index is in the way.
	if id, err := f.db.BlockingTicket(f.ctx, "note", v); err != nil || id != ri.ID {
		t.Fatalf("the ticket in the way of a new removal: %q %v", id, err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketFailed {
		t.Fatalf("refused retry left the removal %s", got.State)
	}
	if _, err := f.db.RejectTicket(f.ict, ri.ID, "not needed"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ReleaseHold(f.ctx, h.ID, "over"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RetryTicket(f.ict, rm.ID); err != nil {
		t.Fatalf("retry once nothing else is live: %v", err)
	}
	// Tickets on other targets are not affected.
	other := f.note(f.amy, "contact", "another note")
	if err := raise(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: other, ToPersonID: &f.bob, Reason: "wrong child"}); err != nil {
		t.Fatal(err)
	}
}
