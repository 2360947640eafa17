package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/httpapi"
)

// The governance pages: records officers (disposal lists, the review
// queue, holds, runs and their certificates), auditors (the audit log and
// the chain's verification) and admins (users, teams, tokens). They call
// the same stores as the API and take their decisions from the same
// permission matrix.

// Permissions of the governance pages (httpapi's names).
const (
	permRetentionRead   = "retention:read"
	permRetentionManage = "retention:manage"
	permDisposalDecide  = "disposal:decide"
	permAuditRead       = "audit:read"
	permUsersManage     = "users:manage"
	permTeamsManage     = "teams:manage"
	permTokensManage    = "tokens:manage"
	permExportsManage   = "exports:manage"
)

func (s *Server) governanceRoutes(m *http.ServeMux) {
	// Records officers.
	m.HandleFunc("GET /retention/runs", s.page(permRetentionRead, s.runsPage))
	m.HandleFunc("POST /retention/runs", s.page(permRetentionManage, s.startRun))
	m.HandleFunc("GET /retention/runs/{id}", s.page(permRetentionRead, s.runPage))
	m.HandleFunc("GET /retention/runs/{id}/items.csv", s.page(permRetentionRead, s.runItemsCSV))
	m.HandleFunc("POST /retention/runs/{id}/exclusions", s.page(permDisposalDecide, s.excludeItems))
	m.HandleFunc("GET /retention/runs/{id}/approve", s.page(permDisposalDecide, s.approveConfirm))
	m.HandleFunc("POST /retention/runs/{id}/approve", s.page(permDisposalDecide, s.approveRun))
	m.HandleFunc("POST /retention/runs/{id}/reject", s.page(permDisposalDecide, s.rejectRun))
	m.HandleFunc("GET /retention/runs/{id}/certificate.pdf", s.page(permRetentionRead, s.certificatePDF))
	m.HandleFunc("GET /retention/runs/{id}/certificate.json", s.page(permRetentionRead, s.certificateJSON))
	m.HandleFunc("GET /retention/review", s.page(permRetentionRead, s.reviewPage))
	m.HandleFunc("GET /retention/review.csv", s.page(permRetentionRead, s.reviewCSV))
	m.HandleFunc("GET /retention/review/{id}", s.page(permDisposalDecide, s.decideForm))
	m.HandleFunc("POST /retention/review/{id}/keep", s.page(permDisposalDecide, s.keepRecord))
	m.HandleFunc("POST /retention/review/{id}/return", s.page(permDisposalDecide, s.returnRecord))
	m.HandleFunc("GET /holds", s.page(permRetentionRead, s.holdsPage))
	m.HandleFunc("GET /holds.csv", s.page(permRetentionRead, s.holdsCSV))
	m.HandleFunc("POST /holds", s.page(permRetentionManage, s.placeHold))
	m.HandleFunc("GET /holds/{id}/release", s.page(permRetentionManage, s.releaseForm))
	m.HandleFunc("POST /holds/{id}/release", s.page(permRetentionManage, s.releaseHold))
	m.HandleFunc("GET /exports", s.page(permExportsManage, s.exportsPage))
	m.HandleFunc("GET /exports/{id}/download", s.page(permExportsManage, s.exportDownload))
	// Auditors.
	m.HandleFunc("GET /audit", s.page(permAuditRead, s.auditPage))
	m.HandleFunc("GET /audit.csv", s.page(permAuditRead, s.auditCSV))
	m.HandleFunc("GET /audit/verification", s.page(permAuditRead, s.verificationPage))
	m.HandleFunc("POST /audit/verification", s.page(permAuditRead, s.verifyNow))
	// Admins.
	m.HandleFunc("GET /admin/users", s.page(permUsersManage, s.usersPage))
	m.HandleFunc("GET /admin/users/{id}", s.page(permUsersManage, s.userPage))
	m.HandleFunc("POST /admin/users/{id}", s.page(permUsersManage, s.updateUser))
	m.HandleFunc("GET /admin/teams", s.page(permTeamsManage, s.teamsPage))
	m.HandleFunc("POST /admin/teams", s.page(permTeamsManage, s.createTeam))
	m.HandleFunc("GET /admin/tokens", s.page(permTokensManage, s.tokensPage))
	m.HandleFunc("GET /admin/tokens/{id}/revoke", s.page(permTokensManage, s.revokeConfirm))
	m.HandleFunc("POST /admin/tokens/{id}/revoke", s.page(permTokensManage, s.revokeToken))
}

