package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
)

var (
	entryLink = regexp.MustCompile(`<h3 class="moj-timeline__title"><a class="govuk-link" href="/(notes|documents)/([0-9a-f-]{36})">`)
	pageLink  = regexp.MustCompile(`href="(/persons/[0-9a-f-]{36}\?[^"]*)" rel="(next|prev)"`)
)

// The record's chronology is shown newest first, or oldest first when the
// address says so (a link, no script), a page of 25 at a time with links to
// the pages either side that keep the order; notes and emails interleaved
// by when they happened.
func TestChronologyOrderAndPages(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "Sam", Role: casefile.RolePractitioner})
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var oldest []string // every entry's id, oldest first
	for i := 0; i < 40; i++ {
		at := start.Add(time.Duration(i) * 24 * time.Hour)
		if i%8 == 3 {
			id := uuid.Must(uuid.NewV7()).String()
			d := &casefile.Document{ID: id, PersonID: e.person, Kind: casefile.DocumentEmail, Filename: "m.eml", Title: fmt.Sprintf("Email %d", i),
				Category: "correspondence", ContentType: "message/rfc822", Size: 1, SHA256: "sha-" + id, ObjectKey: "documents/" + id,
				Email: &casefile.EmailMeta{Subject: "s", From: "school@example.org", Date: &at}}
			if err := e.db.CreateDocument(ctx, d, ""); err != nil {
				t.Fatal(err)
			}
			oldest = append(oldest, id)
			continue
		}
		n := &casefile.Note{PersonID: e.person, Type: "contact", OccurredAt: at}
		if err := e.db.CreateNote(ctx, n, fmt.Sprintf("Contact %d.", i)); err != nil {
			t.Fatal(err)
		}
		oldest = append(oldest, n.ID)
	}
	newest := slices.Clone(oldest)
	slices.Reverse(newest)

	// walk follows the "next" links from path and returns every entry seen
	// and every page's address.
	walk := func(path string) (ids, pages []string) {
		for path != "" {
			resp, body := e.do("GET", path, "", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", path, resp.StatusCode)
			}
			pages = append(pages, path)
			for _, m := range entryLink.FindAllStringSubmatch(body, -1) {
				ids = append(ids, m[2])
			}
			path = ""
			for _, m := range pageLink.FindAllStringSubmatch(body, -1) {
				if m[2] == "next" {
					path = html.UnescapeString(m[1])
				}
			}
		}
		return ids, pages
	}
	ids, pages := walk("/persons/" + e.person)
	if !slices.Equal(ids, newest) || len(pages) != 2 {
		t.Fatalf("newest first: %d entries on %d pages, want the 40 newest first on 2 pages", len(ids), len(pages))
	}
	ids, pages = walk("/persons/" + e.person + "?order=oldest")
	if !slices.Equal(ids, oldest) || len(pages) != 2 || !strings.Contains(pages[1], "order=oldest") {
		t.Fatalf("oldest first: %d entries, pages %v", len(ids), pages)
	}

	// The second page links back to the first, in the same order.
	_, body := e.do("GET", pages[1], "", nil)
	var prev string
	for _, m := range pageLink.FindAllStringSubmatch(body, -1) {
		if m[2] == "prev" {
			prev = html.UnescapeString(m[1])
		}
	}
	if prev == "" {
		t.Fatal("the second page has no link to the first")
	}
	back, _ := walk(prev)
	if !slices.Equal(back, oldest) {
		t.Errorf("from the link back: %d entries, want the whole chronology again, oldest first", len(back))
	}

	// The sort control is two links, the current order marked.
	_, body = e.do("GET", "/persons/"+e.person, "", nil)
	if !strings.Contains(body, `<strong aria-current="true">Newest first</strong>`) || !strings.Contains(body, `href="/persons/`+e.person+`?order=oldest">Oldest first`) {
		t.Errorf("sort control on the newest-first page is not as expected")
	}
	// A filter of the chronology by words (?q=, the address the record's
	// own links keep; the search box goes to the record's search page) keeps
	// the order, and finds notes only.
	_, body = e.do("GET", "/persons/"+e.person+"?order=oldest&q=Contact", "", nil)
	found := entryLink.FindAllStringSubmatch(body, -1)
	if len(found) != 25 || found[0][1] != "notes" || found[0][2] != oldest[0] {
		t.Errorf("search oldest first: %d found, first %v", len(found), found[0])
	}
	// One search box on the record (its notes and documents); a filtered
	// chronology says so and leads back to the whole of it.
	if n := strings.Count(body, `role="search"`); n != 1 || !strings.Contains(body, `id="record-q"`) {
		t.Errorf("the record page has %d search forms", n)
	}
	if !strings.Contains(body, "Showing only the notes with the words “Contact”") || !strings.Contains(body, `href="/persons/`+e.person+`?order=oldest">Show the whole chronology`) {
		t.Errorf("a filtered chronology does not say so")
	}
	// Past the end (newest first, after the oldest entry), the page says so
	// and links to the first page.
	first, _, err := e.db.Chronology(ctx, casefile.ChronologyFilter{PersonID: e.person, Notes: true, Documents: true, Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("oldest entry: %v", err)
	}
	_, body = e.do("GET", "/persons/"+e.person+"?after="+first[0].Cursor, "", nil)
	if !strings.Contains(body, "There is nothing more this way") || !strings.Contains(body, `href="/persons/`+e.person+`?">Go to the first page`) {
		t.Errorf("past the end of the newest-first chronology: no way back to the first page")
	}

	// A cursor not given out is a page in words.
	if resp, body := e.do("GET", "/persons/"+e.person+"?after=forged", "", nil); resp.StatusCode != 400 || !strings.Contains(body, "first page") {
		t.Errorf("forged cursor: %d", resp.StatusCode)
	}
}

