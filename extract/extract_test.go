package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/extract/extracttest"
)

// extractBytes writes b to a temp file and extracts it.
func extractBytes(t *testing.T, e *Extractor, b []byte, filename, contentType string) casefile.ExtractedText {
	t.Helper()
	p := filepath.Join(t.TempDir(), "doc")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return e.Extract(context.Background(), p, filename, contentType)
}

// must is the fixture, or a panic naming why it could not be made.
func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Every format gives its known words, from the right source.
func TestFormats(t *testing.T) {
	e := &Extractor{}
	letter := []string{"Dear Ms Pond,", "Amy attended Greenfield Primary School every day this week.", "Yours sincerely, Headteacher"}
	cases := []struct {
		name, filename, ctype string
		body                  []byte
		source                string
		want                  []string
	}{
		{"text PDF", "letter.pdf", "application/pdf", must(extracttest.TextPDF(letter...)), "extracted", []string{"Greenfield Primary School", "Dear Ms Pond,"}},
		{"scanned PDF", "scan.pdf", "application/pdf", must(extracttest.ScannedPDF(letter...)), "ocr", []string{"Greenfield", "Primary", "School", "Headteacher"}},
		{"PNG letter", "photo.png", "image/png", must(extracttest.LetterPNG(letter...)), "ocr", []string{"Greenfield", "Primary", "School", "Headteacher"}},
		{"docx", "letter.docx", "", extracttest.DOCX(letter...), "extracted", []string{"Dear Ms Pond,\nAmy attended Greenfield Primary School"}},
		{"odt", "letter.odt", "", extracttest.ODT(letter...), "extracted", []string{"Dear Ms Pond,\nAmy attended Greenfield Primary School"}},
		{"doc", "letter.doc", "application/msword", extracttest.DOC("Dear Ms Pond,", "Café at Greenfield Primary School"), "extracted",
			[]string{"Dear Ms Pond,\nCafé at Greenfield Primary School\nexample.org"}},
		{"xlsx", "cases.xlsx", "", extracttest.XLSX("Name", "Amy Pond", "Greenfield Primary School"), "extracted", []string{"Name\nAmy Pond\nGreenfield Primary School"}},
		{"pptx", "review.pptx", "", extracttest.PPTX("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten Greenfield"), "extracted",
			[]string{"one\n\ntwo\n\nthree", "nine\n\nten Greenfield"}},
		{"rtf", "letter.rtf", "", []byte(`{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\*\generator Word}{\info{\author Secret Author}}` +
			`\f0 Dear Ms Pond,\par Caf\'e9 meeting about \u8220?Greenfield\u8221? {\b Primary} School\par{\pict\pngblip 89504e47}` +
			`{\field{\*\fldinst HYPERLINK "x"}{\fldrslt Headteacher}}}`), "extracted",
			[]string{"Dear Ms Pond,\nCafé meeting about “Greenfield” Primary School\nHeadteacher"}},
		{"html", "letter.html", "text/html", []byte(`<html><head><title>Letter</title><style>p{color:red}</style><script>var secret=1</script></head>` +
			`<body><p>Dear Ms Pond,</p><p>Amy attended   Greenfield&nbsp;Primary <b>School</b></p><table><tr><td>a</td><td>b</td></tr></table></body></html>`),
			"extracted", []string{"Letter\n", "\nDear Ms Pond,\n", "\nAmy attended Greenfield Primary School\n", "\na\tb"}},
		{"utf-8 text", "note.txt", "text/plain", []byte("Dear Ms Pond,\r\nZażółć gęślą jaźń\r\n"), "extracted", []string{"Dear Ms Pond,\nZażółć gęślą jaźń"}},
		{"windows-1252 text", "note.txt", "text/plain", []byte("Caf\xe9 \x93Greenfield\x94"), "extracted", []string{"Café “Greenfield”"}},
		{"utf-16 text", "note.txt", "text/plain", []byte("\xff\xfeG\x00r\x00e\x00e\x00n\x00"), "extracted", []string{"Green"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := extractBytes(t, e, c.body, c.filename, c.ctype)
			if r.State != casefile.TextDone || r.Source != c.source || r.Warning != "" {
				t.Fatalf("state %q source %q warning %q (text %q), want done from %s", r.State, r.Source, r.Warning, r.Text, c.source)
			}
			for _, w := range c.want {
				if !strings.Contains(r.Text, w) {
					t.Fatalf("text %q lacks %q", r.Text, w)
				}
			}
			for _, not := range []string{"secret", "Secret", "Arial", "HYPERLINK", "http:", "89504e47", "color:red"} {
				if strings.Contains(r.Text, not) {
					t.Fatalf("text %q has %q, which is not the document's text", r.Text, not)
				}
			}
			t.Logf("%s: %d chars in %v", c.name, len(r.Text), time.Since(start).Round(time.Millisecond))
		})
	}
}

