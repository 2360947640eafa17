package extract

import (
	"bufio"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads their sizes
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/council/casefile"
)

// ocrDPI is the resolution scanned pages are rasterised at: Tesseract reads
// best at about 300 dots per inch. ocrMaxSide bounds a page's picture
// whatever size the PDF says its page is (an A4 page at 300 dpi is 3508
// pixels high).
const (
	ocrDPI     = 300
	ocrMaxSide = 3508
)

// minLetters is how many letters a page's text layer must have for the
// page to count as text rather than a scan.
const minLetters = 20

// pdf extracts a PDF's text layer with pdftotext; the pages with little or
// no text layer (scans, whether the whole PDF or pages of it) are
// rasterised one by one with pdftoppm and read by Tesseract, up to OCRPages
// pages.
func (e *Extractor) pdf(ctx context.Context, file string, out *text) (string, error) {
	dir, err := os.MkdirTemp(e.TempDir, tempPrefix)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	layer := capped{max: e.lim.MaxText + 1}
	lerr := e.run(ctx, dir, &layer, "pdftotext", "-enc", "UTF-8", file, "-")
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	s := layer.String()
	if layer.cut || !strings.Contains(s, "\f") {
		// Text enough to fill the limit; or no page read at all.
		if lerr != nil && !layer.cut {
			return "", fmt.Errorf("not a readable PDF: %v", lerr)
		}
		_, err := out.WriteString(s)
		return casefile.TextExtracted, err
	}
	pages := strings.Split(s, "\f") // every page ends with a form feed
	pages = pages[:len(pages)-1]
	var scans []int
	for i, p := range pages {
		if letters(p) < minLetters {
			scans = append(scans, i)
		}
	}
	read := min(len(scans), e.lim.OCRPages)
	if len(scans) > read {
		out.warn("OCR read %d of the %d pages without a text layer (CASEFILE_EXTRACT_OCR_PAGES)", read, len(scans))
	}
	ocr := map[int]string{}
	var oerr error
	for _, i := range scans[:read] {
		page := newText(out.max)
		if oerr = e.ocrPage(ctx, dir, file, i+1, page); oerr != nil {
			break
		}
		if t := page.b.String(); strings.TrimSpace(t) != "" {
			ocr[i] = t
		}
	}
	source := casefile.TextExtracted
	for i, p := range pages {
		if t, ok := ocr[i]; ok {
			p, source = t, casefile.TextOCR
		}
		if i > 0 {
			p = "\f" + p
		}
		if _, err := out.WriteString(p); err != nil {
			return source, err
		}
	}
	switch {
	case oerr != nil && ctx.Err() == nil && len(ocr) > 0:
		oerr = fmt.Errorf("OCR stopped (%v); the text read before is kept", oerr)
	case oerr == nil && read > 0 && strings.TrimSpace(out.b.String()) == "":
		out.warn("OCR found no text on the %d page(s) without a text layer", read)
	}
	return source, oerr
}

// ocrPage rasterises one page of a PDF and reads it with Tesseract.
func (e *Extractor) ocrPage(ctx context.Context, dir, file string, page int, out *text) error {
	p := strconv.Itoa(page)
	prefix := filepath.Join(dir, "page")
	if err := e.run(ctx, dir, nil, "pdftoppm", "-r", strconv.Itoa(ocrDPI), "-scale-to", strconv.Itoa(ocrMaxSide), "-gray", "-png", "-singlefile",
		"-f", p, "-l", p, file, prefix); err != nil {
		return err
	}
	defer os.Remove(prefix + ".png")
	return e.tesseract(ctx, dir, prefix+".png", out)
}

// image reads an image by OCR, once its size is known to be within
// MaxPixels (TIFF's is left to the memory limit).
func (e *Extractor) image(ctx context.Context, file string, r io.ReadSeeker, out *text) error {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// A JPEG's size may come after its EXIF data: read as far as it is.
	if cfg, _, err := image.DecodeConfig(bufio.NewReader(io.LimitReader(r, 1<<20))); err == nil {
		if px := int64(cfg.Width) * int64(cfg.Height); px > e.lim.MaxPixels {
			return fmt.Errorf("the image is %d × %d pixels, larger than the %d read by OCR", cfg.Width, cfg.Height, e.lim.MaxPixels)
		}
	}
	dir, err := os.MkdirTemp(e.TempDir, tempPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return e.tesseract(ctx, dir, file, out)
}

// tesseract reads the text of an image.
func (e *Extractor) tesseract(ctx context.Context, dir, file string, out *text) error {
	res := capped{max: out.max + 1}
	if err := e.run(ctx, dir, &res, "tesseract", file, "stdout", "-l", e.lim.OCRLanguage, "--psm", "3"); err != nil {
		return err
	}
	_, err := out.WriteString(res.String())
	return err
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
