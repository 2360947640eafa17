package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func mustDoc(t *testing.T, db *postgres.DB, personID, filename, title, text string, email *casefile.EmailMeta, atts ...*casefile.Document) *casefile.Document {
	t.Helper()
	id := newUUID()
	kind, ct := casefile.DocumentFile, "text/plain"
	if email != nil {
		kind, ct = casefile.DocumentEmail, "message/rfc822"
	}
	for _, a := range atts {
		a.ID, a.ParentID, a.Kind, a.Category, a.ContentType = newUUID(), &id, casefile.DocumentAttachment, "correspondence", "text/plain"
		a.SHA256, a.ObjectKey = strings.Repeat("c", 64), "documents/"+a.ID
	}
	d := &casefile.Document{ID: id, PersonID: personID, Kind: kind, Filename: filename, Title: title, Category: "correspondence",
		ContentType: ct, Size: int64(len(text)), SHA256: newUUID() + newUUID()[:28], ObjectKey: "documents/" + id, Email: email, Text: text,
		Attachments: atts}
	if err := db.CreateDocument(actorCtx(), d, ""); err != nil {
		t.Fatalf("create document: %v", err)
	}
	return d
}

func search(t *testing.T, db *postgres.DB, personID, q string) *casefile.SearchResults {
	t.Helper()
	res, err := db.SearchRecord(actorCtx(), casefile.SearchQuery{PersonID: personID, Query: q})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return res
}

func hitIDs(res *casefile.SearchResults) []string {
	ids := []string{}
	for _, h := range res.Items {
		ids = append(ids, h.Type+":"+h.ID)
	}
	return ids
}

// One search over a record finds notes by their current text and documents
// by title, filename, email headers and text, ranked, with marked snippets;
// never another person's, never removed or destroyed content; and the audit
// log keeps that a search was made, not what was typed.
func TestSearchRecord(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p, other := mustPerson(t, db, "S1"), mustPerson(t, db, "S2")
	at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	visit := mustNote(t, db, p.ID, "home_visit", at, "Visited Zoë at home. The <b>kitchen</b> was clean & tidy; Will was there.")
	school := mustNote(t, db, p.ID, "telephone_call", at.Add(time.Hour), "Rang the school about attendance.")
	gone := mustNote(t, db, p.ID, "contact", at.Add(2*time.Hour), "Mentioned the trampoline at attendance review.")
	mustNote(t, db, other.ID, "contact", at, "Other child: trampoline, attendance, kitchen.")
	letter := mustDoc(t, db, p.ID, "school_attendance-letter.pdf", "Letter from school", "Dear parent, attendance has fallen to 80%.", nil)
	email := mustDoc(t, db, p.ID, "referral.eml", "", "Please see the attached plan.",
		&casefile.EmailMeta{Subject: "Referral for Zoe", From: "duty.team@example.org", To: []string{"hospital.liaison@example.org"}},
		&casefile.Document{Filename: "safety-plan.txt", Text: "The safety plan names the trampoline."})
	removedDoc := mustDoc(t, db, p.ID, "trampoline-photo.txt", "Trampoline", "A trampoline in the garden.", nil)
	destroyedDoc := mustDoc(t, db, p.ID, "old.txt", "Old", "An old trampoline letter.", nil)
	destroyedNote := mustNote(t, db, p.ID, "contact", at, "Old trampoline note.")

	// Removal by ticket, as ICT does it; destruction as retention leaves it.
	removeByTicket(t, db, gone.ID, "wrong child")
	dt := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: removedDoc.ID, Reason: "wrong child"}
	if err := db.CreateTicket(ctx, dt); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApproveTicket(ictCtx(), dt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkDocumentRemoved(ctx, dt); err != nil {
		t.Fatal(err)
	}
	// Marked removed, its text not yet cleared: not found already.
	if got := hitIDs(search(t, db, p.ID, "trampoline")); len(got) != 3 || strings.Contains(strings.Join(got, " "), removedDoc.ID) {
		t.Fatalf("trampoline after removal is marked: %v", got)
	}
	if err := db.ClearDocumentContent(ctx, dt); err != nil {
		t.Fatal(err)
	}
	// Destroyed, its words left behind (they are not, but status alone decides).
	testenv.Tamper(t, db, `UPDATE documents SET status = 'destroyed', destroyed_at = now() WHERE id = '`+destroyedDoc.ID+`';
		UPDATE notes SET status = 'destroyed', destroyed_at = now() WHERE id = '`+destroyedNote.ID+`'`)

	for q, want := range map[string][]string{
		// The title and filename weigh more than the text.
		"attendance":        {"document:" + letter.ID, "note:" + school.ID},
		"zoe":               {"document:" + email.ID, "note:" + visit.ID}, // subject outranks text; accents ignored
		"visits":            {"note:" + visit.ID},                         // stemmed
		"will":              {"note:" + visit.ID},                         // a name, not a stop word
		"hospital.liaison":  {"document:" + email.ID},
		"duty":              {"document:" + email.ID},
		"trampoline":        {"document:" + email.Attachments[0].ID},
		"kitchen -clean":    {},
		`"school about"`:    {"note:" + school.ID},
		"safety plan":       {"document:" + email.Attachments[0].ID},
		"& | ! ( ) : * ' <": {},
		"removed":           {}, // a removed document's name is "removed-<id>"
	} {
		if diff := cmp.Diff(want, hitIDs(search(t, db, p.ID, q))); diff != "" {
			t.Errorf("search %q (-want +got):\n%s", q, diff)
		}
	}

	// The snippet marks the words and escapes the rest.
	res := search(t, db, p.ID, "kitchen zoe")
	if len(res.Items) != 1 || res.Total != 1 {
		t.Fatalf("kitchen zoe: %+v", res)
	}
	h := res.Items[0]
	if want := "Visited <mark>Zoë</mark> at home. The &lt;b&gt;<mark>kitchen</mark>&lt;/b&gt; was clean &amp; tidy; Will was there"; h.Snippet != want {
		t.Errorf("snippet\n got %s\nwant %s", h.Snippet, want)
	}
	if h.NoteType != "home_visit" || !h.OccurredAt.Equal(at) || h.Rank <= 0 {
		t.Errorf("note hit: %+v", h)
	}
	res = search(t, db, p.ID, "attendance")
	if d := res.Items[0]; d.Title != "Letter from school" || d.Filename != "school_attendance-letter.pdf" || d.Kind != "file" ||
		!strings.Contains(d.Snippet, "<mark>attendance</mark> has fallen") {
		t.Errorf("document hit: %+v", d)
	}

	// Paged.
	for i := 0; i < 5; i++ {
		mustNote(t, db, p.ID, "contact", at.Add(time.Duration(i)*time.Minute), "Paging word giraffe.")
	}
	seen := map[string]bool{}
	for page := 1; page != 0; {
		res, err := db.SearchRecord(ctx, casefile.SearchQuery{PersonID: p.ID, Query: "giraffe", Page: page, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 5 || len(res.Items) == 0 || len(res.Items) > 2 {
			t.Fatalf("page %d: %+v", page, res)
		}
		for _, h := range res.Items {
			if seen[h.ID] {
				t.Fatalf("page %d repeats %s", page, h.ID)
			}
			seen[h.ID] = true
		}
		page = res.NextPage
	}
	if len(seen) != 5 {
		t.Fatalf("pages showed %d of 5", len(seen))
	}

	for _, c := range []struct {
		q    casefile.SearchQuery
		code string
	}{
		{casefile.SearchQuery{PersonID: p.ID, Query: "  "}, "missing_q"},
		{casefile.SearchQuery{PersonID: p.ID, Query: strings.Repeat("a", 201)}, "q_too_long"},
		{casefile.SearchQuery{PersonID: p.ID, Query: "a\x00b"}, "q_too_long"},
		{casefile.SearchQuery{PersonID: p.ID, Query: "a", Page: 51}, "invalid_page"},
		{casefile.SearchQuery{PersonID: newUUID(), Query: "a"}, "not_found"},
		{casefile.SearchQuery{PersonID: "x", Query: "a"}, "not_found"},
	} {
		if _, err := db.SearchRecord(ctx, c.q); casefile.ErrorCode(err) != c.code {
			t.Errorf("%+v: %v, want %s", c.q, err, c.code)
		}
	}

	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID, Action: "record.search", Page: casefile.Page{Limit: 500}})
	if err != nil || len(evs) < 15 {
		t.Fatalf("record.search events: %d, %v", len(evs), err)
	}
	for _, e := range evs {
		if d := string(e.Details); strings.Contains(d, "giraffe") || strings.Contains(d, "attendance") || !strings.Contains(d, `"query_chars"`) {
			t.Fatalf("search event: %s", d)
		}
	}
}

