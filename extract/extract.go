// Package extract turns a stored document into the text that search and
// disclosure read: a PDF's text layer, Word (.docx), OpenDocument (.odt),
// Word 97-2003 (.doc), RTF, HTML and plain text (and the cells of .xlsx and
// the slides of .pptx) are read by Go code here; images (JPEG, PNG,
// TIFF) and scanned PDFs by Tesseract OCR, with poppler's pdftotext and
// pdftoppm, as subprocesses.
//
// Every extraction is bounded: in time (a deadline for the whole document),
// in memory (the Go readers stream and cap what they decompress; each
// subprocess runs under an address-space limit), in output (the text is cut
// at a size), and in pages for OCR. A hostile or broken file fails its
// extraction with a warning, never the worker: a panic in a reader is
// recovered into one. Extract never returns an error; the document:extract
// task (Task) records what it returns.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/council/casefile"
)

// Limits bound one document's extraction.
type Limits struct {
	// Timeout is the time one document may take, OCR included.
	Timeout time.Duration
	// MaxBytes is the largest file whose text is extracted.
	MaxBytes int64
	// MaxText is the most text kept of a document, in bytes; the rest is
	// cut with a warning.
	MaxText int
	// MaxUnzipped bounds what is decompressed of a .docx or .odt.
	MaxUnzipped int64
	// Memory is the address space each subprocess may use.
	Memory int64
	// OCRPages is how many pages of a scanned PDF are read by OCR.
	OCRPages int
	// MaxPixels is the largest image (width × height) given to OCR.
	MaxPixels int64
	// OCRLanguage is Tesseract's language ("eng"; "eng+pol" for two).
	OCRLanguage string
	// Procs is how many subprocesses run at once in this process.
	Procs int
}

// DefaultLimits are the limits when none are configured.
var DefaultLimits = Limits{
	Timeout:     5 * time.Minute,
	MaxBytes:    256 << 20,
	MaxText:     8 << 20,
	MaxUnzipped: 64 << 20,
	Memory:      1 << 30,
	OCRPages:    50,
	MaxPixels:   100_000_000,
	OCRLanguage: "eng",
}

// withDefaults fills unset limits from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxText <= 0 {
		l.MaxText = d.MaxText
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = d.MaxUnzipped
	}
	if l.Memory <= 0 {
		l.Memory = d.Memory
	}
	if l.OCRPages <= 0 {
		l.OCRPages = d.OCRPages
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.OCRLanguage == "" {
		l.OCRLanguage = d.OCRLanguage
	}
	if l.Procs <= 0 {
		l.Procs = runtime.NumCPU()
	}
	return l
}

// Extractor extracts the text of documents. Its zero value works, with
// DefaultLimits; it is safe for concurrent use.
type Extractor struct {
	Limits Limits
	// TempDir is where files for the subprocesses are made ("" is the
	// system's); each extraction's are removed when it ends.
	TempDir string

	once  sync.Once
	lim   Limits
	procs chan struct{}
}

func (e *Extractor) init() {
	e.once.Do(func() {
		e.lim = e.Limits.withDefaults()
		e.procs = make(chan struct{}, e.lim.Procs)
	})
}

// Format is a kind of file whose text is extracted.
type Format string

// The formats.
const (
	FormatPDF   Format = "pdf"
	FormatDOCX  Format = "docx"
	FormatDOC   Format = "doc"
	FormatODT   Format = "odt"
	FormatXLSX  Format = "xlsx"
	FormatPPTX  Format = "pptx"
	FormatRTF   Format = "rtf"
	FormatHTML  Format = "html"
	FormatText  Format = "text"
	FormatImage Format = "image"
	FormatNone  Format = "" // no text to extract
)

// Detect says which format a file is, from its first bytes first (what the
// uploader called it may be wrong), then its name and declared type.
func Detect(head []byte, filename, contentType string) Format {
	mt := mimetype.Detect(head)
	ext := strings.ToLower(path.Ext(filename))
	for m := mt; m != nil; m = m.Parent() {
		t, _, _ := strings.Cut(m.String(), ";")
		switch t {
		case "application/pdf":
			return FormatPDF
		case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
			return FormatDOCX
		case "application/msword":
			return FormatDOC
		case "application/x-ole-storage":
			if ext == ".doc" || ext == ".dot" || contentType == "application/msword" {
				return FormatDOC
			}
			return FormatNone
		case "application/vnd.oasis.opendocument.text":
			return FormatODT
		case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			return FormatXLSX
		case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
			return FormatPPTX
		case "text/rtf":
			return FormatRTF
		case "text/html":
			return FormatHTML
		case "image/png", "image/jpeg", "image/tiff":
			return FormatImage
		case "application/zip":
			switch {
			case ext == ".docx" || contentType == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
				return FormatDOCX
			case ext == ".odt" || contentType == "application/vnd.oasis.opendocument.text":
				return FormatODT
			case ext == ".xlsx":
				return FormatXLSX
			case ext == ".pptx":
				return FormatPPTX
			}
			return FormatNone
		case "text/plain":
			switch {
			case ext == ".rtf" || bytes.HasPrefix(head, []byte(`{\rtf`)):
				return FormatRTF
			case ext == ".html" || ext == ".htm" || contentType == "text/html":
				return FormatHTML
			}
			return FormatText
		}
	}
	return FormatNone
}

