package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/internal/browser"
)

// signIn signs in through the token form with the keyboard alone, from
// wherever the browser was sent to sign in.
func signIn(b *browser.Browser, token string) {
	b.TabTo("#token")
	b.Type(token)
	b.Enter()
}

// TestPagesJourney walks issue 13's journey in Chromium, every page checked
// with axe-core and photographed, the main path on the keyboard alone: sign
// in, find a person, drop an .msg and an .eml onto the record and see them
// filed, drop the .msg again and see it is already on the record, write a
// note, have a pasted email refused inline, raise a removal ticket for the
// .msg, sign in as an ICT person, approve it, and see the document's content
// gone.
func TestPagesJourney(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_COUNCIL_NAME": "Northfield Council", "CASEFILE_COUNCIL_COLOUR": "#005a8c",
		"CASEFILE_MAX_UPLOAD_BYTES": "1048576"})
	practitioner, ict := s.token("practitioner"), s.token("ict")
	p := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{
		"external_ref": "NF-20417", "given_name": "Amelia", "family_name": "Okafor", "date_of_birth": "2015-06-14"})
	personID := p["id"].(string)
	s.must(201, "POST", "/v1/persons/"+personID+"/involvements", s.Admin, map[string]any{"kind": "child_in_need", "started_on": "2025-09-01"})
	msg, err := os.ReadFile("testdata/pages/quick.msg")
	if err != nil {
		t.Fatal(err)
	}
	eml, err := os.ReadFile("testdata/pages/attachment.eml")
	if err != nil {
		t.Fatal(err)
	}

	b := browser.New(t, s.Base)
	b.Go("/", "sign-in")
	if !strings.HasPrefix(b.Path(), "/auth/login") {
		t.Fatalf("not signed in: sent to %s, want the sign-in page", b.Path())
	}
	signIn(b, practitioner)
	if b.Path() != "/persons" {
		t.Fatalf("after signing in: at %s, want /persons", b.Path())
	}
	b.Check("find-a-person")

	// Find the person by reference, with the keyboard.
	b.TabTo("#q")
	b.Type("NF-20417")
	b.Enter()
	if b.Path() != "/persons/"+personID {
		t.Fatalf("finding NF-20417 led to %s", b.Path())
	}
	b.Check("record-empty")
	if got := b.Text(".moj-identity-bar"); !strings.Contains(got, "Amelia Okafor") || !strings.Contains(got, "NF-20417") || !strings.Contains(got, "14 June 2015") {
		t.Errorf("identity bar = %q, want name, reference and date of birth", got)
	}

	// The drop zone has a file input behind it that the keyboard reaches.
	b.TabTo("#files")

	// Drop an .msg and an .eml on the record: a real drop event with files.
	b.Drop("[data-casefile-dropzone]", browser.File{Name: "quick.msg", Type: "application/vnd.ms-outlook", Data: msg},
		browser.File{Name: "attachment.eml", Type: "message/rfc822", Data: eml})
	b.WaitFor(`document.querySelectorAll('[data-outcome]').length === 2`)
	outcomes := browser.Eval[[]string](b, `Array.from(document.querySelectorAll('[data-outcome]')).map(r => r.dataset.outcome + ' ' + r.querySelector('dt').textContent)`)
	for _, want := range []string{"filed quick.msg", "filed attachment.eml"} {
		if !contains(outcomes, want) {
			t.Errorf("outcomes %q, want %q", outcomes, want)
		}
	}
	msgHref := browser.Eval[string](b, `Array.from(document.querySelectorAll('[data-outcome]')).find(r => r.querySelector('dt').textContent === 'quick.msg').querySelector('a').getAttribute('href')`)
	b.Check("files-dropped")

	// The same .msg again: good news, with a link to the one on file.
	b.Drop("[data-casefile-dropzone]", browser.File{Name: "quick.msg", Type: "application/vnd.ms-outlook", Data: msg})
	b.WaitFor(`document.querySelectorAll('[data-outcome]').length === 3`)
	last := browser.Eval[[]string](b, `(() => { const r = Array.from(document.querySelectorAll('[data-outcome]')).pop(); return [r.dataset.outcome, r.textContent, r.querySelector('a').getAttribute('href')] })()`)
	if last[0] != "duplicate" || !strings.Contains(last[1], "Already on this record") || last[2] != msgHref {
		t.Errorf("second drop of quick.msg: %q, want duplicate linking to %s", last, msgHref)
	}
	b.Check("duplicate-dropped")

	// A file over the limit is refused before it is sent, in words.
	b.Drop("[data-casefile-dropzone]", browser.File{Name: "scan.pdf", Type: "application/pdf", Data: make([]byte, 1<<20+1)})
	b.WaitFor(`document.querySelectorAll('[data-outcome]').length === 4`)
	last = browser.Eval[[]string](b, `(() => { const r = Array.from(document.querySelectorAll('[data-outcome]')).pop(); return [r.dataset.outcome, r.textContent] })()`)
	if last[0] != "refused" || !strings.Contains(last[1], "larger than the 1.0 MB allowed") {
		t.Errorf("a file over the limit: %q", last)
	}
	b.Check("too-large-dropped")
	if n := len(s.must(200, "GET", "/v1/persons/"+personID+"/documents", s.Admin, nil)["items"].([]any)); n != 2 {
		t.Errorf("%d documents on the record, want the two emails", n)
	}

	// The chronology shows both emails; the .msg's page shows its headers
	// and text.
	b.Go("/persons/"+personID, "record-with-emails")
	if got := b.Text(".moj-timeline"); !strings.Contains(got, "Email: Test the content transformer") || !strings.Contains(got, "Email: Attachment") {
		t.Errorf("chronology = %q, want both emails", got)
	}
	b.Go(msgHref, "email")
	if got := b.Text("main"); !strings.Contains(got, "Kevin Roast") || !strings.Contains(got, "The quick brown fox") {
		t.Errorf("email page = %q, want its sender and text", got)
	}

	// Write a note, with the keyboard alone.
	b.Go("/persons/"+personID, "record")
	b.TabTo(`a[href="/persons/` + personID + `/notes/new"]`)
	b.Enter()
	b.Check("new-note")
	b.TabTo("#type")
	b.Type("Home visit")
	b.TabTo("#body")
	b.Type("Visited Amelia at home. She showed me her drawings and said school is going well.")
	b.TabTo("form button[type=submit]")
	b.Enter()
	if !strings.HasPrefix(b.Path(), "/notes/") {
		t.Fatalf("saving the note led to %s: %s", b.Path(), b.Text("main"))
	}
	b.Check("note-recorded")
	if got := b.Text(".govuk-notification-banner"); !strings.Contains(got, "Your note was added") {
		t.Errorf("banner = %q", got)
	}

	// The chronology opens newest first (the note, written now, before the
	// emails); a link, reached with the keyboard, turns it oldest first and
	// the address keeps the order.
	b.Go("/persons/"+personID, "record-newest-first")
	if got := b.Text(".moj-timeline__item"); !strings.Contains(got, "Home visit") {
		t.Errorf("newest first, the first entry = %q, want the note just written", got)
	}
	b.TabTo(`a[href="/persons/` + personID + `?order=oldest"]`)
	b.Enter()
	b.Check("record-oldest-first")
	if b.Path() != "/persons/"+personID+"?order=oldest" {
		t.Errorf("oldest first at %s", b.Path())
	}
	if got := b.Text(".moj-timeline__item"); !strings.HasPrefix(strings.TrimSpace(got), "Email:") {
		t.Errorf("oldest first, the first entry = %q, want an email", got)
	}

	// A pasted email is refused inline, with the text kept and a link to
	// the upload.
	b.Go("/persons/"+personID+"/notes/new", "new-note-2")
	b.TabTo("#type")
	b.Type("Contact")
	b.TabTo("#body")
	pasted := "Spoke to school.\nFrom: Jo Bloggs <jo.bloggs@school.example>\nSent: 02 March 2026 10:14\nTo: Social Worker\nSubject: Amelia\n\nHi, just to let you know."
	b.Type(pasted)
	b.TabTo("form button[type=submit]")
	b.Enter()
	b.Check("pasted-email-refused")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "pasted email") || !strings.Contains(got, "upload the email as a document") {
		t.Errorf("error summary = %q, want the policy's words", got)
	}
	if got := browser.Eval[string](b, `document.querySelector('#body').value`); got != pasted {
		t.Errorf("the note's text was not kept as typed: %q", got)
	}
	if n := browser.Eval[int](b, `document.querySelectorAll('a[href="/persons/`+personID+`#upload"]').length`); n == 0 {
		t.Error("no link to upload the email instead")
	}

	// Raise a removal ticket for the .msg, with the keyboard.
	b.Go(msgHref, "email-again")
	b.TabTo(`a[href*="kind=removal"]`)
	b.Enter()
	b.Check("raise-removal")
	b.TabTo("#reason")
	b.Type("This email was filed on the wrong family's record by mistake and names another child.")
	b.TabTo("form button[type=submit]")
	b.Enter()
	b.Check("removal-raised")
	ticketHref := browser.Eval[string](b, `document.querySelector('.govuk-notification-banner a').getAttribute('href')`)

	// An ICT person signs in, finds it in the queue and approves it.
	desk := browser.New(t, s.Base)
	desk.Go("/", "ict-sign-in")
	signIn(desk, ict)
	if desk.Path() != "/tickets" {
		t.Fatalf("ICT lands on %s, want the ticket queue", desk.Path())
	}
	desk.Check("ticket-queue")
	desk.TabTo(`a[href="` + ticketHref + `"]`)
	desk.Enter()
	desk.Check("ticket")
	if got := desk.Text("main"); !strings.Contains(got, "names another child") || !strings.Contains(got, "quick.msg") {
		t.Errorf("ticket page = %q, want the reason and what it targets", got)
	}
	desk.TabTo(`form[action$="/approve"] button`)
	desk.Enter()
	desk.Check("ticket-approved")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(desk.Text("h1"), "Done") {
		if time.Now().After(deadline) {
			t.Fatalf("the approved removal was not carried out: %s", desk.Text("main"))
		}
		time.Sleep(200 * time.Millisecond)
		desk.Go(ticketHref, "ticket-waiting")
	}
	desk.Check("ticket-done")

	// The practitioner sees the document's content gone: no text, no
	// download, a record that it existed.
	b.Go(msgHref, "email-removed")
	if got := b.Text("main"); !strings.Contains(got, "content of this document was removed") || strings.Contains(got, "The quick brown fox") {
		t.Errorf("removed email page = %q", got)
	}
	if n := browser.Eval[int](b, `document.querySelectorAll('a[href$="/download"]').length`); n != 0 {
		t.Error("the removed email still offers a download")
	}
	b.Go(msgHref+"/download", "download-removed")
	if got := b.Text("h1"); got != "This content has gone" {
		t.Errorf("download of removed email: %q", got)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
