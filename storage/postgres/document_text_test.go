package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// An upload's email has its parsed text at once; its attachment waits for
// extraction, queued in the same transaction. The text is recorded once,
// audited without any of it, and never lands on a document removed before
// the extraction finished.
func TestDocumentText(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	p := mustPerson(t, db, "T1")
	newDoc := func(kind, ct, text string, parent *casefile.Document) *casefile.Document {
		id := uuid.Must(uuid.NewV7()).String()
		d := &casefile.Document{ID: id, PersonID: p.ID, Kind: kind, Filename: "f", Title: "t", Category: "correspondence",
			ContentType: ct, Size: 10, SHA256: id, ObjectKey: "documents/" + id, Text: text}
		if parent != nil {
			d.ParentID = &parent.ID
			parent.Attachments = append(parent.Attachments, d)
		}
		return d
	}
	email := newDoc(casefile.DocumentEmail, "message/rfc822", "Dear duty team", nil)
	att := newDoc(casefile.DocumentAttachment, "application/pdf", "", email)
	if err := db.CreateDocument(ctx, email, ""); err != nil {
		t.Fatal(err)
	}
	state := func(id string) (state, source, warning string, body *string) {
		t.Helper()
		err := db.Pool().QueryRow(context.Background(), `SELECT text_state, coalesce(text_source, ''), coalesce(text_warning, ''), body_text
			FROM documents WHERE id = $1`, id).Scan(&state, &source, &warning, &body)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if s, src, _, body := state(email.ID); s != "done" || src != "parsed" || body == nil || *body != "Dear duty team" {
		t.Fatalf("email: %s %s %v", s, src, body)
	}
	if s, _, _, body := state(att.ID); s != "pending" || body != nil {
		t.Fatalf("attachment: %s %v", s, body)
	}
	var queued int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE task_type = $1 AND payload->>'document_id' = $2`,
		casefile.TaskDocumentExtract, att.ID).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("%d extraction tasks queued for the attachment (%v), want 1", queued, err)
	}

	job, err := db.StartText(ctx, att.ID, time.Minute)
	if err != nil || job == nil || job.ObjectKey != att.ObjectKey || job.ContentType != "application/pdf" || job.Attempts != 1 {
		t.Fatalf("start: %+v %v", job, err)
	}
	// Given back (the object store was down): taken again at once, and the
	// attempt given back is not counted.
	if err := db.ReleaseText(ctx, att.ID); err != nil {
		t.Fatal(err)
	}
	job, err = db.StartText(ctx, att.ID, time.Minute)
	if err != nil || job == nil || job.Attempts != 1 {
		t.Fatalf("start after release: %+v %v", job, err)
	}
	if job, err := db.StartText(ctx, email.ID, time.Minute); job != nil || err != nil {
		t.Fatalf("an email's text is parsed, not extracted: %+v %v", job, err)
	}
	if _, err := db.StartText(ctx, uuid.Must(uuid.NewV7()).String(), time.Minute); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("unknown document: %v", err)
	}
	saved, err := db.SaveText(ctx, att.ID, casefile.ExtractedText{State: casefile.TextDone, Source: casefile.TextOCR, Text: "Scanned letter"})
	if err != nil || !saved {
		t.Fatalf("save: %v %v", saved, err)
	}
	if s, src, _, body := state(att.ID); s != "done" || src != "ocr" || body == nil || *body != "Scanned letter" {
		t.Fatalf("attachment after extraction: %s %s %v", s, src, body)
	}
	if saved, err := db.SaveText(ctx, att.ID, casefile.ExtractedText{State: casefile.TextDone, Text: "again"}); saved || err != nil {
		t.Fatalf("a second save: %v %v", saved, err)
	}
	d, err := db.Document(ctx, email.ID)
	if err != nil || d.TextState != "done" || d.TextSource != "parsed" || len(d.Attachments) != 1 || d.Attachments[0].TextState != "done" {
		t.Fatalf("document: %+v %v", d, err)
	}
	// The audit event says what happened, never the text.
	var details string
	if err := db.Pool().QueryRow(context.Background(), `SELECT details::text FROM audit_events WHERE action = 'document.text' AND target_id = $1`,
		att.ID).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if want := `{"chars":14,"source":"ocr","state":"done"}`; details != want {
		t.Fatalf("audit details %s, want %s", details, want)
	}

	// Removed while its text was being extracted: the text is not kept.
	file := newDoc(casefile.DocumentFile, "image/png", "", nil)
	if err := db.CreateDocument(ctx, file, ""); err != nil {
		t.Fatal(err)
	}
	if job, err := db.StartText(ctx, file.ID, time.Minute); job == nil || err != nil {
		t.Fatalf("start: %v %v", job, err)
	}
	if job, err := db.StartText(ctx, file.ID, time.Minute); job != nil || err != nil {
		t.Fatalf("a second worker took a leased extraction: %+v %v", job, err)
	}
	testenv.Tamper(t, db, "UPDATE documents SET status = 'removed', removed_at = now() WHERE id = '"+file.ID+"'")
	if saved, err := db.SaveText(ctx, file.ID, casefile.ExtractedText{State: casefile.TextDone, Source: casefile.TextOCR, Text: "secret"}); saved || err != nil {
		t.Fatalf("saved on a removed document: %v %v", saved, err)
	}
	if _, _, _, body := state(file.ID); body != nil {
		t.Fatalf("a removed document has text %q", *body)
	}
	if job, err := db.StartText(ctx, file.ID, time.Minute); job != nil || err != nil {
		t.Fatalf("started on a removed document: %+v %v", job, err)
	}
}

// The backfill queues every active document still pending, each under a
// task of its own, and nothing else.
func TestQueueTextBackfill(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	p := mustPerson(t, db, "B1")
	var ids []string
	for i := 0; i < 3; i++ {
		id := uuid.Must(uuid.NewV7()).String()
		d := &casefile.Document{ID: id, PersonID: p.ID, Kind: casefile.DocumentFile, Filename: "f.pdf", Title: "t", Category: "letter",
			ContentType: "application/pdf", Size: 10, SHA256: id, ObjectKey: "documents/" + id}
		if err := db.CreateDocument(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := db.SaveText(ctx, ids[0], casefile.ExtractedText{State: casefile.TextNone}); err != nil {
		t.Fatal(err)
	}
	testenv.Tamper(t, db, "UPDATE documents SET status = 'removed' WHERE id = '"+ids[1]+"'")
	start := time.Now()
	if n, err := db.QueueTextBackfill(ctx, start, 100); n != 1 || err != nil {
		t.Fatalf("queued %d (%v), want the one still pending", n, err)
	}
	if n, err := db.QueueTextBackfill(ctx, start, 100); n != 0 || err != nil {
		t.Fatalf("the same backfill took %d documents again (%v)", n, err)
	}
	if n, err := db.QueueTextBackfill(ctx, time.Now().Add(-time.Hour), 100); n != 0 || err != nil {
		t.Fatalf("queued %d documents stored in the last hour (%v)", n, err)
	}
	var tasks int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE payload->>'document_id' = $1`, ids[2]).Scan(&tasks); err != nil || tasks != 2 {
		t.Fatalf("%d tasks for the pending document (%v), want the upload's and the backfill's", tasks, err)
	}
}

