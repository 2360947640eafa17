package tickets

import (
	"context"
	"testing"

	"github.com/council/casefile"
)

// No one acts alone on what cannot be undone: a ticket is approved by
// someone other than who raised it (compared by the actor's id, not the
// name a token happens to carry), and a removal raised by ICT needs a
// second ICT person, not an admin. The raiser may still withdraw their own
// ticket by rejecting it: that changes nothing on the record.
func TestApprovalNeedsASecondPerson(t *testing.T) {
	f := newFixture(t)
	as := func(id, name string, role casefile.Role) context.Context {
		return casefile.WithActor(context.Background(), casefile.Actor{ID: id, Kind: casefile.ActorToken, Name: name, Role: role})
	}
	prac := as("tok-prac", "Jo Bloggs", casefile.RolePractitioner)
	ann := as("tok-ann", "Ann (ICT)", casefile.RoleICT)
	annRenamed := as("tok-ann", "A. N. Other", casefile.RoleICT)
	ann2 := as("tok-ann-2", "Ann (ICT)", casefile.RoleICT) // another person who happens to share the name
	admin := as("tok-admin", "Admin", casefile.RoleAdmin)
	raise := func(ctx context.Context, tk *casefile.Ticket) *casefile.Ticket {
		t.Helper()
		if err := f.db.CreateTicket(ctx, tk); err != nil {
			t.Fatalf("raise %s: %v", tk.Kind, err)
		}
		return tk
	}
	refused := func(ctx context.Context, id, code string) {
		t.Helper()
		if _, err := f.db.ApproveTicket(ctx, id); casefile.ErrorKind(err) != casefile.EConflict || casefile.ErrorCode(err) != code {
			t.Fatalf("approval: %v, want 409 %s", err, code)
		}
		if got := f.ticket(id); got.State != casefile.TicketOpen {
			t.Fatalf("after a refused approval the ticket is %s", got.State)
		}
	}
	approve := func(ctx context.Context, id string) {
		t.Helper()
		if got, err := f.db.ApproveTicket(ctx, id); err != nil || got.State != casefile.TicketApproved {
			t.Fatalf("approval: %+v %v", got, err)
		}
	}

	// An ICT person's removal: not by themselves (whatever the token is
	// called now), not by an admin, but by a second ICT person.
	rm := raise(ann, &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: f.note(f.amy, "contact", "pasted"), Reason: "pasted"})
	refused(ann, rm.ID, "same_person")
	refused(annRenamed, rm.ID, "same_person")
	refused(admin, rm.ID, "second_ict_required")
	approve(ann2, rm.ID)
	if got := f.ticket(rm.ID); got.DecidedBy != "Ann (ICT)" || got.RaisedBy != "Ann (ICT)" {
		t.Fatalf("ticket = %+v", got)
	}

	// A practitioner's removal: one ICT person (or an admin) who is not the raiser.
	rm2 := raise(prac, &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: f.note(f.amy, "contact", "pasted 2"), Reason: "pasted"})
	approve(admin, rm2.ID)

	// Other kinds: anyone entitled to decide but the raiser.
	ri := raise(ann, &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: f.note(f.amy, "contact", "Bob's"), ToPersonID: &f.bob, Reason: "wrong child"})
	refused(ann, ri.ID, "same_person")
	approve(admin, ri.ID)

	// Withdrawing one's own ticket is allowed: nothing is undone by it.
	ro := raise(ann, &casefile.Ticket{Kind: casefile.TicketReopen, TargetType: "note", TargetID: f.note(f.amy, "cin_visit", "CIN visit."), Reason: "typo"})
	if got, err := f.db.RejectTicket(ann, ro.ID, "raised by mistake"); err != nil || got.State != casefile.TicketRejected {
		t.Fatalf("raiser rejecting their own ticket: %+v %v", got, err)
	}

	// A ticket raised before ids were recorded is compared by name.
	old := raise(ann, &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: f.note(f.amy, "contact", "pasted 3"), Reason: "pasted"})
	if _, err := f.db.Pool().Exec(f.ctx, "UPDATE tickets SET raised_by_id = NULL, raised_by_role = NULL WHERE id = $1", old.ID); err != nil {
		t.Fatal(err)
	}
	refused(ann2, old.ID, "same_person")
	approve(as("tok-bea", "Bea (ICT)", casefile.RoleICT), old.ID)

	if a := f.actions(); a["ticket.approve"] != 4 || a["ticket.reject"] != 1 {
		t.Fatalf("audit: %v", a)
	}
}
