package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile/extract/extracttest"
)

// The text of every document uploaded: a text PDF, a scanned PDF, a
// photographed letter (PNG), a .docx, an .odt, a Word 97-2003 .doc, and a
// .docx attached to an email, each with known words, is extracted by the
// workers (OCR for the scans), shown as text_state on the document, kept in
// the database, and found by a search of the record; a removed document's
// text is gone from the database and its words from the search; and the
// backfill extracts a document stored before extraction existed.
func TestExtractedText(t *testing.T) {
	s := startService(t, nil)
	prac, ict := s.token("practitioner"), s.token("ict")
	amy := s.person("EX-1", "2014-02-28")
	fixture := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	letter := func(words string) []string {
		return []string{"Dear Ms Pond,", "This letter is about " + words + ".", "Yours sincerely"}
	}
	docx := extracttest.DOCX(letter("Gooseberry quartz")...)
	email := "From: Head Teacher <head@school.example.org>\r\nTo: duty@council.example.gov.uk\r\nSubject: Plan\r\n" +
		"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nThe plan is attached, Tambourine.\r\n" +
		"--B\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n" +
		"Content-Disposition: attachment; filename=\"plan.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(docx) + "\r\n--B--\r\n"
	uploads := []struct {
		filename, ctype string
		body            []byte
		words           []string
		source          string
	}{
		{"letter.pdf", "application/pdf", fixture(extracttest.TextPDF(letter("Marmalade lighthouse")...)), []string{"Marmalade", "lighthouse"}, "extracted"},
		{"scan.pdf", "application/pdf", fixture(extracttest.ScannedPDF(letter("Buttercup orchestra")...)), []string{"Buttercup", "orchestra"}, "ocr"},
		{"photo.png", "image/png", fixture(extracttest.LetterPNG(letter("Pineapple harbour")...)), []string{"Pineapple", "harbour"}, "ocr"},
		{"report.docx", "", extracttest.DOCX(letter("Walrus tangerine")...), []string{"Walrus", "tangerine"}, "extracted"},
		{"report.odt", "", extracttest.ODT(letter("Cinnamon velvet")...), []string{"Cinnamon", "velvet"}, "extracted"},
		{"old.doc", "application/msword", extracttest.DOC(letter("Rhubarb saxophone")...), []string{"Rhubarb", "saxophone"}, "extracted"},
	}
	type doc struct {
		id, source string
		words      []string
	}
	var docs []doc
	for _, u := range uploads {
		r := s.upload(amy, prac, u.filename, u.ctype, u.body)
		if r.Status != 201 {
			t.Fatalf("upload %s: %d %s", u.filename, r.Status, r.Body)
		}
		docs = append(docs, doc{r.JSON()["id"].(string), u.source, u.words})
	}
	r := s.upload(amy, prac, "plan.eml", "message/rfc822", []byte(email))
	if r.Status != 201 {
		t.Fatalf("upload the email: %d %s", r.Status, r.Body)
	}
	mail := r.JSON()
	att := mail["attachments"].([]any)[0].(map[string]any)
	docs = append(docs, doc{mail["id"].(string), "parsed", []string{"Tambourine"}}, doc{att["id"].(string), "extracted", []string{"Gooseberry", "quartz"}})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	bodyText := func(id string) (text *string, state string) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT body_text, text_state FROM documents WHERE id = $1", id).Scan(&text, &state); err != nil {
			t.Fatal(err)
		}
		return
	}
	waitText := func(d doc) {
		t.Helper()
		var got map[string]any
		eventually(t, 3*time.Minute, "the text of "+d.id, func() bool {
			got = s.must(200, "GET", "/v1/documents/"+d.id, prac, nil)
			return got["text_state"] != "pending"
		})
		if got["text_state"] != "done" || got["text_source"] != d.source || got["text_warning"] != nil {
			t.Fatalf("document %s (%v): text %v from %v, warning %v; want done from %s", d.id, got["filename"], got["text_state"],
				got["text_source"], got["text_warning"], d.source)
		}
		text, _ := bodyText(d.id)
		for _, w := range d.words {
			if text == nil || !strings.Contains(*text, w) {
				t.Fatalf("document %s (%v): extracted text %v lacks %q", d.id, got["filename"], text, w)
			}
		}
	}
	// found says whether a search of Amy's record for word finds the document.
	found := func(word, id string) bool {
		t.Helper()
		res := s.must(200, "GET", "/v1/persons/"+amy+"/search?q="+word, prac, nil)
		for _, it := range res["items"].([]any) {
			if m := it.(map[string]any); m["type"] == "document" && m["id"] == id {
				return true
			}
		}
		return false
	}
	for _, d := range docs {
		waitText(d)
		for _, w := range d.words {
			if !found(w, d.id) {
				t.Errorf("a search for %q does not find document %s", w, d.id)
			}
		}
	}

	// Removed: the extracted text goes with the content.
	removed := docs[0]
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document", "target_id": removed.id,
		"reason": "uploaded to the wrong child"})
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	if done := s.waitTicket(t, ict, tk["id"].(string)); done["state"] != "done" {
		t.Fatalf("removal = %v", done)
	}
	if text, state := bodyText(removed.id); text != nil || state != "none" {
		t.Fatalf("a removed document keeps its text: %v (%s)", text, state)
	}
	for _, w := range removed.words {
		if found(w, removed.id) {
			t.Errorf("a search for %q still finds the removed document", w)
		}
	}
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM documents WHERE body_text LIKE '%Marmalade%'").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d documents still hold the removed document's words (%v)", left, err)
	}

	// A document stored before extraction existed is extracted by the backfill.
	old := docs[3]
	if _, err := conn.Exec(ctx, `UPDATE documents SET body_text = NULL, text_state = 'pending', text_source = NULL,
		text_queued_at = now() - interval '1 day', text_started_at = NULL WHERE id = $1`, old.id); err != nil {
		t.Fatal(err)
	}
	out, err := s.cli("extract", "backfill")
	if err != nil || !strings.Contains(out, "queued 1 document(s)") {
		t.Fatalf("extract backfill: %v %s", err, out)
	}
	waitText(old)
}

// casefile extract file prints a local file's text, and says when it
// could not be read (exit 1).
func TestExtractFileCommand(t *testing.T) {
	dir := t.TempDir()
	good, bad := dir+"/letter.docx", dir+"/broken.docx"
	os.WriteFile(good, extracttest.DOCX("Dear Ms Pond,", "Greenfield Primary School"), 0o600)
	os.WriteFile(bad, []byte("PK\x03\x04 not a zip"), 0o600)
	var out, errOut bytes.Buffer
	none := func(string) string { return "" }
	if err := run(context.Background(), []string{"extract", "file", good}, none, &out, &errOut); err != nil ||
		out.String() != "Dear Ms Pond,\nGreenfield Primary School\n" || !strings.Contains(errOut.String(), "state done, source extracted") {
		t.Fatalf("good: %v %q %q", err, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if err := run(context.Background(), []string{"extract", "file", bad}, none, &out, &errOut); err == nil ||
		!strings.Contains(errOut.String(), "state failed") || !strings.Contains(errOut.String(), "not a readable DOCX") {
		t.Fatalf("broken: %v %q", err, errOut.String())
	}
}
