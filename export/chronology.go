package export

import (
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/council/casefile"
)

// chronology is the notes of a record in order, as a reader of the bundle
// sees them: corrections beside what they correct, amended visit notes with
// every version, removed notes as tombstones without content.
type chronology struct {
	Person      ManifestPerson
	GeneratedAt time.Time
	GeneratedBy string
	Entries     []*chronEntry
}

type chronEntry struct {
	ID, Type, TypeLabel string
	OccurredAt          time.Time
	RecordedAt          time.Time
	Author              string
	Imported            bool
	Removed             bool
	RemovedOn           string
	RemovalTicket       string
	Body                string
	Corrects            string
	CorrectionReason    string
	CorrectedBy         []string
	Versions            []*casefile.NoteVersion // only when amended (more than one)
}

func buildChronology(m *Manifest, notes []*casefile.ExportNote) *chronology {
	c := &chronology{Person: m.Person, GeneratedAt: m.GeneratedAt, GeneratedBy: m.GeneratedBy}
	byID := map[string]*chronEntry{}
	for _, n := range notes {
		e := &chronEntry{ID: n.ID, Type: n.Type, TypeLabel: n.Type, OccurredAt: n.OccurredAt.UTC(), RecordedAt: n.RecordedAt.UTC(),
			Author: n.Author, Imported: n.Imported, CorrectionReason: n.CorrectionReason}
		if t, ok := casefile.LookupNoteType(n.Type); ok {
			e.TypeLabel = t.Label
		}
		if n.CorrectsNoteID != nil {
			e.Corrects = *n.CorrectsNoteID
		}
		if n.Status != casefile.StatusActive {
			e.Removed = true
			if n.Tombstone != nil {
				if n.Tombstone.At != nil {
					e.RemovedOn = n.Tombstone.At.UTC().Format("2006-01-02")
				}
				e.RemovalTicket = n.Tombstone.TicketID
			}
		} else {
			if n.Body != nil {
				e.Body = *n.Body
			}
			if len(n.History) > 1 {
				e.Versions = n.History
			}
		}
		byID[n.ID] = e
		c.Entries = append(c.Entries, e)
	}
	for _, e := range c.Entries {
		if t, ok := byID[e.Corrects]; ok {
			t.CorrectedBy = append(t.CorrectedBy, e.ID)
		}
	}
	return c
}

