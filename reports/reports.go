// Package reports holds the compliance reports the council's policy asks for
// ("the council will regularly monitor and audit its practices"): what each
// report counts, over which period, for whom, and how it is written out
// (JSON or CSV). The store (casefile.ReportStore) reads the facts; this
// package decides the rest. A report shows staff names, ids, dates and
// counts, never anything of a person's record, and reading one is audited
// (report.read).
//
// Who sees what: records officers and auditors see every report, for
// everyone; a manager sees the reports about practice (late notes,
// pasted-email refusals, tickets, access) for their own teams only; nobody
// else sees reports.
package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/council/casefile"
)

// DefaultLateNoteDays is CASEFILE_LATE_NOTE_DAYS's default: a note recorded
// more than this many days after what it records happened is late.
const DefaultLateNoteDays = 2

// DefaultDays is the period a report covers when from is not given: the 30
// days that end with to.
const DefaultDays = 30

// MaxDays bounds a report's period (ten years).
const MaxDays = 3660

// Service builds reports.
type Service struct {
	Store casefile.ReportStore
	// Audit records each report read (report.read).
	Audit casefile.AuditService
	// LateNoteDays is CASEFILE_LATE_NOTE_DAYS (0: the default).
	LateNoteDays int
	// Disclosures lists overdue disclosures (the disclosures-overdue
	// report); nil leaves that report out.
	Disclosures DisclosureStore
	// Zone is the council's time zone (CASEFILE_TIMEZONE, as the pages
	// show times in): a report's days run from midnight to midnight there,
	// its weeks from Monday there, summer time included. nil is UTC.
	Zone *time.Location
	Now  func() time.Time
}

// DisclosureStore is what the disclosures-overdue report needs (the
// disclosures store, issue 16).
type DisclosureStore interface {
	// OverdueDisclosures lists the disclosures still open (not ready, not
	// withdrawn) whose due date is before asOf.
	OverdueDisclosures(ctx context.Context, asOf casefile.Date) ([]*casefile.Disclosure, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.UTC
}

// Today is the date in the council's zone: a report's default last day.
func (s *Service) Today() casefile.Date { return casefile.DateOf(s.now().In(s.zone())) }

func (s *Service) lateNoteDays() int {
	if s.LateNoteDays > 0 {
		return s.LateNoteDays
	}
	return DefaultLateNoteDays
}

// Definition names a report and says what it is for.
type Definition struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// About says in a sentence what it counts (docs/reports.md says exactly).
	About string `json:"about"`
	// Managers: a manager may read it, for their teams.
	Managers bool `json:"managers"`
	// Period: the report counts what happened between from and to; the
	// others are as they stand on to (disposals-due, disclosures-overdue).
	Period bool `json:"period"`
}

var definitions = []Definition{
	{"late-notes", "Late notes", "Notes recorded more than the allowed days after what they record happened, by team and author.", true, true},
	{"pasted-email-refusals", "Pasted-email refusals", "Notes and reasons refused because they contained a pasted email, by ISO week, team and author.", true, true},
	{"tickets", "ICT tickets", "Tickets outstanding and how long they have waited, and how long tickets took from raising to done, by kind.", true, true},
	{"access", "Access to restricted records", "Break-glass uses and reads of restricted records, by team and person.", true, true},
	{"disposals-due", "Disposals due", "Records whose disposal date has passed or falls within 30, 90 and 365 days, by record class.", false, false},
	{"holds", "Legal holds", "The legal holds that stood in the period and what each covers.", false, true},
	{"audit-integrity", "Audit log integrity", "Each verification of the audit log and each anchor written, the latest of each, and any failure.", false, true},
	{"disclosures-overdue", "Overdue disclosures", "Disclosures not finished by their statutory due date.", false, false},
}

// Definitions lists the reports this service can build (disclosures-overdue
// only when a DisclosureStore is wired).
func (s *Service) Definitions() []Definition {
	var out []Definition
	for _, d := range definitions {
		if d.Name == "disclosures-overdue" && s.Disclosures == nil {
			continue
		}
		out = append(out, d)
	}
	return out
}

