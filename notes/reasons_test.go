package notes_test

import (
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
)

// Reasons are content: a correction's reason and an amendment's reason are
// kept with the record and read by everyone who reads it, so they meet the
// same rules as a body (no pasted email) and are bounded.
func TestReasonsAreGuardedAndCapped(t *testing.T) {
	ctx, db, svc, pid := setup(t)
	at := now.Add(-2 * 3600e9)
	orig, err := svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "cin_visit", OccurredAt: at, Body: "Seen at home with mum."})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", notes.MaxReasonChars+1)
	for _, tc := range []struct {
		name, reason, kind, code string
	}{
		{"pasted email", pasted, casefile.EUnprocessable, "pasted_email"},
		{"too long", long, casefile.EUnprocessable, "reason_too_long"},
		{"not text", "bad\x00reason", casefile.EInvalid, "invalid_text"},
	} {
		t.Run("correction/"+tc.name, func(t *testing.T) {
			_, err := svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "correction", OccurredAt: at, Body: "Seen alone too.",
				CorrectsNoteID: orig.ID, CorrectionReason: tc.reason})
			if casefile.ErrorKind(err) != tc.kind || casefile.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want %s/%s", err, tc.kind, tc.code)
			}
			if tc.code == "pasted_email" && !strings.Contains(casefile.ErrorMessage(err), "correction_reason") {
				t.Errorf("the refusal does not name the field: %q", casefile.ErrorMessage(err))
			}
		})
		t.Run("amendment/"+tc.name, func(t *testing.T) {
			_, err := svc.Amend(ctx, orig.ID, "Seen at home with mum; then alone.", tc.reason)
			if casefile.ErrorKind(err) != tc.kind || casefile.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want %s/%s", err, tc.kind, tc.code)
			}
		})
	}
	// Nothing was stored by the refusals.
	ns, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: pid})
	if err != nil || len(ns) != 1 {
		t.Fatalf("notes after refusals: %d, %v", len(ns), err)
	}
	// At the bound, and mentioning an email, a reason is accepted.
	ok := strings.Repeat("a", notes.MaxReasonChars-40) + " the school's email gave the wrong date."
	if _, err := svc.Create(ctx, notes.NewNote{PersonID: pid, Type: "correction", OccurredAt: at, Body: "Seen alone too.",
		CorrectsNoteID: orig.ID, CorrectionReason: ok}); err != nil {
		t.Fatalf("a reason at the bound was refused: %v", err)
	}
}