var htmlTmpl = template.Must(template.New("chronology").Funcs(template.FuncMap{
	"ts": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
	"body": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Chronology: {{.Person.GivenName}} {{.Person.FamilyName}} ({{.Person.ExternalRef}})</title>
<style>
body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}
.note{border-top:1px solid #999;padding:.6em 0}.meta{color:#444;font-size:.9em}
.body{white-space:pre-wrap}.removed{color:#800}.corr{border-left:4px solid #c60;padding-left:.6em}
.versions{margin-left:1.5em}
</style></head><body>
<h1>Chronology of case notes</h1>
<p>{{.Person.GivenName}} {{.Person.FamilyName}}, reference {{.Person.ExternalRef}}{{with .Person.DateOfBirth}}, born {{.}}{{end}}.<br>
Generated {{ts .GeneratedAt}} by {{.GeneratedBy}}. {{len .Entries}} notes, in the order they happened.</p>
{{range .Entries}}<div class="note{{if .Corrects}} corr{{end}}" id="note-{{.ID}}">
<div class="meta"><strong>{{ts .OccurredAt}}</strong>: {{.TypeLabel}}, by {{.Author}}; recorded {{ts .RecordedAt}}{{if .Imported}} (imported from the previous system){{end}}. Note {{.ID}}.</div>
{{if .Corrects}}<div class="meta">Corrects <a href="#note-{{.Corrects}}">note {{.Corrects}}</a>: {{.CorrectionReason}}</div>{{end}}
{{if .Removed}}<p class="removed">This note was removed{{with .RemovedOn}} on {{.}}{{end}}{{with .RemovalTicket}} under ICT ticket {{.}}{{end}}. Its content is not part of the record.</p>
{{else if .Versions}}<div class="versions">{{range .Versions}}<p class="meta">Version {{.Version}}, {{ts .CreatedAt}} by {{.CreatedBy}}{{with .Reason}}: {{.}}{{end}}</p><div class="body">{{body .Body}}</div>{{end}}</div>
{{else}}<div class="body">{{.Body}}</div>{{end}}
{{range .CorrectedBy}}<div class="meta">Corrected by <a href="#note-{{.}}">note {{.}}</a>.</div>{{end}}
</div>
{{end}}</body></html>
`))

func renderHTML(w io.Writer, c *chronology) error { return htmlTmpl.Execute(w, c) }

// pdfFonts names the TrueType fonts of the PDF chronology: DejaVu Sans
// (Debian's fonts-dejavu-core), which covers Latin, Greek, Cyrillic, Arabic,
// Hebrew and more, read from dir at export time. Without them the PDF falls
// back to the standard Helvetica, which covers only Windows-1252 (other
// characters show as "?"); the HTML chronology is complete either way.
var pdfFonts = map[string]string{"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}

// DefaultFontDir is where Debian's fonts-dejavu-core puts them.
const DefaultFontDir = "/usr/share/fonts/truetype/dejavu"

// setUpFonts loads the Unicode fonts from dir into pdf and returns the font
// family to use and how to prepare text for it.
func setUpFonts(pdf *fpdf.Fpdf, dir string) (string, func(string) string) {
	if dir != "" {
		loaded := map[string][]byte{}
		for style, file := range pdfFonts {
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				break
			}
			loaded[style] = b
		}
		if len(loaded) == len(pdfFonts) {
			for style, b := range loaded {
				pdf.AddUTF8FontFromBytes("DejaVu", style, b)
			}
			if pdf.Err() {
				pdf.ClearError()
			} else {
				return "DejaVu", func(s string) string { return s }
			}
		}
	}
	return "Helvetica", pdf.UnicodeTranslatorFromDescriptor("")
}

// renderPDF writes the same chronology as a PDF, in DejaVu Sans when the
// fonts are in fontDir (see pdfFonts), otherwise in Helvetica.
func renderPDF(w io.Writer, c *chronology, fontDir string) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	family, txt := setUpFonts(pdf, fontDir)
	pdf.SetTitle("Chronology of case notes", true)
	pdf.SetCreator("casefile", true)
	pdf.SetAutoPageBreak(true, 15)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont(family, "", 8)
		pdf.CellFormat(0, 5, txt(fmt.Sprintf("%s %s (%s) - page %d", c.Person.GivenName, c.Person.FamilyName, c.Person.ExternalRef, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont(family, "B", 16)
	pdf.MultiCell(0, 8, txt("Chronology of case notes"), "", "L", false)
	pdf.SetFont(family, "", 10)
	head := fmt.Sprintf("%s %s, reference %s", c.Person.GivenName, c.Person.FamilyName, c.Person.ExternalRef)
	if c.Person.DateOfBirth != nil {
		head += ", born " + c.Person.DateOfBirth.String()
	}
	pdf.MultiCell(0, 5, txt(head), "", "L", false)
	pdf.MultiCell(0, 5, txt(fmt.Sprintf("Generated %s by %s. %d notes, in the order they happened.",
		c.GeneratedAt.Format("2006-01-02 15:04 MST"), c.GeneratedBy, len(c.Entries))), "", "L", false)
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
	for _, e := range c.Entries {
		pdf.Ln(3)
		pdf.SetFont(family, "B", 10)
		meta := fmt.Sprintf("%s: %s, by %s; recorded %s", ts(e.OccurredAt), e.TypeLabel, e.Author, ts(e.RecordedAt))
		if e.Imported {
			meta += " (imported)"
		}
		pdf.MultiCell(0, 5, txt(meta), "T", "L", false)
		pdf.SetFont(family, "", 8)
		pdf.MultiCell(0, 4, txt("Note "+e.ID), "", "L", false)
		if e.Corrects != "" {
			pdf.MultiCell(0, 4, txt(fmt.Sprintf("Corrects note %s: %s", e.Corrects, e.CorrectionReason)), "", "L", false)
		}
		pdf.SetFont(family, "", 10)
		switch {
		case e.Removed:
			s := "This note was removed"
			if e.RemovedOn != "" {
				s += " on " + e.RemovedOn
			}
			if e.RemovalTicket != "" {
				s += " under ICT ticket " + e.RemovalTicket
			}
			pdf.MultiCell(0, 5, txt(s+". Its content is not part of the record."), "", "L", false)
		case len(e.Versions) > 0:
			for _, v := range e.Versions {
				pdf.SetFont(family, "I", 9)
				line := fmt.Sprintf("Version %d, %s by %s", v.Version, ts(v.CreatedAt), v.CreatedBy)
				if v.Reason != "" {
					line += ": " + v.Reason
				}
				pdf.MultiCell(0, 5, txt(line), "", "L", false)
				pdf.SetFont(family, "", 10)
				if v.Body != nil {
					pdf.MultiCell(0, 5, txt(*v.Body), "", "L", false)
				}
			}
		default:
			pdf.MultiCell(0, 5, txt(e.Body), "", "L", false)
		}
		for _, id := range e.CorrectedBy {
			pdf.SetFont(family, "I", 8)
			pdf.MultiCell(0, 4, txt("Corrected by note "+id), "", "L", false)
		}
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}

// SetUpFonts loads the Unicode fonts from dir (DefaultFontDir when empty)
// into pdf, as the chronology does, and returns the font family to use and
// how to prepare text for it.
func SetUpFonts(pdf *fpdf.Fpdf, dir string) (string, func(string) string) {
	if dir == "" {
		dir = DefaultFontDir
	}
	return setUpFonts(pdf, dir)
}
