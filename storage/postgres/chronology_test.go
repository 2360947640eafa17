package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func mustDocument(t *testing.T, db *postgres.DB, personID, title string, date *time.Time, attachments int) *casefile.Document {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	d := &casefile.Document{ID: id, PersonID: personID, Kind: casefile.DocumentFile, Filename: title + ".txt", Title: title, Category: "correspondence",
		ContentType: "text/plain", Size: 1, SHA256: "sha-" + id, ObjectKey: "documents/" + id}
	if date != nil {
		d.Kind, d.Email = casefile.DocumentEmail, &casefile.EmailMeta{Subject: title, From: "a@b.example", Date: date}
	}
	for i := 0; i < attachments; i++ {
		aid := uuid.Must(uuid.NewV7()).String()
		d.Attachments = append(d.Attachments, &casefile.Document{ID: aid, PersonID: personID, Kind: casefile.DocumentAttachment, ParentID: &d.ID,
			Filename: "a.pdf", Title: "a.pdf", Category: "correspondence", ContentType: "application/pdf", Size: 1, SHA256: "sha-" + aid, ObjectKey: "documents/" + aid})
	}
	if err := db.CreateDocument(actorCtx(), d, ""); err != nil {
		t.Fatalf("create document: %v", err)
	}
	return d
}