// For lists the reports role may read.
func (s *Service) For(a casefile.Actor) []Definition {
	var out []Definition
	for _, d := range s.Definitions() {
		if _, err := scopeFor(a, d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// Lookup finds a report by name: ENotFound unknown_report naming them all.
func (s *Service) Lookup(name string) (Definition, error) {
	var names []string
	for _, d := range s.Definitions() {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return Definition{}, casefile.Errorf(casefile.ENotFound, "unknown_report", "There is no report %q; the reports are %s.",
		name, strings.Join(names, ", "))
}

// scopeFor decides whose figures the actor sees in report d.
func scopeFor(a casefile.Actor, d Definition) (casefile.ReportScope, error) {
	switch a.Role {
	case casefile.RoleRecordsOfficer, casefile.RoleAuditor:
		return casefile.ReportScope{All: true}, nil
	case casefile.RoleManager:
		if !d.Managers {
			return casefile.ReportScope{}, casefile.Errorf(casefile.EForbidden, "report_not_for_managers",
				"The %s report is for records officers and auditors; managers see late notes, pasted-email refusals, tickets and access for their teams.", d.Name)
		}
		return casefile.ReportScope{TeamIDs: slices.Clone(a.Teams)}, nil
	}
	return casefile.ReportScope{}, casefile.Errorf(casefile.EForbidden, "forbidden",
		"Reports are for managers (their teams), records officers and auditors.")
}

// Request is a report asked for.
type Request struct {
	Name     string
	From, To casefile.Date // both days included
	Format   string        // json, csv
}

// ParseRequest checks a report's query: from and to are dates (YYYY-MM-DD,
// days in the council's zone (Service.Zone), both included; to defaults to
// today, from to the 30 days ending with to), format is json (the default) or
// csv.
func ParseRequest(name, from, to, format string, today casefile.Date) (Request, error) {
	r := Request{Name: name, To: today, Format: "json"}
	if to != "" {
		d, err := casefile.ParseDate(to)
		if err != nil {
			return r, casefile.Errorf(casefile.EInvalid, "invalid_to", "to must be a date of the form YYYY-MM-DD (the last day included); got %q.", short(to))
		}
		r.To = d
	}
	r.From = r.To.AddDays(-(DefaultDays - 1))
	if from != "" {
		d, err := casefile.ParseDate(from)
		if err != nil {
			return r, casefile.Errorf(casefile.EInvalid, "invalid_from", "from must be a date of the form YYYY-MM-DD (the first day included); got %q.", short(from))
		}
		r.From = d
	}
	if r.From.After(r.To) {
		return r, casefile.Errorf(casefile.EInvalid, "invalid_range", "from (%s) is after to (%s).", r.From, r.To)
	}
	if r.To.Time().Sub(r.From.Time()) > MaxDays*24*time.Hour {
		return r, casefile.Errorf(casefile.EInvalid, "invalid_range", "A report covers at most %d days; ask for a shorter period.", MaxDays)
	}
	switch format {
	case "", "json":
	case "csv":
		r.Format = "csv"
	default:
		return r, casefile.Errorf(casefile.EInvalid, "invalid_format", "format is json or csv; got %q.", short(format))
	}
	return r, nil
}

func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Column is one column of a report's rows.
type Column struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Numeric columns are right-aligned in tables and may be charted.
	Numeric bool `json:"numeric,omitempty"`
}

// Report is a built report. Rows are in Columns' order; JSON writes each
// row as an object keyed by column.
type Report struct {
	Definition
	From, To    casefile.Date
	GeneratedAt time.Time
	Scope       casefile.ReportScope
	Columns     []Column
	Rows        [][]any
	// Totals are the report's own totals (distinct events, not sums of
	// rows where one event is in several teams' rows).
	Totals map[string]any
	// Chart says how to draw it: bars labelled by LabelKey, one series per
	// key of Series, values summed over rows with the same label.
	Chart *ChartSpec
	// chartColumns and chartRows, when set, are what the chart counts
	// instead of Columns and Rows.
	chartColumns []Column
	chartRows    [][]any
}

// ChartSpec says which columns a report's chart shows.
type ChartSpec struct {
	Title    string
	LabelKey string
	Series   []string
}

// Build checks who may read the report, builds it and audits the read.
func (s *Service) Build(ctx context.Context, req Request) (*Report, error) {
	def, err := s.Lookup(req.Name)
	if err != nil {
		return nil, err
	}
	scope, err := scopeFor(casefile.ActorFrom(ctx), def)
	if err != nil {
		return nil, err
	}
	rep := &Report{Definition: def, From: req.From, To: req.To, GeneratedAt: s.now().UTC().Truncate(time.Second), Scope: scope}
	zone := s.zone()
	rng := casefile.ReportRange{From: req.From.StartIn(zone), To: req.To.AddDays(1).StartIn(zone), Zone: zone.String()}
	switch def.Name {
	case "late-notes":
		err = s.lateNotes(ctx, rep, rng)
	case "pasted-email-refusals":
		err = s.refusals(ctx, rep, rng)
	case "tickets":
		err = s.tickets(ctx, rep, rng)
	case "access":
		err = s.access(ctx, rep, rng)
	case "disposals-due":
		err = s.disposalsDue(ctx, rep)
	case "holds":
		err = s.holds(ctx, rep, rng)
	case "audit-integrity":
		err = s.auditIntegrity(ctx, rep, rng)
	case "disclosures-overdue":
		err = s.disclosuresOverdue(ctx, rep)
	}
	if err != nil {
		return nil, err
	}
	if s.Audit != nil {
		details, _ := json.Marshal(map[string]any{"from": req.From, "to": req.To, "format": req.Format, "rows": len(rep.Rows),
			"all": scope.All, "team_ids": nonNil(scope.TeamIDs)})
		if err := s.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "report.read", TargetType: "report", TargetID: def.Name,
			Details: details}); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MarshalJSON writes {name, title, from, to, generated_at, scope, columns, rows, totals}.
func (r *Report) MarshalJSON() ([]byte, error) {
	rows := make([]map[string]any, len(r.Rows))
	for i, row := range r.Rows {
		m := make(map[string]any, len(row))
		for j, c := range r.Columns {
			m[c.Key] = jsonValue(row[j])
		}
		rows[i] = m
	}
	totals := map[string]any{}
	for k, v := range r.Totals {
		totals[k] = jsonValue(v)
	}
	return json.Marshal(struct {
		Name        string           `json:"name"`
		Title       string           `json:"title"`
		From        casefile.Date    `json:"from"`
		To          casefile.Date    `json:"to"`
		GeneratedAt time.Time        `json:"generated_at"`
		Scope       any              `json:"scope"`
		Columns     []Column         `json:"columns"`
		Rows        []map[string]any `json:"rows"`
		Totals      map[string]any   `json:"totals"`
	}{r.Name, r.Title, r.From, r.To, r.GeneratedAt, map[string]any{"all": r.Scope.All, "team_ids": nonNil(r.Scope.TeamIDs)},
		r.Columns, rows, totals})
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.UTC()
	case time.Time:
		return x.UTC()
	case *int64:
		if x == nil {
			return nil
		}
		return *x
	case *int:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}

// CSV writes the rows with a header row of the columns' keys. Empty cells
// are values that do not exist (no ticket done, no anchor yet).
func (r *Report) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		head[i] = c.Key
	}
	w.Write(head) //nolint:errcheck // a bytes.Buffer does not fail
	for _, row := range r.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = Cell(v)
		}
		w.Write(rec) //nolint:errcheck
	}
	w.Flush()
	return buf.Bytes()
}

