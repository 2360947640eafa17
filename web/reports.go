package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/reports"
)

const permReportsRead = "reports:read"

// The reports pages: managers see the reports about practice for their
// teams, records officers and auditors every report for everyone (package
// reports decides; the pages only show). Each report has a period form, a
// chart drawn on the server, the table it is drawn from, and its CSV.

func (s *Server) registerReports() {
	s.mux.HandleFunc("GET /reports", s.page(permReportsRead, s.reportsPage))
	s.mux.HandleFunc("GET /reports/{name}", s.page(permReportsRead, s.reportPage))
	s.mux.HandleFunc("GET /reports/{name}/csv", s.page(permReportsRead, s.reportCSV))
}

type reportsList struct {
	Reports []reports.Definition
}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.Reports == nil {
		s.errorPage(w, r, c, casefile.Unavailable("reports", fmt.Errorf("not configured")))
		return
	}
	s.render(w, r, c, http.StatusOK, "reports", &page{Title: "Reports", Nav: "reports",
		Data: reportsList{Reports: s.cfg.Reports.For(c.Actor)}})
}

type reportView struct {
	Def       reports.Definition
	From, To  string // as typed (or the defaults)
	Report    *reports.Report
	Chart     template.HTML
	Columns   []reports.Column
	Rows      [][]reportCell
	Totals    []reportCell
	CSVHref   string
	AllTeams  bool
	NoTeams   bool
	Generated string
	Zone      string // the zone the report's days and weeks are counted in
}

type reportCell struct {
	Href    string // a link to what the cell names, if any
	Label   string
	Text    string
	Numeric bool
}

// request reads the period form; a bad date is shown on its field.
func (s *Server) reportRequest(r *http.Request, name, format string) (reports.Request, []fieldError) {
	q := r.URL.Query()
	req, err := reports.ParseRequest(name, strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to")), format, s.cfg.Reports.Today())
	if err == nil {
		return req, nil
	}
	field := map[string]string{"invalid_from": "from", "invalid_to": "to", "invalid_range": "from"}[casefile.ErrorCode(err)]
	msg := map[string]string{
		"invalid_from": "Enter the first day as a date, for example 2026-03-01",
		"invalid_to":   "Enter the last day as a date, for example 2026-03-31",
	}[casefile.ErrorCode(err)]
	if msg == "" {
		msg = casefile.ErrorMessage(err)
	}
	return req, []fieldError{{Field: field, Message: msg}}
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.Reports == nil {
		s.errorPage(w, r, c, casefile.Unavailable("reports", fmt.Errorf("not configured")))
		return
	}
	name := r.PathValue("name")
	def, err := s.cfg.Reports.Lookup(name)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	q := r.URL.Query()
	v := &reportView{Def: def, From: q.Get("from"), To: q.Get("to")}
	req, errs := s.reportRequest(r, name, "json")
	if errs != nil {
		s.render(w, r, c, http.StatusBadRequest, "report", &page{Title: def.Title, Nav: "reports", Errors: errs, Data: v})
		return
	}
	rep, err := s.cfg.Reports.Build(r.Context(), req)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	v.From, v.To, v.Report = req.From.String(), req.To.String(), rep
	v.AllTeams, v.NoTeams = rep.Scope.All, !rep.Scope.All && len(rep.Scope.TeamIDs) == 0
	v.Generated = when(rep.GeneratedAt, s.cfg.Location)
	v.Zone = zoneText(s.cfg.Location)
	v.Chart = chartSVG(rep.ChartData(), "chart-"+name, func(l string) string { return s.cellText(l) })
	v.CSVHref = "/reports/" + name + "/csv?" + url.Values{"from": {v.From}, "to": {v.To}}.Encode()
	shown := []int{}
	for i, col := range rep.Columns {
		if strings.HasSuffix(col.Key, "_id") && col.Key != "disclosure_id" {
			continue // ids are in the CSV; the page shows names
		}
		shown = append(shown, i)
		v.Columns = append(v.Columns, col)
	}
	for _, row := range rep.Rows {
		var cells []reportCell
		for _, i := range shown {
			cell := reportCell{Text: s.cellText(row[i]), Numeric: rep.Columns[i].Numeric}
			if id, ok := row[i].(string); ok && rep.Columns[i].Key == "disclosure_id" {
				cell.Href = "/disclosures/" + id // the disclosure's own page
			}
			cells = append(cells, cell)
		}
		v.Rows = append(v.Rows, cells)
	}
	for _, k := range totalOrder(rep) {
		v.Totals = append(v.Totals, reportCell{Label: totalLabel(k), Text: s.cellText(rep.Totals[k])})
	}
	s.render(w, r, c, http.StatusOK, "report", &page{Title: def.Title, Nav: "reports", Data: v})
}

// reportCSV is the report's CSV (its columns' keys as the header row).
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.Reports == nil {
		s.errorPage(w, r, c, casefile.Unavailable("reports", fmt.Errorf("not configured")))
		return
	}
	name := r.PathValue("name")
	if _, err := s.cfg.Reports.Lookup(name); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	req, errs := s.reportRequest(r, name, "csv")
	if errs != nil {
		s.errorPage(w, r, c, casefile.Errorf(casefile.EInvalid, "invalid_range", "%s.", errs[0].Message))
		return
	}
	rep, err := s.cfg.Reports.Build(r.Context(), req)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, reports.FileName(rep)))
	h.Set("Cache-Control", "no-store")
	w.Write(rep.CSV()) //nolint:errcheck
}