// The drop zone's script sends each file as the request's body, as the API
// takes one (its length known, so it streams without holding a part): the
// token in a header, the name in the address, JSON back. Without the token
// nothing is kept.
func TestUploadOneFileAsTheBody(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	letter := []byte("Dear Ms Okafor, the core group meets on Monday.")
	send := func(body []byte, headers ...string) (int, string) {
		resp, out := e.do("POST", "/persons/"+e.person+"/documents?filename=letter.txt", "text/plain", bytes.NewReader(body),
			append([]string{"Accept", "application/json"}, headers...)...)
		return resp.StatusCode, out
	}
	if status, out := send(letter); status != 415 {
		t.Errorf("a body without the token: %d %s", status, out)
	}
	if status, out := send(letter, "X-CSRF-Token", "forged"); status != 403 {
		t.Errorf("a body with a forged token: %d %s", status, out)
	}
	if ds, _, _ := e.db.Documents(casefile.WithActor(context.Background(), casefile.SystemActor("test")), e.person, casefile.Page{}); len(ds) != 0 {
		t.Fatalf("a refused upload stored %d documents", len(ds))
	}
	status, out := send(letter, "X-CSRF-Token", "csrf-"+e.secret)
	if status != 200 || !strings.Contains(out, `"outcome":"filed"`) || !strings.Contains(out, `"name":"letter.txt"`) {
		t.Fatalf("upload as the body: %d %s", status, out)
	}
	ds, _, err := e.db.Documents(casefile.WithActor(context.Background(), casefile.SystemActor("test")), e.person, casefile.Page{})
	if err != nil || len(ds) != 1 || ds[0].Filename != "letter.txt" || ds[0].Size != int64(len(letter)) {
		t.Fatalf("stored: %v %+v", err, ds)
	}
	if status, out := send(letter, "X-CSRF-Token", "csrf-"+e.secret); status != 200 || !strings.Contains(out, `"outcome":"duplicate"`) {
		t.Errorf("the same body again: %d %s", status, out)
	}
	if status, out := send(nil, "X-CSRF-Token", "csrf-"+e.secret); status != 200 || !strings.Contains(out, `"outcome":"refused"`) {
		t.Errorf("an empty body: %d %s", status, out)
	}
}