// governanceNav is the navigation of the governance pages, by role.
func (s *Server) governanceNav(c *Caller) []navItem {
	var items []navItem
	if s.may(c, permDisposalDecide) {
		items = append(items, navItem{"runs", "Disposal lists", "/retention/runs"}, navItem{"review", "Review queue", "/retention/review"},
			navItem{"holds", "Holds", "/holds"})
	}
	if s.may(c, permExportsManage) {
		items = append(items, navItem{"exports", "Exports", "/exports"})
	}
	if s.may(c, permAuditRead) {
		items = append(items, navItem{"audit", "Audit log", "/audit"})
	}
	if s.may(c, permUsersManage) {
		items = append(items, navItem{"admin", "Users and access", "/admin/users"})
	}
	return items
}

// unwired is the refusal of a page whose service this process lacks.
func unwired(what string) error { return casefile.Unavailable(what, nil) }

// dateField is a GOV.UK date input: day, month and year, as typed.
type dateField struct {
	ID, Legend, Hint, Error string
	Day, Month, Year        string
}

// dateFrom reads a date input named id from the form.
func dateFrom(r *http.Request, id, legend, hint string) *dateField {
	return &dateField{ID: id, Legend: legend, Hint: hint, Day: strings.TrimSpace(r.FormValue(id + "-day")),
		Month: strings.TrimSpace(r.FormValue(id + "-month")), Year: strings.TrimSpace(r.FormValue(id + "-year"))}
}

// date parses the field; empty is ok=false with no error when optional.
func (f *dateField) date(what string, required bool) (casefile.Date, bool) {
	if f.Day == "" && f.Month == "" && f.Year == "" {
		if required {
			f.Error = "Enter " + what
		}
		return casefile.Date{}, false
	}
	d, e1 := strconv.Atoi(f.Day)
	m, e2 := strconv.Atoi(f.Month)
	y, e3 := strconv.Atoi(f.Year)
	if e1 != nil || e2 != nil || e3 != nil || y < 1900 || y > 2200 {
		f.Error = strings.ToUpper(what[:1]) + what[1:] + " must be a real date, for example 27 3 2027"
		return casefile.Date{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		f.Error = strings.ToUpper(what[:1]) + what[1:] + " must be a real date, for example 27 3 2027"
		return casefile.Date{}, false
	}
	return casefile.DateOf(t), true
}

func (f *dateField) set(d casefile.Date) *dateField {
	f.Day, f.Month, f.Year = strconv.Itoa(d.Day), strconv.Itoa(int(d.Month)), strconv.Itoa(d.Year)
	return f
}

// whose is how a list names a person's record: name and reference where
// the caller may see the record (each an audited read), "restricted"
// otherwise.
type whose struct {
	ID, Name, Ref string
	Restricted    bool
	Gone          bool
}

// whoseRecords names the records of ids for a page of a list.
func (s *Server) whoseRecords(ctx context.Context, ids []string) (map[string]*whose, error) {
	out := map[string]*whose{}
	var uniq []string
	for _, id := range ids {
		if _, ok := out[id]; !ok && id != "" {
			out[id] = &whose{ID: id}
			uniq = append(uniq, id)
		}
	}
	vis := map[string]bool{}
	if s.cfg.Access != nil && len(uniq) > 0 {
		var err error
		if vis, err = s.cfg.Access.VisiblePersons(ctx, uniq); err != nil {
			return nil, err
		}
	}
	for _, id := range uniq {
		w := out[id]
		if s.cfg.Access != nil && !vis[id] {
			w.Restricted = true
			continue
		}
		p, err := s.cfg.Persons.Person(ctx, id)
		switch {
		case casefile.ErrorKind(err) == casefile.ENotFound || casefile.ErrorKind(err) == casefile.EForbidden:
			w.Restricted = casefile.ErrorKind(err) == casefile.EForbidden
			w.Gone = !w.Restricted
		case err != nil:
			return nil, err
		case p.Status != casefile.StatusActive:
			w.Gone = true
		default:
			w.Name, w.Ref = personName(p), p.ExternalRef
		}
	}
	return out, nil
}

// csvDownload starts a CSV attachment named name with its header row.
func csvDownload(w http.ResponseWriter, name string, header ...string) *csv.Writer {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write(header) //nolint:errcheck // the writer's error is checked at Flush
	return cw
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// reasonOf reads a required reason field: trimmed, at most 2,000 characters.
func reasonOf(r *http.Request, field, missing string) (string, *fieldError) {
	v := strings.TrimSpace(r.PostFormValue(field))
	switch {
	case v == "":
		return v, &fieldError{field, missing}
	case len([]rune(v)) > 2000:
		return v, &fieldError{field, "Enter at most 2,000 characters"}
	}
	return v, nil
}

// httpStatus is the status the API gives an error (one table, httpapi's).
func httpStatus(err error) int { return httpapi.Status(err) }
