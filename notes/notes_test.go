package notes_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/storage/postgres"
)

const pasted = "Copy of the school's email below.\n\nFrom: Jo Head <head@school.example.org>\nSent: 01 March 2026 08:55\n" +
	"To: Duty Team\nSubject: Amy\n\nAmy was absent again today."

func setup(t *testing.T) (context.Context, *postgres.DB, *notes.Service, string) {
	t.Helper()
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "sw.jones", Role: casefile.RolePractitioner})
	db := testenv.Postgres(t)
	dob := casefile.Date{Year: 2014, Month: 5, Day: 5}
	p := &casefile.Person{ExternalRef: "LCS-77", GivenName: "Amy", FamilyName: "Pond", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	return ctx, db, &notes.Service{Store: db, Audit: db, Now: func() time.Time { return now }}, p.ID
}

func TestCreateAppliesThePolicy(t *testing.T) {
	ctx, _, svc, pid := setup(t)
	at := now.Add(-time.Hour)
	ok, err := svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "telephone_call", OccurredAt: at,
		Body: "Emailed school re attendance, awaiting reply; will upload their email as a document."})
	if err != nil {
		t.Fatalf("a note that mentions an email was refused: %v", err)
	}
	good := ok.ID
	cases := []struct {
		name string
		in   notes.NewNote
		kind string
		code string
	}{
		{"unknown type", notes.NewNote{Type: "gossip", OccurredAt: at, Body: "x"}, casefile.EUnprocessable, "invalid_type"},
		{"no occurred_at", notes.NewNote{Type: "contact", Body: "x"}, casefile.EUnprocessable, "missing_occurred_at"},
		{"future", notes.NewNote{Type: "contact", OccurredAt: now.Add(10 * time.Minute), Body: "x"}, casefile.EUnprocessable, "occurred_in_future"},
		{"blank body", notes.NewNote{Type: "contact", OccurredAt: at, Body: " \n\t"}, casefile.EUnprocessable, "missing_body"},
		{"long body", notes.NewNote{Type: "contact", OccurredAt: at, Body: strings.Repeat("a", notes.MaxBodyChars+1)}, casefile.EUnprocessable, "body_too_long"},
		{"pasted email", notes.NewNote{Type: "contact", OccurredAt: at, Body: pasted}, casefile.EUnprocessable, "pasted_email"},
		{"forwarded", notes.NewNote{Type: "contact", OccurredAt: at, Body: "FYI\n---------- Forwarded message ---------\nFrom: x"}, casefile.EUnprocessable, "pasted_email"},
		{"correction type without note", notes.NewNote{Type: "correction", OccurredAt: at, Body: "x", CorrectionReason: "r"}, casefile.EUnprocessable, "missing_corrects_note_id"},
		{"correction without reason", notes.NewNote{Type: "correction", OccurredAt: at, Body: "x", CorrectsNoteID: good}, casefile.EUnprocessable, "missing_correction_reason"},
		{"reason without note", notes.NewNote{Type: "contact", OccurredAt: at, Body: "x", CorrectionReason: "r"}, casefile.EUnprocessable, "correction_reason_without_note"},
		{"corrects a non-id", notes.NewNote{Type: "correction", OccurredAt: at, Body: "x", CorrectsNoteID: "L-1", CorrectionReason: "r"}, casefile.EUnprocessable, "corrected_note_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.PersonID = pid
			_, err := svc.Create(ctx, tc.in)
			if casefile.ErrorKind(err) != tc.kind || casefile.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want %s/%s", err, tc.kind, tc.code)
			}
		})
	}
	_, err = svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "contact", OccurredAt: at, Body: pasted})
	msg := casefile.ErrorMessage(err)
	if !strings.Contains(msg, "upload the email as a document") || !strings.Contains(msg, "POST /v1/persons/{id}/documents") {
		t.Errorf("pasted_email message does not tell the author what to do: %q", msg)
	}
	// Any type may carry a correction; the original is untouched.
	corr, err := svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "telephone_call", OccurredAt: at, Body: "School replied: 90%.",
		CorrectsNoteID: strings.ToUpper(good), CorrectionReason: "Follow-up figure"})
	if err != nil || *corr.CorrectsNoteID != good {
		t.Fatalf("correction: %+v %v", corr, err)
	}
}

func TestScanAuditsFindingsAndRefusesTicketsUntilAvailable(t *testing.T) {
	ctx, db, svc, pid := setup(t)
	// A pasted email can only reach the store from before the guard: the legacy import.
	in := "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n" +
		"A1,LCS-77,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Home visit; all well\n" +
		"A2,LCS-77,contact,2019-01-02 10:00,2019-01-02 12:00,old.user,\"" + strings.ReplaceAll(pasted, `"`, `""`) + "\"\n"
	rep, err := svc.Import(ctx, strings.NewReader(in))
	if err != nil || len(rep.Problems) != 0 || rep.Imported != 2 || len(rep.Pasted) != 1 || rep.Pasted[0].Line != 3 ||
		rep.Pasted[0].LegacyID != "A2" || rep.Pasted[0].NoteID == "" || rep.Pasted[0].Rule != "outlook_header_block" {
		t.Fatalf("import report = %+v, %v", rep, err)
	}
	pastedID := rep.Pasted[0].NoteID
	rep, err = svc.Import(ctx, strings.NewReader(in))
	if err != nil || rep.Imported != 0 || rep.AlreadyImported != 2 {
		t.Fatalf("re-import report = %+v, %v", rep, err)
	}

	if _, err := svc.Scan(ctx, notes.ScanOptions{RaiseTickets: true}, func(notes.Finding) error { return nil }); !errors.Is(err, notes.ErrTicketsNotAvailable) {
		t.Fatalf("scan asked to raise tickets without a raiser: %v", err)
	}
	var found []notes.Finding
	sum, err := svc.Scan(ctx, notes.ScanOptions{}, func(f notes.Finding) error { found = append(found, f); return nil })
	if err != nil || sum.Scanned != 2 || sum.Found != 1 || len(found) != 1 || found[0].NoteID != pastedID || found[0].PersonID != pid || found[0].Line != 3 {
		t.Fatalf("scan = %+v %+v %v", sum, found, err)
	}
	// With a raiser (the tickets work's seam), each finding gets its ticket.
	svc.RaiseTicket = func(_ context.Context, f notes.Finding) (string, bool, error) {
		return "ticket-for-" + f.NoteID, true, nil
	}
	found = nil
	sum, err = svc.Scan(ctx, notes.ScanOptions{RaiseTickets: true}, func(f notes.Finding) error { found = append(found, f); return nil })
	if err != nil || sum.TicketsRaised != 1 || found[0].TicketID != "ticket-for-"+pastedID || !found[0].TicketCreated {
		t.Fatalf("scan raising tickets = %+v %+v %v", sum, found, err)
	}
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		count[e.Action]++
		if e.Action == "note.scan_finding" && (e.TargetID != pastedID || e.PersonID != pid || strings.Contains(string(e.Details), "Amy")) {
			t.Errorf("finding event = %+v", e)
		}
	}
	if count["note.scan_finding"] != 2 || count["notes.scan"] != 2 || count["note.create"] != 2 {
		t.Errorf("audit counts = %v", count)
	}
}
