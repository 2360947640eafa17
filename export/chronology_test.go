package export

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"testing"
	"time"
	"unicode/utf16"
)

// pdfHas reports whether the PDF's page content shows word in the
// Unicode font: fpdf writes its text as UTF-16BE (its ToUnicode map is the
// identity). Words are chosen whose UTF-16 holds no byte PDF strings escape.
func pdfHas(t *testing.T, pdf []byte, word string) bool {
	t.Helper()
	var want []byte
	for _, u := range utf16.Encode([]rune(word)) {
		want = append(want, byte(u>>8), byte(u))
	}
	for _, m := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(pdf, -1) {
		data := m[1]
		if r, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				data = b
			}
		}
		if bytes.Contains(data, want) {
			return true
		}
	}
	return false
}

// The PDF chronology shows notes in Latin, Greek and Cyrillic scripts beyond
// Windows-1252 when the DejaVu fonts are installed, and falls back to
// Helvetica, with "?" for what Windows-1252 lacks, when not.
func TestPDFChronologyScripts(t *testing.T) {
	body := "Мама сказала: всё хорошо. Ελένη. Zażółć gęślą jaźń."
	c := &chronology{Person: ManifestPerson{GivenName: "Ołena", FamilyName: "Коваль", ExternalRef: "UA-1"},
		GeneratedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), GeneratedBy: "officer",
		Entries: []*chronEntry{{ID: "n1", TypeLabel: "Contact", OccurredAt: time.Now(), RecordedAt: time.Now(), Author: "sw", Body: body}}}
	var unicode, fallback bytes.Buffer
	if err := renderPDF(&unicode, c, DefaultFontDir); err != nil {
		t.Fatal(err)
	}
	if err := renderPDF(&fallback, c, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(unicode.Bytes(), []byte("/utf8dejavu")) || !bytes.Contains(unicode.Bytes(), []byte("/FontFile2")) || bytes.Contains(unicode.Bytes(), []byte("/Helvetica")) {
		t.Fatal("the fonts in " + DefaultFontDir + " (Debian's fonts-dejavu-core, which make test installs) were not used")
	}
	for _, word := range []string{"Мама", "Ελένη", "Zażółć", "Ołena", "Коваль"} {
		if !pdfHas(t, unicode.Bytes(), word) {
			t.Errorf("the PDF does not show %q", word)
		}
	}
	if !bytes.Contains(fallback.Bytes(), []byte("/Helvetica")) || pdfHas(t, fallback.Bytes(), "Мама") {
		t.Fatal("without the fonts the PDF should fall back to Helvetica, which cannot show Cyrillic")
	}
}