// The same object filed on a sibling's record (a link) before its text was
// extracted gets the text with the original, audited on each record; a
// copy removed meanwhile does not.
func TestDocumentTextOfLinks(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	amy, rory, clara := mustPerson(t, db, "L1"), mustPerson(t, db, "L2"), mustPerson(t, db, "L3")
	id := uuid.Must(uuid.NewV7()).String()
	d := &casefile.Document{ID: id, PersonID: amy.ID, Kind: casefile.DocumentFile, Filename: "letter.pdf", Title: "letter", Category: "letter",
		ContentType: "application/pdf", Size: 10, SHA256: id, ObjectKey: "documents/" + id}
	if err := db.CreateDocument(ctx, d, ""); err != nil {
		t.Fatal(err)
	}
	toRory, _, err := db.LinkDocument(ctx, id, rory.ID)
	if err != nil {
		t.Fatal(err)
	}
	toClara, _, err := db.LinkDocument(ctx, id, clara.ID)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Tamper(t, db, "UPDATE documents SET status = 'removed' WHERE id = '"+toClara.ID+"'")
	if job, err := db.StartText(ctx, id, time.Minute); job == nil || err != nil {
		t.Fatalf("start: %v %v", job, err)
	}
	if saved, err := db.SaveText(ctx, id, casefile.ExtractedText{State: casefile.TextDone, Source: casefile.TextExtracted, Text: "Dear Ms Pond"}); !saved || err != nil {
		t.Fatalf("save: %v %v", saved, err)
	}
	for _, c := range []struct {
		id, state string
		text      bool
	}{{id, "done", true}, {toRory.ID, "done", true}, {toClara.ID, "pending", false}} {
		var state string
		var text *string
		if err := db.Pool().QueryRow(context.Background(), "SELECT text_state, body_text FROM documents WHERE id = $1", c.id).Scan(&state, &text); err != nil {
			t.Fatal(err)
		}
		if state != c.state || (text != nil) != c.text {
			t.Errorf("document %s: %s %v, want %s, text %v", c.id, state, text, c.state, c.text)
		}
	}
	var events int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'document.text'
		AND person_id = ANY($1)`, []string{amy.ID, rory.ID, clara.ID}).Scan(&events); err != nil || events != 2 {
		t.Fatalf("%d document.text events (%v), want one on each record that got the text", events, err)
	}
}
