package retention

import (
	"fmt"
	"io"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/council/casefile"
)

// WriteCertificatePDF writes a run's destruction certificate as a PDF for
// people to file: the run, its date, who approved it, every destroyed item
// by type, id, class, sha256 and date (never content), the certificate's
// own sha256 and where residual copies remain. Times are shown in loc.
func WriteCertificatePDF(w io.Writer, run *casefile.RetentionRun, council string, loc *time.Location) error {
	c := run.Certificate
	if c == nil {
		return casefile.Errorf(casefile.ENotFound, "no_certificate", "This run has no destruction certificate: only a real run that has finished has one.")
	}
	if loc == nil {
		loc = time.UTC
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	txt := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle("Destruction certificate "+c.RunID, true)
	pdf.SetCreator("casefile", true)
	pdf.SetAutoPageBreak(true, 15)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, txt(fmt.Sprintf("Destruction certificate, run %s - page %d of {nb}", c.RunID, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, txt("Destruction certificate"), "", "L", false)
	pdf.SetFont("Helvetica", "", 10)
	ts := func(t time.Time) string { return t.In(loc).Format("2 January 2006, 15:04 MST") }
	approvers := ""
	for i, a := range c.Approvers {
		if i > 0 {
			approvers += "; "
		}
		approvers += fmt.Sprintf("%s (id %s) on %s", a.Name, a.ID, ts(a.ApprovedAt))
	}
	if approvers == "" {
		approvers = c.ApprovedBy
	}
	for _, line := range [][2]string{
		{"Council", council},
		{"Retention run", c.RunID},
		{"Records due as of", c.AsOf.Time().Format("2 January 2006")},
		{"Issued", ts(c.IssuedAt)},
		{"Requested by", run.RequestedBy},
		{"Approved by", approvers},
		{"Items destroyed", fmt.Sprint(len(c.Items))},
		{"Certificate SHA-256", c.SHA256},
	} {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(45, 5, txt(line[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5, txt(line[1]), "", "L", false)
	}
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 4.5, txt("Every item below was destroyed by this run: its content, every stored version of its original and its "+
		"search text. The list names each item by id, record class and the SHA-256 of its content, and holds nothing of the content."), "", "L", false)
	if c.ResidualCopies != "" {
		pdf.Ln(1)
		pdf.MultiCell(0, 4.5, txt("Residual copies: "+c.ResidualCopies), "", "L", false)
	}
	pdf.Ln(3)
	widths := []float64{14, 48, 32, 18, 78}
	header := []string{"Type", "Id", "Class", "Due on", "SHA-256"}
	row := func(cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 6)
		for i, s := range cells {
			pdf.CellFormat(widths[i], 4.5, txt(s), "B", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	row(header, true)
	for _, it := range c.Items {
		due := ""
		if it.DisposalDueOn != nil {
			due = it.DisposalDueOn.String()
		}
		row([]string{it.ItemType, it.ItemID, it.RecordClass, due, it.SHA256}, false)
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}
