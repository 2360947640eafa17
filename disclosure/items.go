// Package disclosure holds the rules of a disclosure of a person's record
// (a subject access request, a court's order): which items it is made of
// and the text each shows, where the reviewer's redactions fall (offsets in
// Unicode code points of that text), what is suggested for redaction, and
// the bundle, in which every redaction is burned in: the redacted characters
// are never written to any file of it, and a document with a redaction is
// given only as a rendering of its text, never as its original.
package disclosure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council/casefile"
)

// Item is one note or document of a disclosure as the reviewer sees it.
type Item struct {
	Type     string    `json:"type"` // note, document
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // the note's type, or the document's kind (email, file, attachment)
	ParentID string    `json:"parent_id,omitempty"`
	Date     time.Time `json:"date"`
	// Text is what the bundle shows of the item and what redactions' offsets
	// count in: a note's current body; a document's filename, an email's
	// headers and its body, or a file's extracted text.
	Text string `json:"text"`
	// NoText: no text could be read from the document (nothing extracted
	// yet, or an image); unless withheld or redacted its original goes into
	// the bundle as it is, so look at it before finalising.
	NoText bool `json:"no_text,omitempty"`
	// TextPending: the document's text is still being extracted; the
	// disclosure cannot be finalised until it is (or it is withheld).
	TextPending bool                  `json:"text_pending,omitempty"`
	ContentType string                `json:"content_type,omitempty"`
	Redactions  []*casefile.Redaction `json:"redactions"`
	Withheld    *casefile.Withholding `json:"withheld,omitempty"`

	note *casefile.Note
	doc  *casefile.Document
	sum  string
}

// TextSHA256 is the sha256 of the item's text.
func (it *Item) TextSHA256() string {
	if it.sum == "" {
		s := sha256.Sum256([]byte(it.Text))
		it.sum = hex.EncodeToString(s[:])
	}
	return it.sum
}

// Len is the text's length in code points.
func (it *Item) Len() int { return utf8.RuneCountInString(it.Text) }

// Label is the item's neutral heading: its type, date and id, nothing of
// its content.
func (it *Item) Label() string {
	switch {
	case it.Type == casefile.ItemNote:
		return "Case note " + it.ID
	case it.Kind == casefile.DocumentEmail:
		return "Email " + it.ID
	case it.Kind == casefile.DocumentAttachment:
		return "Attachment " + it.ID
	}
	return "Document " + it.ID
}

// maxPlainText bounds the plain-text originals read when no text was kept.
const maxPlainText = 1 << 20

// OpenObject opens a stored original by its object key.
type OpenObject func(ctx context.Context, key string) (io.ReadCloser, error)

// items builds the items of src, in the record's order: notes, then
// documents (parents before their attachments), with the redactions and
// withholdings of the disclosure attached.
func items(ctx context.Context, src *casefile.DisclosureSource, open OpenObject) ([]*Item, error) {
	var out []*Item
	for _, n := range src.Notes {
		body := ""
		if n.Body != nil {
			body = *n.Body
		}
		out = append(out, &Item{Type: casefile.ItemNote, ID: n.ID, Kind: n.Type, Date: n.OccurredAt, Text: normalise(body), note: n})
	}
	for _, d := range src.Documents {
		it := &Item{Type: casefile.ItemDocument, ID: d.ID, Kind: d.Kind, Date: d.CreatedAt, ContentType: d.ContentType, doc: d}
		if d.ParentID != nil {
			it.ParentID = *d.ParentID
		}
		body := d.Text
		if body == "" && open != nil && strings.HasPrefix(d.ContentType, "text/plain") && d.Size <= maxPlainText {
			t, err := readPlain(ctx, open, d.ObjectKey)
			if err != nil {
				return nil, err
			}
			body = t
		}
		it.Text = documentText(d, normalise(body))
		it.TextPending = d.TextState == casefile.TextPending && d.Kind != casefile.DocumentEmail
		it.NoText = strings.TrimSpace(body) == "" && d.Kind != casefile.DocumentEmail && !it.TextPending
		out = append(out, it)
	}
	byKey := map[string]*Item{}
	for _, it := range out {
		it.Redactions = []*casefile.Redaction{}
		byKey[it.Type+"/"+it.ID] = it
	}
	for _, r := range src.Disclosure.Redactions {
		if it := byKey[r.TargetType+"/"+r.TargetID]; it != nil {
			it.Redactions = append(it.Redactions, r)
		}
	}
	for _, w := range src.Disclosure.Withholdings {
		if it := byKey[casefile.ItemDocument+"/"+w.DocumentID]; it != nil {
			it.Withheld = w
		}
	}
	return out, nil
}

// readPlain reads a plain-text original whose text was not kept at ingest;
// anything not UTF-8 counts as no text.
func readPlain(ctx context.Context, open OpenObject, key string) (string, error) {
	rc, err := open(ctx, key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPlainText))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", nil
	}
	return strings.TrimPrefix(string(b), "\ufeff"), nil
}

// normalise makes line ends \n, so that a text's offsets do not depend on
// how its source ended lines.
func normalise(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// documentText is what a document shows: its filename (a filename is
// content: it may name someone), an email's headers, then its text.
func documentText(d *casefile.Document, body string) string {
	var b strings.Builder
	b.WriteString("Filename: " + oneLine(d.Filename) + "\n")
	if e := d.Email; e != nil {
		b.WriteString("From: " + oneLine(e.From) + "\n")
		b.WriteString("To: " + oneLine(strings.Join(e.To, ", ")) + "\n")
		if len(e.Cc) > 0 {
			b.WriteString("Cc: " + oneLine(strings.Join(e.Cc, ", ")) + "\n")
		}
		b.WriteString("Subject: " + oneLine(e.Subject) + "\n")
		if e.Date != nil {
			b.WriteString("Date: " + e.Date.UTC().Format("Mon, 2 Jan 2006 15:04 MST") + "\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