// cellText shows a value as people read it: times in the council's zone,
// dates in words, yes and no; a value that does not exist as a dash.
func (s *Server) cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case time.Time:
		return when(x, s.cfg.Location)
	case *time.Time:
		if x == nil {
			return "–"
		}
		return when(*x, s.cfg.Location)
	case casefile.Date:
		return dateText(x)
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case string:
		if x == "" {
			return "–"
		}
		if kind := kindLabel(x); kind != "" {
			return kind
		}
		return x
	}
	if t := reports.Cell(v); t != "" {
		return t
	}
	return "–"
}

var totalLabels = map[string]string{
	"notes": "Notes recorded", "late": "Late notes", "late_pct": "Late (%)", "late_after_days": "Late after (days)",
	"refusals": "Refusals", "outstanding": "Outstanding now", "raised": "Raised in period", "done": "Done in period",
	"rejected": "Rejected in period", "median_hours": "Median hours to done", "p90_hours": "90th percentile hours to done",
	"break_glass": "Break-glass uses", "restricted_reads": "Reads of restricted records", "overdue": "Past their date",
	"due_30_days": "Due within 30 days", "due_90_days": "Due within 90 days", "due_365_days": "Due within 365 days",
	"held": "Under a hold", "as_of": "As of", "holds": "Holds in the period", "standing": "Standing now",
	"verifications": "Verifications", "anchors": "Anchors written", "failures": "Failures",
	"last_verification_at": "Last verification", "last_verification_ok": "Last verification passed",
	"last_anchor_at": "Last anchor", "last_anchor_ok": "Last anchor written",
}

func totalLabel(k string) string {
	if l, ok := totalLabels[k]; ok {
		return l
	}
	return label(k)
}

// totalOrder lists a report's totals in the order of totalLabels' meaning:
// the report's own first figures, then the rest by name.
func totalOrder(rep *reports.Report) []string {
	order := []string{"notes", "late", "late_pct", "late_after_days", "refusals", "outstanding", "raised", "done", "rejected",
		"median_hours", "p90_hours", "break_glass", "restricted_reads", "as_of", "overdue", "due_30_days", "due_90_days",
		"due_365_days", "held", "holds", "standing", "last_verification_at", "last_verification_ok", "last_anchor_at",
		"last_anchor_ok", "verifications", "anchors", "failures"}
	var out []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := rep.Totals[k]; ok {
			out = append(out, k)
			seen[k] = true
		}
	}
	for k := range rep.Totals {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// zoneText names a time zone as staff read it: "UK time" for the default,
// CASEFILE_TIMEZONE's own name for any other.
func zoneText(loc *time.Location) string {
	if loc.String() == "Europe/London" {
		return "UK time"
	}
	return loc.String()
}
