package extract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/extract"
	"github.com/council/casefile/extract/extracttest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// The task reads the original from the object store, extracts it and
// records the text; a missing original, and a document tried too often,
// fail with a warning; a removed document is left alone.
func TestTask(t *testing.T) {
	db := testenv.Postgres(t)
	store := testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor(casefile.TaskDocumentExtract))
	dob := casefile.Date{Year: 2015, Month: 6, Day: 14}
	p := &casefile.Person{ExternalRef: "TX-1", GivenName: "Amy", FamilyName: "Pond", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	newDoc := func(name string, body []byte) string {
		id := uuid.Must(uuid.NewV7()).String()
		key := "documents/" + id
		if body != nil {
			if _, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "application/octet-stream", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		d := &casefile.Document{ID: id, PersonID: p.ID, Kind: casefile.DocumentFile, Filename: name, Title: name, Category: "letter",
			ContentType: "application/octet-stream", Size: int64(len(body)), SHA256: id, ObjectKey: key}
		if err := db.CreateDocument(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	task := &extract.Task{Store: db, Open: s3.Blobs{S: store}.Get, Extractor: &extract.Extractor{}, Log: testenv.Logger(t)}
	handle := func(id string) {
		t.Helper()
		payload, _ := json.Marshal(extract.Payload{DocumentID: id})
		if err := task.Handle(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}
	state := func(id string) (st, warning string, text *string) {
		t.Helper()
		if err := db.Pool().QueryRow(ctx, "SELECT text_state, coalesce(text_warning, ''), body_text FROM documents WHERE id = $1", id).
			Scan(&st, &warning, &text); err != nil {
			t.Fatal(err)
		}
		return
	}

	good := newDoc("letter.docx", extracttest.DOCX("Greenfield Primary School"))
	handle(good)
	if st, w, text := state(good); st != "done" || w != "" || text == nil || *text != "Greenfield Primary School" {
		t.Fatalf("extracted: %s %q %v", st, w, text)
	}
	handle(good) // again: nothing changes
	if st, _, _ := state(good); st != "done" {
		t.Fatalf("a second task: %s", st)
	}

	missing := newDoc("gone.pdf", nil)
	handle(missing)
	if st, w, _ := state(missing); st != "failed" || w != "the original is not in the object store" {
		t.Fatalf("missing original: %s %q", st, w)
	}

	tried := newDoc("tried.docx", extracttest.DOCX("x"))
	testenv.Tamper(t, db, "UPDATE documents SET text_attempts = 5 WHERE id = '"+tried+"'")
	handle(tried)
	if st, w, text := state(tried); st != "failed" || w != "the text could not be extracted in 5 attempts" || text != nil {
		t.Fatalf("tried too often: %s %q %v", st, w, text)
	}

	removed := newDoc("removed.docx", extracttest.DOCX("secret"))
	testenv.Tamper(t, db, "UPDATE documents SET status = 'removed' WHERE id = '"+removed+"'")
	handle(removed)
	if st, _, text := state(removed); st != "pending" || text != nil {
		t.Fatalf("removed: %s %v", st, text)
	}

	if err := task.Handle(ctx, []byte(`{}`)); casefile.ErrorKind(err) != casefile.EInvalid {
		t.Fatalf("empty payload: %v", err)
	}
}
