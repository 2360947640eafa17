package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/council/casefile/extract/extracttest"
)

// The Go readers, on any input: no panic, no more text than the limit,
// storable text, and done in bounded time.
const fuzzMaxText = 64 << 10

func checkFuzz(t *testing.T, out *text, took time.Duration) {
	t.Helper()
	if out.b.Len() > fuzzMaxText {
		t.Fatalf("%d bytes of text, over the %d limit", out.b.Len(), fuzzMaxText)
	}
	s := out.String()
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		t.Fatalf("text not storable: %q", s)
	}
	if took > 10*time.Second {
		t.Fatalf("took %v", took)
	}
}

func FuzzRTF(f *testing.F) {
	f.Add([]byte(`{\rtf1\ansi\ansicpg1250{\fonttbl{\f0 Arial;}}\f0 Za\'9f\'f3\'b3\'e6 \u8220?x\u8221? {\*\x y}{\pict 00}\bin3 {}}\par}`))
	f.Add([]byte(`{\rtf1 \u-10179?\u-8704? \uc2\u8364\'80\'80 done}`))
	f.Add([]byte(`{\rtf1 {{{{{{{{{{ deep }}}}}}}}}} \'zz \u \bin-5 \bin99999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := newText(fuzzMaxText)
		start := time.Now()
		RTF(bytes.NewReader(b), out)
		checkFuzz(t, out, time.Since(start))
	})
}

func FuzzHTML(f *testing.F) {
	f.Add([]byte(`<html><head><meta charset="windows-1252"><title>T</title><script>x</script></head><body><p>Caf` + "\xe9" + `</p><table><tr><td>a<td>b</table></body></html>`))
	f.Add([]byte(`<p>unclosed <b><i><script>never closed`))
	f.Add([]byte("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-16\"><p>x</p>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := newText(fuzzMaxText)
		start := time.Now()
		HTML(bytes.NewReader(b), "", out)
		checkFuzz(t, out, time.Since(start))
	})
}

func FuzzPlainText(f *testing.F) {
	f.Add([]byte("Caf\xe9 \x93quoted\x94"), "")
	f.Add([]byte("\xff\xfeG\x00r\x00"), "text/plain; charset=utf-16le")
	f.Add([]byte("Zażółć\x00\x01\r\n"), "text/plain; charset=bogus")
	f.Fuzz(func(t *testing.T, b []byte, ct string) {
		out := newText(fuzzMaxText)
		start := time.Now()
		PlainText(bytes.NewReader(b), ct, out)
		checkFuzz(t, out, time.Since(start))
	})
}

// fuzzZip runs every reader of zips of XML (.docx, .odt, .xlsx, .pptx)
// on b, within small limits.
func fuzzZip(t *testing.T, b []byte) {
	zr, err := openZip(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	for _, read := range []func(context.Context, *zip.Reader, int64, io.StringWriter) error{DOCX, ODT, XLSX, PPTX} {
		out := newText(fuzzMaxText)
		start := time.Now()
		read(context.Background(), zr, 1<<20, out)
		checkFuzz(t, out, time.Since(start))
	}
}

func FuzzDOCX(f *testing.F) {
	f.Add(extracttest.DOCX("Dear Ms Pond,", "Greenfield Primary School"))
	f.Add(extracttest.Zip("word/document.xml", `<w:p><w:r><w:t>a</w:t><w:tab/><w:br/><w:del><w:delText>gone</w:delText></w:del></w:r></w:p><w:tbl><w:tr><w:tc>x</w:tc></w:tr></w:tbl>`))
	f.Add(extracttest.Zip("word/document.xml", "<w:t>&amp;&bogus;<![CDATA[x]]></w:t><<"))
	f.Add(extracttest.XLSX("Amy", "Pond"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzZip(t, b) })
}

func FuzzODT(f *testing.F) {
	f.Add(extracttest.ODT("Dear Ms Pond,", "Greenfield Primary School"))
	f.Add(extracttest.Zip("content.xml", `<text:p>a<text:s text:c="99999"/>b<text:tab/><text:line-break/></text:p><text:tracked-changes><text:p>gone</text:p></text:tracked-changes>`))
	f.Add(extracttest.PPTX("one", "two"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzZip(t, b) })
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("%PDF-1.7"), "a.pdf", "")
	f.Add(extracttest.ODT("x"), "a.bin", "application/zip")
	f.Add([]byte(`{\rtf1`), "a.txt", "text/plain")
	f.Fuzz(func(t *testing.T, b []byte, name, ct string) {
		Detect(b, name, ct)
	})
}
