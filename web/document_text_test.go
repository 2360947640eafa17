package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
)

// The document page says where its text stands: being read, read by OCR
// (words may be misread), or not readable and why.
func TestDocumentPageShowsItsText(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "Sam", Role: casefile.RolePractitioner})
	doc := func(name string) string {
		id := uuid.Must(uuid.NewV7()).String()
		d := &casefile.Document{ID: id, PersonID: e.person, Kind: casefile.DocumentFile, Filename: name, Title: name, Category: "letter",
			ContentType: "application/pdf", Size: 10, SHA256: id, ObjectKey: "documents/" + id}
		if err := e.db.CreateDocument(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	pending, scanned, broken := doc("pending.pdf"), doc("scan.pdf"), doc("broken.pdf")
	for _, c := range []struct {
		id   string
		text casefile.ExtractedText
	}{
		{scanned, casefile.ExtractedText{State: casefile.TextDone, Source: casefile.TextOCR, Text: "Dear Ms Okafor, about Amelia's school place."}},
		{broken, casefile.ExtractedText{State: casefile.TextFailed, Warning: "not a readable PDF"}},
	} {
		if _, err := e.db.StartText(ctx, c.id, time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.db.SaveText(ctx, c.id, c.text); !ok || err != nil {
			t.Fatalf("save: %v %v", ok, err)
		}
	}
	for _, c := range []struct{ id, want string }{
		{pending, "The text of this document is being read."},
		{scanned, "Dear Ms Okafor, about Amelia&#39;s school place."},
		{scanned, "Read from the pictures of its pages by text recognition (OCR)"},
		{broken, "The text of this document could not be read: not a readable PDF. The original file is kept"},
	} {
		resp, body := e.do("GET", "/documents/"+c.id, "", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, c.want) {
			t.Errorf("document %s: %d, page lacks %q", c.id, resp.StatusCode, c.want)
		}
	}
}
