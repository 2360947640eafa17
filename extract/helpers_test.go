package extract

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/council/casefile/extract/extracttest"
)

// manyEntries is a docx-looking zip of n empty files (stored, not
// deflated: a deflate writer each would cost more than the test).
func manyEntries(n int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("word/document.xml")
	io.WriteString(w, "<w:document/>")
	for i := 0; i < n; i++ {
		zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("f%d", i), Method: zip.Store})
	}
	zw.Close()
	return b.Bytes()
}

// hugePNG is the header of a PNG that claims w × h pixels.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.Write(bytes.Repeat([]byte{0}, 1024))
	return b.Bytes()
}

// twoPages is a PDF of two pages, each the scanned letter's picture.
func twoPages(t *testing.T) []byte {
	t.Helper()
	png, err := extracttest.LetterPNG("Greenfield Primary School")
	if err != nil {
		t.Fatal(err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	for i := 0; i < 2; i++ {
		pdf.AddPage()
		pdf.ImageOptions("scan", 0, 0, 210, 297, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// giantScan is a scanned PDF whose one page is 5 m square: rasterised for
// OCR it would take gigabytes.
func giantScan(t *testing.T) []byte {
	t.Helper()
	png, err := extracttest.LetterPNG("Greenfield")
	if err != nil {
		t.Fatal(err)
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: 5000, Ht: 5000}})
	pdf.AddPage()
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	pdf.ImageOptions("scan", 0, 0, 5000, 5000, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mixedPDF is a typed page followed by a scanned one.
func mixedPDF(t *testing.T, typed, scanned string) []byte {
	t.Helper()
	png, err := extracttest.LetterPNG(scanned)
	if err != nil {
		t.Fatal(err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 14)
	pdf.MultiCell(0, 8, typed, "", "L", false)
	pdf.AddPage()
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	pdf.ImageOptions("scan", 0, 0, 210, 297, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipBomb is a .docx whose document.xml inflates to n bytes (of a field
// code, which is not text), from a few tens of kilobytes.
func zipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Greenfield</w:t><w:instrText>`)
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for i := 0; i < n>>20; i++ {
		w.Write(chunk)
	}
	io.WriteString(w, `</w:instrText></w:r></w:p></w:body></w:document>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