// Cell writes one value as text: numbers plainly, times in RFC 3339 UTC,
// dates as YYYY-MM-DD, booleans as true/false, missing values empty. A text
// that a spreadsheet would take for a formula is prefixed with '.
func Cell(v any) string {
	switch x := jsonValue(v).(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case casefile.Date:
		return x.String()
	}
	return fmt.Sprint(v)
}

// Value returns row i's value of column key (nil when there is none).
func (r *Report) Value(i int, key string) any {
	for j, c := range r.Columns {
		if c.Key == key {
			return jsonValue(r.Rows[i][j])
		}
	}
	return nil
}

// percentile is the nearest-rank percentile p (0 < p <= 1) of xs: the
// smallest value with at least p of the values at or below it. nil for none.
func percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	v := math.Round(s[max(i, 0)]*10) / 10
	return &v
}

// pct is part of whole as a percentage to one decimal place (0 when whole is 0).
func pct(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)*1000/float64(whole)) / 10
}

// ChartData is a report's chart: one group of bars per label, one bar per
// series.
type ChartData struct {
	Title  string
	Labels []string
	Series []Column
	// Values[i][j] is label i's value of series j.
	Values [][]float64
}

// ChartData sums the chart's series over the rows with the same label, in
// the order labels first appear; nil when the report has no chart.
func (r *Report) ChartData() *ChartData {
	if r.Chart == nil {
		return nil
	}
	cols, rows := r.Columns, r.Rows
	if r.chartColumns != nil {
		cols, rows = r.chartColumns, r.chartRows
	}
	index := func(key string) int {
		return slices.IndexFunc(cols, func(c Column) bool { return c.Key == key })
	}
	cd := &ChartData{Title: r.Chart.Title}
	li := index(r.Chart.LabelKey)
	var si []int
	for _, k := range r.Chart.Series {
		i := index(k)
		si = append(si, i)
		cd.Series = append(cd.Series, cols[i])
	}
	at := map[string]int{}
	for _, row := range rows {
		label := Cell(row[li])
		i, ok := at[label]
		if !ok {
			i = len(cd.Labels)
			at[label] = i
			cd.Labels = append(cd.Labels, label)
			cd.Values = append(cd.Values, make([]float64, len(si)))
		}
		for j, c := range si {
			switch v := jsonValue(row[c]).(type) {
			case int:
				cd.Values[i][j] += float64(v)
			case int64:
				cd.Values[i][j] += float64(v)
			case float64:
				cd.Values[i][j] += v
			}
		}
	}
	return cd
}

// FileName is the name a report's CSV is downloaded as.
func FileName(r *Report) string {
	return fmt.Sprintf("%s_%s_%s.csv", r.Name, r.From, r.To)
}
