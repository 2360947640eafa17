package disclosure

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/council/casefile"
	"github.com/council/casefile/export"
)

// A redaction is burned in: the renderer writes the text around it and, in
// its place, a black box with the reason's label. The redacted characters
// are never handed to the PDF library, so they are in no content stream,
// no font subset (the glyphs of characters never written are not embedded),
// no metadata and no hidden layer: there is nothing under the box.

// Box is one black box: the merged redactions [Start, End) of an item's
// text, labelled with their reasons.
type Box struct {
	Start, End int
	Label      string
}

// Boxes merges an item's redactions where they overlap, labelled with their
// reasons, in order.
func Boxes(rs []*casefile.Redaction, label func(string) string) []Box {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b *casefile.Redaction) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	var out []Box
	var reasons []string
	for _, r := range sorted {
		if n := len(out); n > 0 && r.Start < out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			if !slices.Contains(reasons, label(r.Reason)) {
				reasons = append(reasons, label(r.Reason))
				out[n-1].Label = "Redacted: " + strings.Join(reasons, ", ")
			}
			continue
		}
		reasons = []string{label(r.Reason)}
		out = append(out, Box{r.Start, r.End, "Redacted: " + reasons[0]})
	}
	return out
}

// pdfDoc is one PDF of the bundle being written.
type pdfDoc struct {
	pdf    *fpdf.Fpdf
	family string
	txt    func(string) string
}

// newPDF starts a PDF whose metadata says nothing of the record's content:
// a neutral title, casefile as creator, the build's time.
func newPDF(fontDir, title, footer string, at time.Time) *pdfDoc {
	pdf := fpdf.New("P", "mm", "A4", "")
	family, txt := export.SetUpFonts(pdf, fontDir)
	pdf.SetTitle(title, true)
	pdf.SetCreator("casefile", true)
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetAutoPageBreak(true, 15)
	d := &pdfDoc{pdf: pdf, family: family, txt: txt}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont(family, "", 8)
		pdf.SetTextColor(60, 60, 60)
		pdf.CellFormat(0, 5, txt(fmt.Sprintf("%s - page %d", footer, pdf.PageNo())), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	return d
}

func (d *pdfDoc) heading(s string) {
	d.pdf.SetFont(d.family, "B", 14)
	d.pdf.MultiCell(0, 7, d.txt(s), "", "L", false)
}

func (d *pdfDoc) line(style string, size float64, s string) {
	d.pdf.SetFont(d.family, style, size)
	d.pdf.MultiCell(0, size/2, d.txt(s), "", "L", false)
}

// body writes text with the boxes burned in, flowing as running text.
func (d *pdfDoc) body(text string, bs []Box) {
	const h = 5
	pdf := d.pdf
	pdf.SetFont(d.family, "", 10)
	pdf.Ln(2)
	runes := []rune(text)
	at := 0
	for _, b := range bs {
		if b.Start > at {
			pdf.Write(h, d.txt(string(runes[at:b.Start])))
		}
		pdf.SetFont(d.family, "B", 8)
		label := d.txt(b.Label)
		w := pdf.GetStringWidth(label) + 3
		pageW, _ := pdf.GetPageSize()
		_, _, right, _ := pdf.GetMargins()
		if pdf.GetX()+w > pageW-right {
			pdf.Ln(h)
		}
		pdf.SetFillColor(0, 0, 0)
		pdf.SetTextColor(255, 255, 255)
		pdf.CellFormat(w, h, label, "", 0, "C", true, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont(d.family, "", 10)
		at = b.End
	}
	if at < len(runes) {
		pdf.Write(h, d.txt(string(runes[at:])))
	}
	pdf.Ln(h)
}

func (d *pdfDoc) output(w io.Writer) error {
	if err := d.pdf.Error(); err != nil {
		return err
	}
	return d.pdf.Output(w)
}

const stamp = "2006-01-02 15:04 MST"

// renderItem writes one item as a PDF: a heading that names it by type and
// id, what it is (a redacted rendering, never the original), and its text
// with its redactions burned in.
func (s *Service) renderItem(w io.Writer, it *Item, discID string, at time.Time) error {
	d := newPDF(s.FontDir, it.Label(), "Disclosure "+discID+", "+it.Label(), at)
	d.heading(it.Label())
	switch {
	case it.note != nil:
		n := it.note
		kind := n.Type
		if t, ok := casefile.LookupNoteType(n.Type); ok {
			kind = t.Label
		}
		d.line("", 9, fmt.Sprintf("%s, by %s; happened %s, recorded %s.", kind, n.Author,
			n.OccurredAt.UTC().Format(stamp), n.RecordedAt.UTC().Format(stamp)))
	case it.Kind == casefile.DocumentEmail:
		d.line("", 9, fmt.Sprintf("Added to the record %s. A rendering of the email's headers and text; its attachments are given separately.",
			it.Date.UTC().Format(stamp)))
	default:
		d.line("", 9, fmt.Sprintf("Added to the record %s (%s).", it.Date.UTC().Format(stamp), it.ContentType))
	}
	if it.Type == casefile.ItemDocument && len(it.Redactions) > 0 {
		d.line("B", 10, "This is a redacted rendering of the document's text. The original document is not included in this disclosure.")
	}
	if len(it.Redactions) > 0 {
		d.line("I", 9, fmt.Sprintf("%d redaction(s); each black box stands where text was removed, labelled with the reason.", len(it.Redactions)))
	}
	d.body(it.Text, Boxes(it.Redactions, s.ReasonLabel))
	return d.output(w)
}

// renderSchedule writes the schedule of withheld documents: what (id, kind,
// date, type) and why; never their filenames or content.
func (s *Service) renderSchedule(w io.Writer, discID string, withheld []*Item, at time.Time) error {
	d := newPDF(s.FontDir, "Schedule of withheld documents", "Disclosure "+discID+", schedule of withheld documents", at)
	d.heading("Schedule of withheld documents")
	if len(withheld) == 0 {
		d.line("", 10, "No document was withheld.")
	}
	for _, it := range withheld {
		d.pdf.Ln(2)
		d.line("B", 10, it.Label())
		d.line("", 10, fmt.Sprintf("%s, added to the record %s, %s.", it.Kind, it.Date.UTC().Format(stamp), it.ContentType))
		d.line("", 10, fmt.Sprintf("Withheld: %s (decided by %s, %s).", s.ReasonLabel(it.Withheld.Reason), it.Withheld.By, it.Withheld.At.UTC().Format(stamp)))
	}
	return d.output(w)
}

// renderLog writes the redaction log: who, when, why and where (the item
// and the characters' positions), never the text.
func (s *Service) renderLog(w io.Writer, discID string, its []*Item, at time.Time) error {
	d := newPDF(s.FontDir, "Redaction log", "Disclosure "+discID+", redaction log", at)
	d.heading("Redaction log")
	d.line("", 9, "Each redaction: the item, the positions of the characters removed (counted from 0 in the item's text), the reason, who and when. The removed text is not recorded.")
	n := 0
	for _, it := range its {
		for _, r := range it.Redactions {
			n++
			d.line("", 9, fmt.Sprintf("%d. %s, characters %d to %d: %s; by %s, %s.", n, it.Label(), r.Start, r.End,
				s.ReasonLabel(r.Reason), r.By, r.At.UTC().Format(stamp)))
		}
	}
	if n == 0 {
		d.line("", 10, "Nothing was redacted.")
	}
	return d.output(w)
}
