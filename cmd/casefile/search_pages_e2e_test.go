package main

import (
	"strings"
	"testing"

	"github.com/council/casefile/internal/browser"
)

// TestSearchAndThirdPartyPages walks, in Chromium with the keyboard and
// axe-core on every page: the person finder's search box; the record's
// search box and its results, the matches marked and the text escaped; a
// note that names an unrelated person warned of before it is saved, then
// confirmed; another edited until it names no one; and ICT's list of the
// stored notes that name someone.
func TestSearchAndThirdPartyPages(t *testing.T) {
	s := startService(t, nil)
	practitioner, ict := s.token("practitioner"), s.token("ict")
	mk := func(ref, given, family string) string {
		return s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": ref, "given_name": given,
			"family_name": family, "date_of_birth": "2015-06-14"})["id"].(string)
	}
	amelia := mk("NF-40001", "Amelia", "Okafor")
	mk("NF-40002", "Jayden", "Price")
	s.must(201, "POST", "/v1/persons/"+amelia+"/notes", s.Admin, map[string]any{"type": "home_visit",
		"occurred_at": "2026-02-01T10:00:00Z", "body": "Saw the new trampoline in the garden. Mum wrote <script>alert(1)</script> on the board."})
	s.upload(amelia, s.Admin, "trampoline-letter.txt", "text/plain", []byte("A letter."))
	r := s.do("POST", "/v1/persons/"+amelia+"/documents", s.Admin,
		[]byte("From: school@example.org\r\nTo: duty@example.org\r\nSubject: Trampoline accident\r\n\r\nAmelia hurt her wrist on a trampoline at school."),
		"Content-Type", "message/rfc822")
	if r.Status != 201 {
		t.Fatalf("email: %d %s", r.Status, r.Body)
	}

	b := browser.New(t, s.Base)
	b.Go("/", "sign-in")
	signIn(b, practitioner)
	b.Check("finder")
	if n := browser.Eval[int](b, `document.querySelectorAll('form[role=search] input#q').length`); n != 1 {
		t.Fatalf("the person finder has %d search boxes", n)
	}
	b.TabTo("#q")
	b.Type("Okafor")
	b.Enter()
	b.Check("finder-results")
	b.TabTo(`a[href="/persons/` + amelia + `"]`)
	b.Enter()

	// Search the record, with the keyboard.
	b.TabTo("#q")
	b.Type("trampoline")
	b.Enter()
	if b.Path() != "/persons/"+amelia+"/search?q=trampoline" {
		t.Fatalf("searching the record led to %s", b.Path())
	}
	b.Check("record-search-results")
	if got := b.Text("main"); !strings.Contains(got, "3 results") || !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("results = %q, want 3 results and the note's text as written", got)
	}
	marks := browser.Eval[[]string](b, `Array.from(document.querySelectorAll('main mark')).map(m => m.textContent.toLowerCase())`)
	if len(marks) < 3 || !contains(marks, "trampoline") {
		t.Errorf("marked words %q", marks)
	}
	if n := browser.Eval[int](b, `document.querySelectorAll('main script').length`); n != 0 {
		t.Errorf("a note's text made %d script elements", n)
	}
	for _, sel := range []string{`a[href^="/notes/"]`, `a[href^="/documents/"]`} {
		if n := browser.Eval[int](b, `document.querySelectorAll('.casefile-results `+sel+`').length`); n == 0 {
			t.Errorf("no result links %s", sel)
		}
	}
	b.TabTo(`.casefile-results a[href^="/notes/"]`)
	b.Enter()
	if !strings.HasPrefix(b.Path(), "/notes/") {
		t.Fatalf("the note's result led to %s", b.Path())
	}
	b.Go("/persons/"+amelia+"/search?q=", "search-empty")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter words to search for") {
		t.Errorf("empty search: %q", got)
	}

	// A note naming an unrelated child: warned before saving, then confirmed.
	write := func(name, body string) {
		b.Go("/persons/"+amelia+"/notes/new", name)
		b.TabTo("#type")
		b.Type("Contact")
		b.TabTo("#body")
		b.Type(body)
		b.TabTo(`form[action$="/notes"] button[type=submit]`)
		b.Enter()
	}
	write("note-naming", "Amelia said Jayden Price pushed her at school.")
	b.Check("third-party-warning")
	if got := b.Text("#third-party"); !strings.Contains(got, "“Jayden Price”") || !strings.Contains(got, "has not been saved") {
		t.Fatalf("warning = %q", got)
	}
	if got := browser.Eval[string](b, `document.querySelector('#body').value`); got != "Amelia said Jayden Price pushed her at school." {
		t.Errorf("text not kept: %q", got)
	}
	b.TabTo(`form[action$="/notes"] button[type=submit]`)
	b.Enter()
	if !strings.HasPrefix(b.Path(), "/notes/") {
		t.Fatalf("confirming led to %s: %s", b.Path(), b.Text("main"))
	}
	b.Check("third-party-confirmed")

	// Another, edited to leave the name out: saved with no second warning.
	write("note-naming-2", "Jayden Price was at the door again.")
	b.Check("third-party-warning-2")
	b.TabTo(`a[href="#body"]`)
	b.Enter()
	browser.Eval[bool](b, `(document.querySelector('#body').value = 'A boy from school was at the door again.', true)`)
	b.TabTo(`form[action$="/notes"] button[type=submit]`)
	b.Enter()
	if !strings.HasPrefix(b.Path(), "/notes/") {
		t.Fatalf("saving the edited note led to %s: %s", b.Path(), b.Text("main"))
	}
	notes := s.must(200, "GET", "/v1/persons/"+amelia+"/notes", s.Admin, nil)["items"].([]any)
	if len(notes) != 3 {
		t.Fatalf("%d notes on the record, want 3 (the first, the confirmed, the edited)", len(notes))
	}

	// ICT lists the stored notes that name someone.
	desk := browser.New(t, s.Base)
	desk.Go("/", "ict-sign-in")
	signIn(desk, ict)
	desk.Check("ict-queue")
	desk.TabTo(`a[href="/scan#third-party"]`)
	desk.Enter()
	desk.TabTo(`form[action="/scan/third-party"] button`)
	desk.Enter()
	desk.Check("third-party-list")
	if got := desk.Text("main"); !strings.Contains(got, "1 naming someone else") || !strings.Contains(got, "“Jayden Price”") {
		t.Errorf("ICT's list = %q", got)
	}
}