// A word inside a file name or an address is marked in the snippet where it
// matches (PostgreSQL's parser reads "trampoline-letter.txt" as one host
// name, and an email address as one token), and the text reads as it was.
func TestSnippetMarksWordsInsideNamesAndAddresses(t *testing.T) {
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "S3")
	mustDoc(t, db, p.ID, "trampoline-letter.txt", "Uploaded trampoline-letter.txt", "A letter.", nil)
	text := "Mr Okafor: emailed j.okafor@school.sch.uk about the 3.5 mile walk, e.g. to www.okafor.example.org."
	mustNote(t, db, p.ID, "contact", time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), text)

	res := search(t, db, p.ID, "trampoline")
	if len(res.Items) != 1 {
		t.Fatalf("trampoline: %+v", res)
	}
	if got, want := res.Items[0].Snippet, "Uploaded <mark>trampoline</mark>-letter.txt\nA letter"; got != want {
		t.Errorf("file name snippet\n got %q\nwant %q", got, want)
	}
	// A note found by a word is marked where that word is inside an address
	// too (an address in a note's text is found by the whole address only).
	res = search(t, db, p.ID, "walk okafor")
	if len(res.Items) != 1 {
		t.Fatalf("walk okafor: %+v", res)
	}
	got := res.Items[0].Snippet
	for _, want := range []string{"j.<mark>okafor</mark>@school.sch.uk", "the 3.5 mile <mark>walk</mark>, e.g. to www.<mark>okafor</mark>.example"} {
		if !strings.Contains(got, want) {
			t.Errorf("address snippet %q: no %q", got, want)
		}
	}
	// Unmarked, it is the note's own text (a window of it).
	if plain := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(got); !strings.Contains(text, plain) {
		t.Errorf("snippet %q is not the note's text", plain)
	}
}
