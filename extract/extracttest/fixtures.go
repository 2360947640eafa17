// Package extracttest makes documents with known words for the tests and
// the benchmark of text extraction: a text PDF, a photographed letter (a
// PNG), a scanned PDF (that PNG as the page), Word and OpenDocument files.
package extracttest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"

	"github.com/council/casefile/internal/cfbtest"
)

// TextPDF is a one-page PDF with a text layer: lines set in 18 pt Helvetica.
func TextPDF(lines ...string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 18)
	for _, l := range lines {
		pdf.MultiCell(0, 10, l, "", "L", false)
		pdf.Ln(4)
	}
	var b bytes.Buffer
	err := pdf.Output(&b)
	return b.Bytes(), err
}

// LetterPNG is a letter as a picture of it: the text PDF of lines
// rasterised at 150 dots per inch by pdftoppm (poppler-utils), as a phone
// photographs or a scanner scans one. It has no text of its own.
func LetterPNG(lines ...string) ([]byte, error) {
	pdf, err := TextPDF(lines...)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "extracttest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		return nil, err
	}
	out, err := exec.Command("pdftoppm", "-q", "-r", "150", "-png", "-singlefile", in, filepath.Join(dir, "letter")).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pdftoppm (poppler-utils; scripts/services.sh test-deps installs it): %v: %s", err, out)
	}
	return os.ReadFile(filepath.Join(dir, "letter.png"))
}

// ScannedPDF is a PDF whose one page is the picture of a letter, with no
// text layer: what a scanner makes.
func ScannedPDF(lines ...string) ([]byte, error) {
	png, err := LetterPNG(lines...)
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	pdf.ImageOptions("scan", 0, 0, 210, 297, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var b bytes.Buffer
	err = pdf.Output(&b)
	return b.Bytes(), err
}

// Zip is a zip of the named files, in the order given (name, content,
// name, content, ...), deflated.
func Zip(files ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		h := &zip.FileHeader{Name: files[i], Method: zip.Deflate}
		if files[i] == "mimetype" {
			h.Method = zip.Store // OpenDocument's first file is stored, so its type shows at a fixed offset
		}
		f, _ := w.CreateHeader(h)
		f.Write([]byte(files[i+1]))
	}
	w.Close()
	return b.Bytes()
}

// DOCX is a Word document with one paragraph per line.
func DOCX(lines ...string) []byte {
	var body strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, html.EscapeString(l))
	}
	return Zip(
		"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body.String()+`</w:body></w:document>`,
	)
}

// ODT is an OpenDocument text with one paragraph per line.
func ODT(lines ...string) []byte {
	var body strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&body, `<text:p>%s</text:p>`, html.EscapeString(l))
	}
	return Zip(
		"mimetype", "application/vnd.oasis.opendocument.text",
		"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`,
		"content.xml", `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:text>`+body.String()+`</office:text></office:body></office:document-content>`,
	)
}

// XLSX is an Excel workbook whose cells hold the strings (Excel keeps
// every cell's text in xl/sharedStrings.xml).
func XLSX(cells ...string) []byte {
	var si strings.Builder
	for _, c := range cells {
		fmt.Fprintf(&si, `<si><t>%s</t></si>`, html.EscapeString(c))
	}
	return Zip(
		"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`,
		"xl/sharedStrings.xml", `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+si.String()+`</sst>`,
	)
}

// PPTX is a PowerPoint presentation of one slide per line.
func PPTX(lines ...string) []byte {
	files := []string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>`,
		"ppt/presentation.xml", `<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`}
	// Written last slide first: the slides' order is their numbers'.
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		files = append(files, fmt.Sprintf("ppt/slides/slide%d.xml", i+1),
			`<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>`+html.EscapeString(l)+`</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`)
	}
	return Zip(files...)
}

// DOC is a Word 97-2003 document (.doc) of one paragraph per line, its
// text in one piece of 8-bit (Windows-1252) characters, with a field whose
// code is not text and whose result is.
func DOC(lines ...string) []byte {
	text := strings.Join(lines, "\r") + "\r\x13 HYPERLINK \"http://example.org\" \x14example.org\x15\r"
	enc, _ := charmap.Windows1252.NewEncoder().String(text)
	const textAt = 0x800
	wd := make([]byte, 4096+len(enc))
	binary.LittleEndian.PutUint16(wd, 0xA5EC)   // wIdent
	binary.LittleEndian.PutUint16(wd[2:], 0xC1) // nFib: Word 97
	binary.LittleEndian.PutUint16(wd[0x0A:], 0x0200)
	binary.LittleEndian.PutUint16(wd[0x20:], 14) // csw
	binary.LittleEndian.PutUint16(wd[0x3E:], 22) // cslw
	binary.LittleEndian.PutUint16(wd[0x98:], 93) // cbRgFcLcb: Word 97's pairs
	binary.LittleEndian.PutUint32(wd[0x4C:], uint32(len(enc)))
	copy(wd[textAt:], enc)
	var clx []byte
	clx = append(clx, 0x02)
	clx = binary.LittleEndian.AppendUint32(clx, 4*2+8)
	clx = binary.LittleEndian.AppendUint32(clx, 0)
	clx = binary.LittleEndian.AppendUint32(clx, uint32(len(enc)))
	clx = append(clx, 0, 0)
	clx = binary.LittleEndian.AppendUint32(clx, uint32(textAt*2)|0x40000000)
	clx = append(clx, 0, 0)
	table := make([]byte, 4096)
	copy(table[0x100:], clx)
	binary.LittleEndian.PutUint32(wd[0x1A2:], 0x100)
	binary.LittleEndian.PutUint32(wd[0x1A6:], uint32(len(clx)))
	return cfbtest.Build([]cfbtest.File{{Name: "WordDocument", Data: wd}, {Name: "1Table", Data: table}})
}