// Files without text, and the empty file, have none; nothing fails.
func TestNoText(t *testing.T) {
	e := &Extractor{}
	for name, b := range map[string][]byte{
		"zip":   extracttest.Zip("a.csv", "1,2"),
		"bytes": {0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x00, 0x13},
		"empty": {},
	} {
		if r := extractBytes(t, e, b, "f.bin", "application/octet-stream"); r.State != casefile.TextNone || r.Text != "" {
			t.Errorf("%s: %+v", name, r)
		}
	}
}

// Hostile and broken files fail, or are cut, with a warning, within the
// limits, and never panic.
func TestHostile(t *testing.T) {
	e := &Extractor{Limits: Limits{MaxText: 1 << 20, MaxUnzipped: 2 << 20, Timeout: 30 * time.Second}}
	start := time.Now()
	bomb := zipBomb(t, 16<<20) // eight times what may be inflated
	textPDF := must(extracttest.TextPDF("Greenfield Primary School"))
	doc := extracttest.DOC("Greenfield Primary School")
	cases := []struct {
		name, filename string
		body           []byte
		states         string // the states it may end in
		warning        string // what the warning says (one of, split by |)
	}{
		{"zip bomb docx", "bomb.docx", bomb, "failed done", "inflates past 2097152 bytes"},
		{"many entries docx", "many.docx", manyEntries(6000), "failed", "more than the 5000"},
		{"deep rtf", "deep.rtf", []byte(`{\rtf1 Greenfield ` + strings.Repeat("{", 100000) + "x" + strings.Repeat("}", 100000) + "}"), "done", "nested deeper than 1000"},
		{"huge html", "huge.html", bytes.Repeat([]byte("<div><p>Greenfield Primary School</p>"), 1<<20), "done", "cut at 1048576 bytes"},
		{"one huge html token", "token.html", append([]byte("<p>Greenfield</p>"), bytes.Repeat([]byte("A"), 4<<20+1024)...), "done", "too long to read|cut at"},
		{"truncated pdf", "cut.pdf", textPDF[:len(textPDF)/3], "failed done none", ""},
		{"not a pdf", "x.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0xde, 0xad}, 1000)...), "failed none", ""},
		{"truncated doc", "cut.doc", doc[:len(doc)/2], "failed", "not a readable Word document"},
		{"doc of noise", "noise.doc", append(append([]byte{}, doc[:512]...), bytes.Repeat([]byte{0xff}, 8192)...), "failed", "not a readable Word document"},
		{"broken docx", "x.docx", []byte("PK\x03\x04 this is not a zip"), "failed none", ""},
		{"docx of bad xml", "bad.docx", extracttest.Zip("word/document.xml", "<w:t>Greenfield</w:t><<<>"), "done failed", "not well-formed"},
		{"huge png", "huge.png", hugePNG(100000, 100000), "failed", "larger than"},
	}
	t.Logf("hostile files made in %v", time.Since(start).Round(time.Millisecond))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := extractBytes(t, e, c.body, c.filename, "")
			took := time.Since(start)
			if !strings.Contains(" "+c.states+" ", " "+r.State+" ") {
				t.Fatalf("state %q (warning %q), want one of %q", r.State, r.Warning, c.states)
			}
			if r.State == casefile.TextFailed && r.Warning == "" {
				t.Fatalf("failed without a warning")
			}
			if !containsAny(r.Warning, strings.Split(c.warning, "|")) {
				t.Fatalf("warning %q, want %q", r.Warning, c.warning)
			}
			if len(r.Text) > 1<<20 {
				t.Fatalf("%d bytes of text, over the limit", len(r.Text))
			}
			t.Logf("%s: %s in %v, %d bytes, warning %q", c.name, r.State, took.Round(time.Millisecond), len(r.Text), r.Warning)
		})
	}
}