// Extract reads the text of the file at path (its name and declared type
// help to tell its format). It never fails: a file that cannot be read
// gives a result in state failed, with a warning saying why.
func (e *Extractor) Extract(ctx context.Context, file, filename, contentType string) (res casefile.ExtractedText) {
	e.init()
	ctx, cancel := context.WithTimeout(ctx, e.lim.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			res = failed("the text could not be read: the reader stopped on this file (%v)", p)
		}
	}()
	f, err := os.Open(file)
	if err != nil {
		return failed("the file could not be opened: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return failed("the file could not be opened: %v", err)
	}
	if st.Size() > e.lim.MaxBytes {
		return failed("the file is larger than the %d bytes whose text is extracted (CASEFILE_EXTRACT_MAX_BYTES)", e.lim.MaxBytes)
	}
	head := make([]byte, 3072)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	format := Detect(head, filename, contentType)
	out := newText(e.lim.MaxText)
	var source = casefile.TextExtracted
	switch format {
	case FormatNone:
		return casefile.ExtractedText{State: casefile.TextNone}
	case FormatPDF:
		source, err = e.pdf(ctx, file, out)
	case FormatImage:
		source, err = casefile.TextOCR, e.image(ctx, file, f, out)
	case FormatDOCX, FormatODT, FormatXLSX, FormatPPTX:
		err = e.office(ctx, f, st.Size(), format, out)
	case FormatDOC:
		err = DOC(ctx, f, st.Size(), e.lim.MaxUnzipped, out)
	default:
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			err = e.stream(ctx, f, format, contentType, out)
		}
	}
	return out.result(ctx, source, err, e.lim.Timeout)
}

// stream extracts the formats read front to back.
func (e *Extractor) stream(ctx context.Context, r io.Reader, format Format, contentType string, out *text) error {
	r = &ctxReader{ctx: ctx, r: r}
	switch format {
	case FormatRTF:
		return RTF(r, out)
	case FormatHTML:
		return HTML(r, contentType, out)
	default:
		return PlainText(r, contentType, out)
	}
}

// office extracts a .docx, .odt, .xlsx or .pptx: a zip of XML.
func (e *Extractor) office(ctx context.Context, r io.ReaderAt, size int64, format Format, out *text) error {
	zr, err := openZip(r, size)
	if err != nil {
		return fmt.Errorf("not a readable %s (%v)", strings.ToUpper(string(format)), err)
	}
	switch format {
	case FormatDOCX:
		return DOCX(ctx, zr, e.lim.MaxUnzipped, out)
	case FormatXLSX:
		return XLSX(ctx, zr, e.lim.MaxUnzipped, out)
	case FormatPPTX:
		return PPTX(ctx, zr, e.lim.MaxUnzipped, out)
	}
	return ODT(ctx, zr, e.lim.MaxUnzipped, out)
}

// failed is a failed extraction's result.
func failed(format string, args ...any) casefile.ExtractedText {
	return casefile.ExtractedText{State: casefile.TextFailed, Warning: clip(fmt.Sprintf(format, args...), 500)}
}

// ctxReader stops reading once ctx ends, so that a Go reader working
// through a long input stops at the deadline.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errCut ends a reader once the text is as long as it may be.
var errCut = errors.New("text limit reached")

// tempPrefix begins the names of the files and directories an extraction
// makes (removed when it ends).
const tempPrefix = "casefile-extract-"

// CleanTemp removes what extractions left in dir (the system's temp
// directory when "") more than olderThan ago: a worker killed in the middle
// of one cannot remove its files. Other processes' extractions in progress
// are younger than that. It returns how many it removed.
func CleanTemp(dir string, olderThan time.Duration) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !strings.HasPrefix(e.Name(), tempPrefix) || time.Since(info.ModTime()) < olderThan {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}
