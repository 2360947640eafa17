package extract

import (
	"archive/zip"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// maxZipEntries bounds the files a .docx or .odt may hold: its directory
// is read into memory whole. Real documents hold tens.
const maxZipEntries = 5000

// DOCX writes the text of a Word document to out: the body, then the
// footnotes and endnotes, paragraphs on lines of their own, table cells
// apart by tabs; deleted text (tracked changes) and field codes left out.
func DOCX(ctx context.Context, zr *zip.Reader, maxUnzipped int64, out io.StringWriter) error {
	budget := &maxUnzipped
	found := false
	for _, name := range []string{"word/document.xml", "word/footnotes.xml", "word/endnotes.xml"} {
		f := zipFile(zr, name)
		if f == nil {
			continue
		}
		found = true
		if err := readXML(ctx, f, budget, out, docxTokens()); err != nil {
			return err
		}
	}
	if !found {
		return errors.New("not a Word document: it has no word/document.xml")
	}
	return nil
}

// ODT writes the text of an OpenDocument text to out: paragraphs and
// headings on lines of their own, spaces (text:s) and tabs as written,
// table cells apart by tabs; deleted text (tracked changes) left out.
func ODT(ctx context.Context, zr *zip.Reader, maxUnzipped int64, out io.StringWriter) error {
	f := zipFile(zr, "content.xml")
	if f == nil {
		return errors.New("not an OpenDocument text: it has no content.xml")
	}
	return readXML(ctx, f, &maxUnzipped, out, odtTokens())
}

// XLSX writes the text of an Excel workbook's cells to out: its shared
// strings (where Excel keeps every cell's text), one a line. Numbers and
// formulas are not text to search.
func XLSX(ctx context.Context, zr *zip.Reader, maxUnzipped int64, out io.StringWriter) error {
	f := zipFile(zr, "xl/sharedStrings.xml")
	if f == nil {
		return nil // no text cells
	}
	return readXML(ctx, f, &maxUnzipped, out, xmlTokens{start: noText, end: map[string]string{"si": "\n"},
		skip: map[string]bool{"rPh": true}, text: map[string]bool{"t": true}})
}

// PPTX writes the text of a PowerPoint presentation's slides to out, in
// slide order, and their notes.
func PPTX(ctx context.Context, zr *zip.Reader, maxUnzipped int64, out io.StringWriter) error {
	var slides []*zip.File
	for _, prefix := range []string{"ppt/slides/slide", "ppt/notesSlides/notesSlide"} {
		var part []*zip.File
		for _, f := range zr.File {
			if n, ok := strings.CutPrefix(f.Name, prefix); ok && strings.HasSuffix(n, ".xml") {
				if _, err := strconv.Atoi(strings.TrimSuffix(n, ".xml")); err == nil {
					part = append(part, f)
				}
			}
		}
		slices.SortFunc(part, func(a, b *zip.File) int { return slideNumber(a.Name) - slideNumber(b.Name) })
		slides = append(slides, part...)
	}
	if len(slides) == 0 {
		return errors.New("not a PowerPoint presentation: it has no slides")
	}
	budget := maxUnzipped
	for _, f := range slides {
		err := readXML(ctx, f, &budget, out, xmlTokens{start: func(e xml.StartElement) string {
			if e.Name.Local == "br" {
				return "\n"
			}
			return ""
		}, end: map[string]string{"p": "\n", "sld": "\f", "notes": "\f"}, text: map[string]bool{"t": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

// slideNumber is the number a slide's file name ends with (slide12.xml).
func slideNumber(name string) int {
	name = strings.TrimSuffix(name, ".xml")
	i := strings.LastIndexFunc(name, func(r rune) bool { return r < '0' || r > '9' })
	n, _ := strconv.Atoi(name[i+1:])
	return n
}

func noText(xml.StartElement) string { return "" }

// openZip opens a zip of at most maxZipEntries files.
func openZip(r io.ReaderAt, size int64) (*zip.Reader, error) {
	if n, ok := zipEntries(r, size); ok && n > maxZipEntries {
		return nil, fmt.Errorf("it holds %d files, more than the %d a document may", n, maxZipEntries)
	}
	return zip.NewReader(r, size)
}

// zipEntries reads the count of files from a zip's end of directory
// record, before the directory itself is read; ok is false when it is not
// found (zip.NewReader then says what is wrong). A Zip64 count is taken
// as more than any document holds.
func zipEntries(r io.ReaderAt, size int64) (int, bool) {
	n := min(size, 64<<10+22)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, false
	}
	for i := len(buf) - 22; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == 0x06054b50 {
			c := int(binary.LittleEndian.Uint16(buf[i+10:]))
			if c == 0xFFFF {
				return 1 << 30, true
			}
			return c, true
		}
	}
	return 0, false
}

func zipFile(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// xmlTokens turns one XML element into text: start and end say what an
// element's start and end write; skip names the elements whose content is
// not text; text names those whose character data is (nil: all).
type xmlTokens struct {
	start func(e xml.StartElement) string
	end   map[string]string
	skip  map[string]bool
	text  map[string]bool
}

func docxTokens() xmlTokens {
	return xmlTokens{
		start: func(e xml.StartElement) string {
			switch e.Name.Local {
			case "tab":
				return "\t"
			case "br", "cr":
				return "\n"
			case "noBreakHyphen":
				return "-"
			}
			return ""
		},
		end:  map[string]string{"p": "\n", "tc": "\t", "tr": "\n"},
		skip: map[string]bool{"del": true, "instrText": true, "delText": true},
		text: map[string]bool{"t": true},
	}
}

func odtTokens() xmlTokens {
	return xmlTokens{
		start: func(e xml.StartElement) string {
			switch e.Name.Local {
			case "s":
				n := 1
				for _, a := range e.Attr {
					if a.Name.Local == "c" {
						if c, err := strconv.Atoi(a.Value); err == nil && c > 0 {
							n = min(c, 100)
						}
					}
				}
				return strings.Repeat(" ", n)
			case "tab":
				return "\t"
			case "line-break":
				return "\n"
			}
			return ""
		},
		end:  map[string]string{"p": "\n", "h": "\n", "table-cell": "\t", "table-row": "\n"},
		skip: map[string]bool{"tracked-changes": true, "automatic-styles": true, "font-face-decls": true, "scripts": true},
	}
}

// readXML streams one file of a zip through the XML tokenizer, within what
// is left of budget: a file that inflates past it stops there (a zip bomb
// is read no further than the budget, whatever sizes its directory claims).
func readXML(ctx context.Context, f *zip.File, budget *int64, out io.StringWriter, t xmlTokens) error {
	if *budget <= 0 {
		return errors.New("the document's files are larger than can be read (CASEFILE_EXTRACT_MAX_UNZIPPED_BYTES)")
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s could not be read: %v", f.Name, err)
	}
	defer rc.Close()
	lr := &budgetReader{r: rc, left: budget}
	d := xml.NewDecoder(&ctxReader{ctx: ctx, r: lr})
	d.Strict = false
	skip, inText := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if lr.over {
				return fmt.Errorf("%s inflates past %d bytes (CASEFILE_EXTRACT_MAX_UNZIPPED_BYTES); the text before that is kept", f.Name, lr.limit)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s is not well-formed XML (%v); the text before that is kept", f.Name, err)
		}
		var s string
		switch e := tok.(type) {
		case xml.StartElement:
			switch {
			case t.skip[e.Name.Local]:
				skip++
			case skip == 0:
				s = t.start(e)
				if t.text[e.Name.Local] {
					inText++
				}
			}
		case xml.EndElement:
			switch {
			case t.skip[e.Name.Local]:
				skip = max(skip-1, 0)
			case skip == 0:
				s = t.end[e.Name.Local]
				if t.text[e.Name.Local] {
					inText = max(inText-1, 0)
				}
			}
		case xml.CharData:
			if skip == 0 && (t.text == nil || inText > 0) {
				s = string(e)
			}
		}
		if s != "" {
			if _, err := out.WriteString(s); err != nil {
				return err
			}
		}
	}
}

// budgetReader reads while the shared budget lasts.
type budgetReader struct {
	r     io.Reader
	left  *int64
	limit int64
	over  bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.limit == 0 {
		b.limit = *b.left
	}
	if *b.left <= 0 {
		b.over = true
		return 0, errors.New("over budget")
	}
	if int64(len(p)) > *b.left {
		p = p[:*b.left]
	}
	n, err := b.r.Read(p)
	*b.left -= int64(n)
	return n, err
}