// A subprocess past the deadline is stopped, and the document fails with
// a warning naming the limit.
func TestTimeout(t *testing.T) {
	e := &Extractor{Limits: Limits{Timeout: 300 * time.Millisecond}}
	png := must(extracttest.LetterPNG(strings.Repeat("Greenfield Primary School attendance letter. ", 40)))
	start := time.Now()
	r := extractBytes(t, e, png, "big.png", "image/png")
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v", took)
	}
	if r.State != casefile.TextFailed || !strings.Contains(r.Warning, "CASEFILE_EXTRACT_TIMEOUT") {
		t.Fatalf("%+v", r)
	}
}

// A scanned PDF of more pages than OCRPages is read so far, with a warning.
func TestOCRPageLimit(t *testing.T) {
	two := twoPages(t)
	e := &Extractor{Limits: Limits{OCRPages: 1}}
	r := extractBytes(t, e, two, "scan.pdf", "application/pdf")
	if r.State != casefile.TextDone || r.Source != "ocr" || !strings.Contains(r.Text, "Greenfield") ||
		!strings.Contains(r.Warning, "OCR read 1 of the 2 pages without a text layer") {
		t.Fatalf("%+v", r)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// A PDF of typed pages and scanned ones (a referral form with the letters
// it came with): the typed pages' text layer, and the scanned pages by OCR.
func TestMixedPDF(t *testing.T) {
	b := mixedPDF(t, "Referral form: the family lives at Marigold Court, and the school has raised concerns.", "Buttercup orchestra")
	r := extractBytes(t, &Extractor{}, b, "referral.pdf", "application/pdf")
	if r.State != casefile.TextDone || r.Source != casefile.TextOCR || r.Warning != "" ||
		!strings.Contains(r.Text, "Marigold Court") || !strings.Contains(r.Text, "Buttercup orchestra") {
		t.Fatalf("%+v", r)
	}
	if strings.Index(r.Text, "Marigold") > strings.Index(r.Text, "Buttercup") {
		t.Fatalf("pages out of order: %q", r.Text)
	}
}

// A scan whose page is 5 m square is read at a bounded size, not
// rasterised to gigabytes.
func TestGiantPage(t *testing.T) {
	e := &Extractor{Limits: Limits{Timeout: time.Minute}}
	start := time.Now()
	r := extractBytes(t, e, giantScan(t), "giant.pdf", "application/pdf")
	if r.State != casefile.TextDone || r.Source != casefile.TextOCR || !strings.Contains(r.Text, "Greenfield") {
		t.Fatalf("%+v", r)
	}
	t.Logf("%s in %v, warning: %q", r.State, time.Since(start).Round(time.Millisecond), r.Warning)
}

// A subprocess that asks for more memory than the limit is refused it, and
// its failure is a warning naming the limit.
func TestMemoryLimit(t *testing.T) {
	script := `x=$(head -c 50000000 /dev/zero | tr '\0' a); echo ${#x}`
	for _, c := range []struct {
		memory int64
		fails  bool
	}{{32 << 20, true}, {1 << 30, false}} {
		e := &Extractor{Limits: Limits{Memory: c.memory}}
		e.init()
		var out capped
		out.max = 100
		err := e.run(context.Background(), t.TempDir(), &out, "sh", "-c", script)
		if (err != nil) != c.fails || !c.fails && strings.TrimSpace(out.String()) != "50000000" {
			t.Fatalf("with %d MiB: %v, output %q", c.memory>>20, err, out.String())
		}
		t.Logf("with %d MiB: %v", c.memory>>20, err)
	}
}

// What an extraction killed midway left is removed a day later, and
// nothing else is.
func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	old, young, other := filepath.Join(dir, tempPrefix+"old"), filepath.Join(dir, tempPrefix+"young"), filepath.Join(dir, "other")
	for _, p := range []string{old, young, other} {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Now().Add(-25 * time.Hour)
	os.Chtimes(old, day, day)
	os.Chtimes(other, day, day)
	if n, err := CleanTemp(dir, 24*time.Hour); n != 1 || err != nil {
		t.Fatalf("removed %d (%v), want 1", n, err)
	}
	for p, want := range map[string]bool{old: false, young: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", p, err == nil, want)
		}
	}
}
