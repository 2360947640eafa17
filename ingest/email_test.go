package ingest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func collect(t testing.TB, raw []byte) (*parsedEmail, map[string][]byte) {
	got := map[string][]byte{}
	pe, err := parseEmail(bytes.NewReader(raw), DefaultLimits, func(name, ct string, body io.Reader, fwd bool) error {
		b, err := io.ReadAll(body)
		got[name] = b
		return err
	})
	if err != nil {
		t.Fatalf("parseEmail: %v", err)
	}
	return pe, got
}

func TestHostileEmailsAreCheap(t *testing.T) {
	var deep strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	many := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n", 5000) + "--b--\r\n"
	huge := "Subject: " + strings.Repeat("A", 2<<20) + "\r\nFrom: a@example.org\r\n\r\nbody"
	// Each case: the input, and what a warning must say (the limit it hit, or
	// what was wrong), "" when the input is merely odd.
	cases := map[string][2]string{
		"deep nesting":       {"From: a@example.org\r\n" + deep.String(), "nested deeper than 20 levels"},
		"thousands of parts": {"From: a@example.org\r\n" + many, "more than 1000 parts"},
		"huge header":        {huge, "header line longer than"},
		"truncated base64":   {"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK!!!", ""},
		"nul bytes":          {"From: a\x00b@example.org\r\nSubject: x\x00y\r\n\r\nbody\x00", ""},
		"unknown charset":    {"Content-Type: text/plain; charset=x-klingon\r\n\r\nqapla", "x-klingon"},
		"no header end":      {"From: a@example.org", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pe, atts := collect(t, []byte(c[0]))
			// Cheap: what comes out is bounded whatever goes in.
			if len(pe.Warnings) > 50 || len(atts) > DefaultLimits.MaxParts || len(pe.Text) > DefaultLimits.MaxTextBytes {
				t.Fatalf("unbounded: %d warnings, %d attachments, %d bytes of text", len(pe.Warnings), len(atts), len(pe.Text))
			}
			if c[1] != "" && !strings.Contains(strings.Join(pe.Warnings, "; "), c[1]) {
				t.Fatalf("warnings %q do not mention %q", pe.Warnings, c[1])
			}
			switch name {
			case "huge header": // the fields after the enormous line are whole
				if pe.Meta.From != "<a@example.org>" || pe.Text != "body\n" {
					t.Fatalf("after the huge line: from %q, text %q", pe.Meta.From, pe.Text)
				}
			case "truncated base64": // what decodes is kept
				if string(atts["a.pdf"]) != "%PDF-1.4\n" {
					t.Fatalf("salvaged attachment %q", atts["a.pdf"])
				}
			}
		})
	}
}

func TestEmailMetadataAndAttachments(t *testing.T) {
	raw := "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\r\nTo: \"Duty, Team\" <duty@example.gov.uk>\r\nSubject: =?UTF-8?B?UmXDqXZhbHVhdGlvbg==?=\r\n" +
		"Date: Tue, 3 Mar 2026 10:00:00 +0100\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n" +
		"--X\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 meeting\r\n" +
		"--X\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename*=UTF-8''%E2%82%AC.png\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--X--\r\n"
	pe, atts := collect(t, []byte(raw))
	m := pe.Meta
	if m.Subject != "Reévaluation" || m.From != `"André" <andre@example.org>` || m.To[0] != `"Duty, Team" <duty@example.gov.uk>` ||
		m.MessageID != "m1@example.org" || m.Date.Format(time.RFC3339) != "2026-03-03T09:00:00Z" {
		t.Fatalf("meta = %+v", m)
	}
	if !strings.Contains(pe.Text, "Café meeting") || string(atts["€.png"]) != "hello" {
		t.Fatalf("text %q, attachments %v", pe.Text, atts)
	}
}

func FuzzParseEmail(f *testing.F) {
	filepath.WalkDir("testdata/enmime", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".raw") {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		lim := Limits{MaxDepth: 8, MaxParts: 50, MaxHeaderBytes: 8 << 10, MaxTextBytes: 4 << 10}
		pe, err := parseEmail(bytes.NewReader(raw), lim, func(name, ct string, body io.Reader, fwd bool) error {
			_, err := io.Copy(io.Discard, body)
			return err
		})
		if err != nil {
			t.Fatalf("parse error on in-memory input: %v", err)
		}
		if len(pe.Text) > lim.MaxTextBytes || pe.Meta == nil {
			t.Fatalf("text %d bytes, meta %v", len(pe.Text), pe.Meta)
		}
	})
}

// Old mailers put raw 8-bit text in headers instead of RFC 2047 words. It is
// read in the message's declared charset, or as Windows-1252, and said in a
// warning; never kept as invalid UTF-8 (which would show as U+FFFD).
func TestRaw8BitHeaders(t *testing.T) {
	for _, c := range []struct {
		name, mail, subject, to, attachment string
	}{
		{"latin-1 without a declared charset",
			"From: a@example.org\r\nTo: \"M\xfcller, Hans\" <h@example.de>\r\nSubject: R\xe9union \xe0 l'\xe9cole \x96 \x80 10\r\n" +
				"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
				"--B\r\nContent-Type: application/pdf; name=\"pr\xe9avis.pdf\"\r\n\r\n%PDF-1.4\r\n--B--\r\n",
			"Réunion à l'école – € 10", `"Müller, Hans" <h@example.de>`, "préavis.pdf"},
		{"the message's declared charset",
			"From: a@example.org\r\nTo: b@example.org\r\nSubject: \xf0\xd2\xc9\xd7\xc5\xd4\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
			"Привет", "<b@example.org>", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var names []string
			pe, err := parseEmail(strings.NewReader(c.mail), DefaultLimits, func(name, ct string, body io.Reader, fwd bool) error {
				names = append(names, name)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if pe.Meta.Subject != c.subject || len(pe.Meta.To) != 1 || pe.Meta.To[0] != c.to {
				t.Fatalf("subject %q, to %q; want %q, %q", pe.Meta.Subject, pe.Meta.To, c.subject, c.to)
			}
			if c.attachment != "" && (len(names) != 1 || names[0] != c.attachment) {
				t.Fatalf("attachments %q, want %q", names, c.attachment)
			}
			if len(pe.Warnings) == 0 || !strings.Contains(strings.Join(pe.Warnings, "; "), "raw 8-bit") {
				t.Fatalf("warnings %q say nothing of the raw 8-bit header", pe.Warnings)
			}
		})
	}
}

// A 35-byte email that `make fuzz` found: the Content-Disposition value has
// invalid UTF-8 before "filename=", so its lower-cased copy is shorter than
// the original and an offset found in one indexed past the end of the
// other. It must parse, with the name salvaged and nothing lost.
func TestDispositionWithInvalidUTF8(t *testing.T) {
	for _, raw := range []string{
		"Content-Disposition:\xdcfilenAme=",
		"Content-Disposition: \xdc\xdc\xdcattachment; FILENAME=r\xe9sum\xe9.pdf\r\n\r\nbody",
		"Content-Disposition: attachment; \xff\xfefilename=\"a.pdf\"; x\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4",
	} {
		pe, _ := collect(t, []byte(raw))
		if pe.Meta == nil {
			t.Fatalf("%q: no metadata", raw)
		}
	}
	_, atts := collect(t, []byte("Content-Disposition: attachment; \xff\xfefilename=\"a.pdf\"; x\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4"))
	if string(atts["a.pdf"]) != "%PDF-1.4" {
		t.Fatalf("attachments %q, want a.pdf salvaged", atts)
	}
}
