package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/council/casefile/extract/extracttest"
)

// The Go readers, on any input: no panic, no more text than the limit,
// storable text. A hang is the fuzzer's to catch (an input over 10 s
// fails it); a wall-clock budget here would flake on a loaded machine.
const fuzzMaxText = 64 << 10

func checkFuzz(t *testing.T, out *text) {
	t.Helper()
	if out.b.Len() > fuzzMaxText {
		t.Fatalf("%d bytes of text, over the %d limit", out.b.Len(), fuzzMaxText)
	}
	s := out.String()
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		t.Fatalf("text not storable: %q", s)
	}
}

func FuzzRTF(f *testing.F) {
	f.Add([]byte(`{\rtf1\ansi\ansicpg1250{\fonttbl{\f0 Arial;}}\f0 Za\'9f\'f3\'b3\'e6 \u8220?x\u8221? {\*\x y}{\pict 00}\bin3 {}}\par}`))
	f.Add([]byte(`{\rtf1 \u-10179?\u-8704? \uc2\u8364\'80\'80 done}`))
	f.Add([]byte(`{\rtf1 {{{{{{{{{{ deep }}}}}}}}}} \'zz \u \bin-5 \bin99999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := newText(fuzzMaxText)
		RTF(bytes.NewReader(b), out)
		checkFuzz(t, out)
	})
}

func FuzzHTML(f *testing.F) {
	f.Add([]byte(`<html><head><meta charset="windows-1252"><title>T</title><script>x</script></head><body><p>Caf` + "\xe9" + `</p><table><tr><td>a<td>b</table></body></html>`))
	f.Add([]byte(`<p>unclosed <b><i><script>never closed`))
	f.Add([]byte("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-16\"><p>x</p>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := newText(fuzzMaxText)
		HTML(bytes.NewReader(b), "", out)
		checkFuzz(t, out)
	})
}

func FuzzPlainText(f *testing.F) {
	f.Add([]byte("Caf\xe9 \x93quoted\x94"), "")
	f.Add([]byte("\xff\xfeG\x00r\x00"), "text/plain; charset=utf-16le")
	f.Add([]byte("Zażółć\x00\x01\r\n"), "text/plain; charset=bogus")
	f.Fuzz(func(t *testing.T, b []byte, ct string) {
		out := newText(fuzzMaxText)
		PlainText(bytes.NewReader(b), ct, out)
		checkFuzz(t, out)
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
		read(context.Background(), zr, 1<<20, out)
		checkFuzz(t, out)
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

// FuzzReaders drives every Go reader from one corpus, the first byte choosing
// which, so that one long run (make fuzz FUZZTIME=30m) covers them all and
// inputs that are interesting to one reader seed the others.
func FuzzReaders(f *testing.F) {
	f.Add(byte(0), []byte(`{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Za\'9f\'f3 \u8220?x\u8221? {\*\x y}\par}`))
	f.Add(byte(1), []byte(`<html><head><meta charset="windows-1252"><script>x</script></head><body><p>Caf`+"\xe9"+`</p></body></html>`))
	f.Add(byte(2), []byte("\xff\xfeG\x00r\x00"))
	f.Add(byte(3), extracttest.DOCX("Dear Ms Pond,", "Greenfield Primary School"))
	f.Add(byte(3), extracttest.ODT("Dear Ms Pond,"))
	f.Add(byte(3), extracttest.XLSX("Amy", "Pond"))
	f.Add(byte(3), extracttest.PPTX("one", "two"))
	f.Add(byte(4), extracttest.DOC("Dear Ms Pond,", "Greenfield Primary School"))
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		out := newText(fuzzMaxText)
		switch which % 5 {
		case 0:
			RTF(bytes.NewReader(b), out)
		case 1:
			HTML(bytes.NewReader(b), "", out)
		case 2:
			PlainText(bytes.NewReader(b), "text/plain; charset=utf-16le", out)
		case 3:
			fuzzZip(t, b)
			return
		case 4:
			DOC(context.Background(), bytes.NewReader(b), int64(len(b)), 1<<20, out)
		}
		checkFuzz(t, out)
	})
}

func FuzzDOC(f *testing.F) {
	f.Add(extracttest.DOC("Dear Ms Pond,", "Greenfield Primary School"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := newText(fuzzMaxText)
		DOC(context.Background(), bytes.NewReader(b), int64(len(b)), 1<<20, out)
		checkFuzz(t, out)
	})
}