// The chronology is a person's notes and top-level documents together in
// the order things happened (an email at its Date, a file when it was
// filed), read a page at a time either way round, walked forward and back
// by cursor, and audited as one read of the record's notes and documents.
func TestChronologyMergesNotesAndDocumentsInOrder(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	p := mustPerson(t, db, "CH-1")
	other := mustPerson(t, db, "CH-2")
	day := func(d int) time.Time { return time.Date(2026, 1, d, 10, 0, 0, 0, time.UTC) }
	d2, d4 := day(2), day(4)
	n1 := mustNote(t, db, p.ID, "contact", day(1), "Phoned mum about school.")
	mustDocument(t, db, p.ID, "e2", &d2, 0)
	n3 := mustNote(t, db, p.ID, "home_visit", day(3), "Visited; Amy showed me her drawings.")
	mustDocument(t, db, p.ID, "e4", &d4, 2)
	n5 := mustNote(t, db, p.ID, "contact", day(5), "Spoke to the school nurse.")
	c6 := &casefile.Note{PersonID: p.ID, Type: "contact", OccurredAt: day(6), CorrectsNoteID: &n1.ID, CorrectionReason: "wrong day"}
	if err := db.CreateNote(ctx, c6, "It was dad, not mum."); err != nil {
		t.Fatal(err)
	}
	file := mustDocument(t, db, p.ID, "file", nil, 0) // filed now: after every note
	mustNote(t, db, other.ID, "contact", day(3), "Someone else's note.")
	mustDocument(t, db, other.ID, "theirs", &d2, 0)

	name := func(e *casefile.ChronologyEntry) string {
		switch {
		case e.Note != nil && e.Note.ID == n1.ID:
			return "n1"
		case e.Note != nil && e.Note.ID == n3.ID:
			return "n3"
		case e.Note != nil && e.Note.ID == n5.ID:
			return "n5"
		case e.Note != nil && e.Note.ID == c6.ID:
			return "c6"
		case e.Document != nil:
			return e.Document.Title
		}
		return "?"
	}
	read := func(f casefile.ChronologyFilter) ([]*casefile.ChronologyEntry, []string, bool) {
		t.Helper()
		f.PersonID = p.ID
		es, more, err := db.Chronology(ctx, f)
		if err != nil {
			t.Fatalf("chronology %+v: %v", f, err)
		}
		var names []string
		for _, e := range es {
			names = append(names, name(e))
		}
		return es, names, more
	}
	both := casefile.ChronologyFilter{Notes: true, Documents: true, Limit: 3}

	// Oldest first, forward page by page, then back from the second page.
	var pages [][]string
	var second []*casefile.ChronologyEntry
	f := both
	for {
		es, names, more := read(f)
		pages = append(pages, names)
		if len(pages) == 2 {
			second = es
		}
		if !more {
			break
		}
		f.Cursor = es[len(es)-1].Cursor
	}
	want := [][]string{{"n1", "e2", "n3"}, {"e4", "n5", "c6"}, {"file"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Fatalf("oldest first: %v, want %v", pages, want)
	}
	back := both
	back.Cursor, back.Before = second[0].Cursor, true
	if _, names, more := read(back); !slices.Equal(names, []string{"n1", "e2", "n3"}) || more {
		t.Errorf("back from the second page: %v more=%v, want [n1 e2 n3] and nothing before", names, more)
	}

	// Newest first, the same way.
	pages = nil
	f = both
	f.Newest = true
	for {
		es, names, more := read(f)
		pages = append(pages, names)
		if len(pages) == 2 {
			second = es
		}
		if !more {
			break
		}
		f.Cursor = es[len(es)-1].Cursor
	}
	want = [][]string{{"file", "c6", "n5"}, {"e4", "n3", "e2"}, {"n1"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Fatalf("newest first: %v, want %v", pages, want)
	}
	back = both
	back.Newest, back.Cursor, back.Before = true, second[0].Cursor, true
	if _, names, more := read(back); !slices.Equal(names, []string{"file", "c6", "n5"}) || more {
		t.Errorf("newest first, back from the second page: %v more=%v", names, more)
	}

	// What each entry carries: the note's body and its corrections' count,
	// the document at its email's date with its attachments counted.
	es, _, _ := read(casefile.ChronologyFilter{Notes: true, Documents: true})
	for _, e := range es {
		switch name(e) {
		case "n1":
			if e.Corrections != 1 || e.Note.Body == nil || *e.Note.Body != "Phoned mum about school." || !e.At.Equal(day(1)) {
				t.Errorf("n1: corrections %d, body %v, at %v", e.Corrections, e.Note.Body, e.At)
			}
		case "e4":
			if e.Attachments != 2 || !e.At.Equal(d4) || e.Document.Email == nil || e.Document.Email.Subject != "e4" {
				t.Errorf("e4: attachments %d, at %v, email %+v", e.Attachments, e.At, e.Document.Email)
			}
		case "file":
			if !e.At.Equal(file.CreatedAt) {
				t.Errorf("file at %v, want when it was filed (%v)", e.At, file.CreatedAt)
			}
		}
	}

	// An email whose date is Go's zero time is placed when it was filed.
	undated := mustDocument(t, db, other.ID, "undated", &time.Time{}, 0)
	es2, _, err := db.Chronology(ctx, casefile.ChronologyFilter{PersonID: other.ID, Documents: true, Newest: true})
	if err != nil || len(es2) != 2 || es2[0].Document.ID != undated.ID || !es2[0].At.Equal(undated.CreatedAt) {
		t.Errorf("an email dated the zero time: %v, first %+v, want it first, at %v", err, es2[0], undated.CreatedAt)
	}

	// A caller who may read notes only sees notes; a search finds notes only.
	if _, names, _ := read(casefile.ChronologyFilter{Notes: true}); !slices.Equal(names, []string{"n1", "n3", "n5", "c6"}) {
		t.Errorf("notes only: %v", names)
	}
	if _, names, _ := read(casefile.ChronologyFilter{Notes: true, Documents: true, Query: "drawings", Newest: true}); !slices.Equal(names, []string{"n3"}) {
		t.Errorf("search: %v, want [n3]", names)
	}
	if _, names, _ := read(casefile.ChronologyFilter{Documents: true, Newest: true}); !slices.Equal(names, []string{"file", "e4", "e2"}) {
		t.Errorf("documents only: %v", names)
	}

	// Each read is audited: the notes read, the documents listed.
	before := actions(t, db, p.ID)
	read(both)
	read(casefile.ChronologyFilter{Documents: true})
	after := actions(t, db, p.ID)
	count := func(as []string, a string) int {
		n := 0
		for _, x := range as {
			if x == a {
				n++
			}
		}
		return n
	}
	if count(after, "note.read")-count(before, "note.read") != 1 || count(after, "document.list")-count(before, "document.list") != 2 {
		t.Errorf("audit: note.read %d→%d, document.list %d→%d; want one more and two more",
			count(before, "note.read"), count(after, "note.read"), count(before, "document.list"), count(after, "document.list"))
	}

	// Refusals: a cursor not given out, a person who does not exist.
	if _, _, err := db.Chronology(ctx, casefile.ChronologyFilter{PersonID: p.ID, Notes: true, Cursor: "bm90LWEtY3Vyc29y"}); casefile.ErrorCode(err) != "invalid_cursor" {
		t.Errorf("bad cursor: %v", err)
	}
	if _, _, err := db.Chronology(ctx, casefile.ChronologyFilter{PersonID: uuid.NewString(), Notes: true}); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Errorf("unknown person: %v", err)
	}
}
