package web_test

import (
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
	// A search keeps the order, and finds notes only.
	_, body = e.do("GET", "/persons/"+e.person+"?order=oldest&q=Contact", "", nil)
	found := entryLink.FindAllStringSubmatch(body, -1)
	if len(found) != 25 || found[0][1] != "notes" || found[0][2] != oldest[0] || !strings.Contains(body, `name="order" value="oldest"`) {
		t.Errorf("search oldest first: %d found, first %v", len(found), found[0])
	}
	// A cursor not given out is a page in words.
	if resp, body := e.do("GET", "/persons/"+e.person+"?after=forged", "", nil); resp.StatusCode != 400 || !strings.Contains(body, "first page") {
		t.Errorf("forged cursor: %d", resp.StatusCode)
	}
}
