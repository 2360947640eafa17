package main

import (
	"strings"
	"testing"

	"github.com/council/casefile/internal/browser"
)

// On an email's page a practitioner files it on a sibling's record too,
// with the keyboard alone: the form offers the record's siblings (not its
// other relatives), refuses a submission with none chosen in words, and
// once filed links to the sibling's copy. Every page is checked with
// axe-core and photographed.
func TestPagesFileAnEmailOnASiblingsRecord(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	amy, rory, mum := s.person("SIB-AMY", "2014-02-28"), s.person("SIB-RORY", "2016-07-01"), s.person("SIB-MUM", "1990-01-01")
	s.must(201, "POST", "/v1/persons/"+amy+"/relationships", prac, map[string]any{"to_person_id": rory, "kind": "sibling"})
	s.must(201, "POST", "/v1/persons/"+amy+"/relationships", prac, map[string]any{"to_person_id": mum, "kind": "parent"})
	email := "From: head@school.example.org\r\nSubject: Amy and Rory's attendance\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nBoth children were absent on Monday.\r\n--B\r\nContent-Type: application/pdf\r\n" +
		"Content-Disposition: attachment; filename=register.pdf\r\n\r\n%PDF-1.4 register\r\n--B--\r\n"
	doc := s.must(201, "POST", "/v1/persons/"+amy+"/documents?filename=attendance.eml", prac, []byte(email), "Content-Type", "message/rfc822")
	docID := doc["id"].(string)
	attID := doc["attachments"].([]any)[0].(map[string]any)["id"].(string)

	b := browser.New(t, s.Base)
	b.Go("/documents/"+docID, "sign-in")
	signIn(b, prac)
	b.Check("email-with-sibling")
	form := b.Text(`form[action="/documents/` + docID + `/links"]`)
	if !strings.Contains(form, "Also file on a sibling's record") || !strings.Contains(form, "SIB-RORY") || strings.Contains(form, "SIB-MUM") {
		t.Fatalf("the link form = %q, want Rory offered and not Mum", form)
	}

	// Sent with no sibling chosen: refused in words, the form kept.
	b.TabTo(`form[action$="/links"] button`)
	b.Enter()
	b.Check("link-none-chosen")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Choose the sibling") {
		t.Fatalf("error summary = %q", got)
	}

	b.TabTo("#link-person")
	b.Space()
	b.TabTo(`form[action$="/links"] button`)
	b.Enter()
	b.Check("linked")
	if got := b.Text(".govuk-notification-banner"); !strings.Contains(got, "Also filed on the sibling's record") {
		t.Fatalf("banner = %q", got)
	}
	if n := browser.Eval[int](b, `document.querySelectorAll('form[action$="/links"]').length`); n != 0 {
		t.Error("the page still offers to file it on Rory's record, where it now is")
	}
	if got := b.Text("main"); !strings.Contains(got, "Also on a sibling's record") || !strings.Contains(got, "SIB-RORY") {
		t.Errorf("after linking the page = %q, want Rory's copy listed", got)
	}
	b.TabTo(".govuk-notification-banner a")
	b.Enter()
	b.Check("sibling-copy")
	if got := b.Text(".moj-identity-bar"); !strings.Contains(got, "SIB-RORY") {
		t.Fatalf("the copy is on %q, want Rory's record", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "Both children were absent") || !strings.Contains(got, "register.pdf") {
		t.Errorf("Rory's copy = %q, want the email's text and its attachment", got)
	}
	docs := s.must(200, "GET", "/v1/persons/"+rory+"/documents", prac, nil)["items"].([]any)
	if len(docs) != 1 || docs[0].(map[string]any)["linked_from"] != docID {
		t.Fatalf("Rory's documents = %v", docs)
	}

	// An attachment's page offers no link: its email is linked with it.
	b.Go("/documents/"+attID, "attachment-no-link")
	if n := browser.Eval[int](b, `document.querySelectorAll('form[action$="/links"]').length`); n != 0 {
		t.Error("an attachment's page offers to link it alone")
	}
}
