package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/internal/browser"
)

// TestDisclosurePagesJourney is the records officer's journey in Chromium,
// every page checked with axe-core and photographed: open a disclosure from
// a record, read its items, redact a suggested name, redact words by typing
// them (the form without script) and by selecting text (the script), be
// refused a span out of range with the form kept, withhold a document,
// finalise, have a colleague approve, and download the bundle.
func TestDisclosurePagesJourney(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_DISCLOSURE_APPROVERS": "2"})
	ro, ro2 := s.token("records_officer"), s.token("records_officer")
	subject := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "NF-30511",
		"given_name": "Amelia", "family_name": "Okafor", "date_of_birth": "2015-06-14"})["id"].(string)
	s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "NF-30999",
		"given_name": "Jayden", "family_name": "Brightwater", "date_of_birth": "2013-02-02"})
	note := s.must(201, "POST", "/v1/persons/"+subject+"/notes", s.Admin, map[string]any{"type": "contact",
		"occurred_at": "2026-03-01T10:00:00Z",
		"body":        "Amelia said Jayden Brightwater took her bike. Her aunt Morwenna visits on Sundays. Amelia enjoys swimming."})["id"].(string)
	doc := s.upload(subject, s.Admin, "police-report.txt", "text/plain", []byte("Police report about another family."))
	if doc.Status != 201 {
		t.Fatalf("upload: %d %s", doc.Status, doc.Body)
	}
	docID := doc.JSON()["id"].(string)
	waitForTexts(t, s, s.Admin, subject)

	b := browser.New(t, s.Base)
	b.Go("/persons/"+subject, "sign-in")
	signIn(b, ro)
	b.Check("record")
	b.TabTo(`a[href="/persons/` + subject + `/disclosures"]`)
	b.Enter()
	b.Check("disclosures-none")

	// Open one with the keyboard: a subject access request, today.
	b.TabTo("#requester")
	b.Type("Amelia Okafor")
	b.TabTo(`form[action$="/disclosures"] button[type=submit]`)
	b.Enter()
	if !strings.HasPrefix(b.Path(), "/disclosures/") {
		t.Fatalf("opening a disclosure led to %s: %s", b.Path(), b.Text("main"))
	}
	review := b.Path()
	b.Check("review")
	if got := b.Text("#text-" + note); !strings.Contains(got, "Jayden Brightwater took her bike") {
		t.Errorf("the note's text on the review page: %q", got)
	}

	// The suggested name: redact it with the keyboard.
	if got := b.Text(".casefile-suggestions"); !strings.Contains(got, "Jayden Brightwater") {
		t.Fatalf("suggestions: %q", got)
	}
	b.TabTo(`.casefile-suggestion button[value=accept]`)
	b.Enter()
	b.Check("suggestion-accepted")
	if got := b.Text("#text-" + note + " del"); got != "Jayden Brightwater" {
		t.Errorf("redacted span after accepting: %q", got)
	}

	// Words typed into the form (the way without script).
	openDetails(b, "#item-"+note+" details")
	b.TabTo("#phrase-" + note)
	b.Type("Morwenna")
	b.TabTo(`form[data-casefile-redact-form="` + note + `"] button[type=submit]`)
	b.Enter()
	b.Check("phrase-redacted")
	if n := browser.Eval[int](b, `document.querySelectorAll('#text-`+note+` del').length`); n != 2 {
		t.Errorf("%d redacted spans after redacting a phrase, want 2", n)
	}

	// A span out of range is refused in words, the form kept as typed.
	openDetails(b, "#item-"+note+" details")
	b.TabTo("#start-" + note)
	b.Type("5")
	b.TabTo("#end-" + note)
	b.Type("5000")
	b.TabTo(`form[data-casefile-redact-form="` + note + `"] button[type=submit]`)
	b.Enter()
	b.Check("span-refused")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "characters") {
		t.Errorf("error summary: %q", got)
	}
	if got := browser.Eval[string](b, `document.querySelector('#end-`+note+`').value`); got != "5000" {
		t.Errorf("the refused form was not kept: end = %q", got)
	}

	// Select text (the script fills the positions), then redact it.
	b.Go(review, "review-again")
	openDetails(b, "#item-"+note+" details")
	sel := browser.Eval[string](b, `(() => {
		const el = document.querySelector('#text-`+note+`');
		const node = Array.from(el.childNodes).find(n => n.nodeType === 3 && n.textContent.includes('swimming'));
		const i = node.textContent.indexOf('swimming');
		const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 8);
		const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
		el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
		return document.querySelector('#start-`+note+`').value + '-' + document.querySelector('#end-`+note+`').value;
	})()`)
	text := "Amelia said Jayden Brightwater took her bike. Her aunt Morwenna visits on Sundays. Amelia enjoys swimming."
	i := strings.Index(text, "swimming")
	if want := fmt.Sprintf("%d-%d", i, i+8); sel != want {
		t.Errorf("selecting 'swimming' filled %s, want %s", sel, want)
	}
	b.Check("text-selected")
	b.TabTo(`form[data-casefile-redact-form="` + note + `"] button[type=submit]`)
	b.Enter()
	if n := browser.Eval[int](b, `document.querySelectorAll('#text-`+note+` del').length`); n != 3 {
		t.Errorf("%d redacted spans after a selection, want 3", n)
	}

	// Withhold the police report for legal privilege.
	b.TabTo("#withhold-" + docID)
	browser.Eval[bool](b, `(() => { document.querySelector("#withhold-`+docID+`").value = "legal_privilege"; return true })()`)
	b.TabTo(`form.casefile-withhold button`)
	b.Enter()
	b.Check("withheld")
	if got := b.Text("#item-" + docID); !strings.Contains(got, "Withheld") || !strings.Contains(got, "Legal privilege") {
		t.Errorf("withheld item: %q", got)
	}

	// Finalise; the finaliser cannot approve; a colleague does.
	b.TabTo(`form[action$="/finalise"] button`)
	b.Enter()
	b.Check("awaiting-approval")
	if n := browser.Eval[int](b, `document.querySelectorAll('form[action$="/approve"]').length`); n != 0 {
		t.Error("the finaliser is offered the approval")
	}
	c := browser.New(t, s.Base)
	c.Go(review, "colleague-sign-in")
	signIn(c, ro2)
	c.Check("colleague-review")
	c.TabTo(`form[action$="/approve"] button`)
	c.Enter()
	c.Check("approved")
	deadline := time.Now().Add(60 * time.Second)
	for browser.Eval[int](c, `document.querySelectorAll('a[href$="/download"]').length`) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the bundle was not built: %s", c.Text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		c.Go(review, "waiting")
	}
	c.Check("ready")
	href := browser.Eval[string](c, `document.querySelector('a[href$="/download"]').href`)
	status := browser.Eval[string](c, `(() => { const x = new XMLHttpRequest(); x.open('GET', '`+href+`', false); x.send(); return x.status + ' ' + x.getResponseHeader('content-type') })()`)
	if status != "200 application/zip" {
		t.Errorf("download: %s", status)
	}
}

// openDetails opens a details element (a keyboard user presses Enter on its
// summary; the state is what matters here).
func openDetails(b *browser.Browser, sel string) {
	browser.Eval[bool](b, `(document.querySelector('`+sel+`').open = true)`)
}
