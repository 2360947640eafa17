package main

import (
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/internal/browser"
)

// TestICTJourneys walks the ICT service desk's journeys in Chromium, on the
// keyboard alone, every page checked with axe-core and photographed: run the
// pasted-email scan over the notes on file and raise its tickets; approve a
// practitioner's request to reopen a visit note and amend it, the earlier
// version kept; and reject a ticket, first without a reason (refused in
// words, on the form) and then with one the practitioner can read.
func TestICTJourneys(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_COUNCIL_NAME": "Northfield Council"})
	practitioner, ict := s.token("practitioner"), s.token("ict")
	p := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{
		"external_ref": "NF-30001", "given_name": "Kai", "family_name": "Mensah", "date_of_birth": "2016-03-09"})
	personID := p["id"].(string)
	// A legacy note with a pasted email, brought in before the guard existed.
	csv := "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n" +
		"OLD-1,NF-30001,contact,2019-05-01 10:00,2019-05-01 12:00,old.user,\"Spoke to school.\n-----Original Message-----\nFrom: Head Teacher <head@school.example>\nSent: 01 May 2019 09:12\nTo: Duty\nSubject: Kai\n\nKai was absent.\"\n"
	if out, err := s.cli("notes", "import", "--csv", writeTemp(t, csv)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	visit := s.must(201, "POST", "/v1/persons/"+personID+"/notes", practitioner, map[string]any{"type": "cin_visit",
		"occurred_at": "2026-02-10T14:00:00Z", "body": "Visited Kai at home with his mother. Kai said he is happy at school."})
	visitID := visit["id"].(string)
	reopen := s.must(201, "POST", "/v1/tickets", practitioner, map[string]any{"kind": "reopen", "target_type": "note", "target_id": visitID,
		"reason": "I left out that his grandmother was present; please reopen the visit note so it can be amended."})
	contact := s.must(201, "POST", "/v1/persons/"+personID+"/notes", practitioner, map[string]any{"type": "contact",
		"occurred_at": "2026-02-11T09:00:00Z", "body": "Phoned Kai's mother to arrange the next visit."})
	removal := s.must(201, "POST", "/v1/tickets", practitioner, map[string]any{"kind": "removal", "target_type": "note",
		"target_id": contact["id"], "reason": "Not sure this should be here."})

	desk := browser.New(t, s.Base)
	desk.Go("/", "sign-in")
	signIn(desk, ict)
	if desk.Path() != "/tickets" {
		t.Fatalf("ICT lands on %s, want the ticket queue", desk.Path())
	}
	desk.Check("queue")

	// The scan, from the service navigation, raising a ticket for what it finds.
	desk.TabTo(`a[href="/scan"]`)
	desk.Enter()
	desk.Check("scan")
	desk.TabTo("#raise_tickets")
	desk.Space()
	desk.TabTo(`form[action="/scan"] button[type=submit]`)
	desk.Enter()
	desk.Check("scan-result")
	if got := desk.Text("[role=status]"); !strings.Contains(got, "1 with a pasted email, 1 ticket raised") {
		t.Errorf("scan result = %q, want one found and one ticket raised", got)
	}
	scanTicket := browser.Eval[string](desk, `document.querySelector('table a[href^="/tickets/"]').getAttribute('href')`)
	desk.TabTo(`a[href="` + scanTicket + `"]`)
	desk.Enter()
	desk.Check("scan-ticket")
	if got := desk.Text("main"); !strings.Contains(got, "-----Original Message-----") || !strings.Contains(got, "pasted-email scan") {
		t.Errorf("the scan's ticket = %q, want the pasted text to judge and its source", got)
	}

	// Reopen the visit note: approve the practitioner's ticket, then amend.
	reopenHref := "/tickets/" + reopen["id"].(string)
	desk.Go("/tickets", "queue-after-scan")
	desk.TabTo(`a[href="` + reopenHref + `"]`)
	desk.Enter()
	desk.Check("reopen-ticket")
	desk.TabTo(`form[action$="/approve"] button`)
	desk.Enter()
	desk.Check("reopen-approved")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(desk.Text("h1"), "Done") {
		if time.Now().After(deadline) {
			t.Fatalf("the approved reopen was not carried out: %s", desk.Text("main"))
		}
		time.Sleep(200 * time.Millisecond)
		desk.Go(reopenHref, "reopen-waiting")
	}
	desk.Check("reopen-done")
	desk.TabTo(`a[href="/notes/` + visitID + `/amend"]`)
	desk.Enter()
	desk.Check("amend")
	// Without a reason the amendment is refused on the form, the text kept.
	desk.TabTo("#body")
	desk.Type("Amended: his grandmother was also present. ")
	desk.TabTo(`form[action$="/amend"] button[type=submit]`)
	desk.Enter()
	desk.Check("amend-without-reason")
	if got := desk.Text(".govuk-error-summary"); got == "" {
		t.Error("an amendment without a reason was not refused in words")
	}
	if got := browser.Eval[string](desk, `document.querySelector('#body').value`); !strings.HasPrefix(got, "Amended: his grandmother") {
		t.Errorf("the amended text was not kept as typed: %q", got)
	}
	desk.TabTo("#reason")
	desk.Type("The practitioner left out who was present (reopen ticket).")
	desk.TabTo(`form[action$="/amend"] button[type=submit]`)
	desk.Enter()
	desk.Check("amended")
	if desk.Path() != "/notes/"+visitID+"?amended=1" {
		t.Fatalf("after amending: at %s\n%s", desk.Path(), desk.Text("main"))
	}
	main := desk.Text("main")
	if !strings.Contains(main, "The visit note was amended") || !strings.Contains(main, "Amended: his grandmother was also present.") ||
		!strings.Contains(main, "Version 1") || !strings.Contains(main, "Version 2") {
		t.Errorf("amended note page = %q, want the banner, the new text and both versions", main)
	}
	versions := s.must(200, "GET", "/v1/notes/"+visitID+"/versions", s.Admin, nil)["items"].([]any)
	if len(versions) != 2 || !strings.HasPrefix(versions[0].(map[string]any)["body"].(string), "Visited Kai at home") {
		t.Errorf("versions = %v, want the first kept and the amendment", versions)
	}

	// Reject the removal ticket: first without a reason, then with one.
	removalHref := "/tickets/" + removal["id"].(string)
	desk.Go(removalHref, "removal-ticket")
	desk.TabTo(`form[action$="/reject"] button`)
	desk.Enter()
	desk.Check("reject-without-reason")
	if got := desk.Text(".govuk-error-summary"); !strings.Contains(got, "Enter why you are rejecting") {
		t.Errorf("rejecting without a reason: %q", got)
	}
	desk.TabTo("#reason")
	desk.Type("The note records a phone call and holds no pasted email; it stays on the record.")
	desk.TabTo(`form[action$="/reject"] button`)
	desk.Enter()
	desk.Check("rejected")
	if got := desk.Text("main"); !strings.Contains(got, "Ticket rejected") || !strings.Contains(got, "holds no pasted email") {
		t.Errorf("rejected ticket page = %q", got)
	}
	tk := s.must(200, "GET", "/v1/tickets/"+removal["id"].(string), practitioner, nil)
	if tk["state"] != "rejected" || !strings.Contains(tk["decision_reason"].(string), "holds no pasted email") {
		t.Errorf("ticket after rejection = %v", tk)
	}
	if n := s.must(200, "GET", "/v1/notes/"+contact["id"].(string), practitioner, nil); n["status"] != "active" {
		t.Errorf("the note of a rejected removal is %v", n["status"])
	}
}
