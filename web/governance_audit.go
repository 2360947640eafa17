package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/council/casefile"
)

// The auditor's pages: the audit log filtered by person, actor, action and
// dates (newest first, a page at a time, or all of it as CSV), and the
// chain's verification: the last one, its anchor, failures, and a button
// to verify now.

type auditFilterForm struct {
	Person, Actor, Action string
	From, To              *dateField
}

type auditRow struct {
	*casefile.AuditEvent
	Details string
}

type auditData struct {
	Filter auditFilterForm
	Events []*auditRow
	Next   string
	CSV    string
}

// auditActionRE is what an action filter may be (as httpapi's).
var auditActionRE = regexp.MustCompile(`^([a-z_]+(\.[a-z_]+)*(\.\*)?)?$`)

func (s *Server) audit() (casefile.AuditService, error) {
	if s.cfg.Audit == nil {
		return nil, unwired("audit log")
	}
	return s.cfg.Audit, nil
}

// auditFilter reads the filter form; errs name what is wrong with it.
func (s *Server) auditFilter(r *http.Request) (auditFilterForm, casefile.AuditFilter, []fieldError, error) {
	q := r.URL.Query()
	form := auditFilterForm{Person: strings.TrimSpace(q.Get("person")), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")),
		From:   dateFrom(r, "from", "From", "For example, 1 3 2026"), To: dateFrom(r, "to", "To", "For example, 31 3 2026")}
	f := casefile.AuditFilter{Actor: form.Actor, Action: form.Action, Newest: true}
	var errs []fieldError
	if form.Person != "" {
		if id, ok := uuidOf(form.Person); ok {
			f.PersonID = id
		} else {
			ps, _, err := s.cfg.Persons.FindPersons(r.Context(), casefile.PersonFilter{ExternalRef: form.Person, Page: casefile.Page{Limit: 1}})
			if err != nil {
				return form, f, nil, err
			}
			if len(ps) == 0 {
				errs = append(errs, fieldError{"person", "No record has the reference " + form.Person})
			} else {
				f.PersonID = ps[0].ID
			}
		}
	}
	if len(form.Actor) > 200 {
		errs = append(errs, fieldError{"actor", "Enter a name or id of at most 200 characters"})
	}
	if len(form.Action) > 100 || !auditActionRE.MatchString(form.Action) {
		errs = append(errs, fieldError{"action", "Enter an action such as document.download, or a family such as document.*"})
	}
	if d, ok := form.From.date("the first day", false); ok {
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, s.cfg.Location)
		f.Since = &t
	}
	if d, ok := form.To.date("the last day", false); ok {
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, s.cfg.Location).AddDate(0, 0, 1)
		f.Until = &t
	}
	for _, df := range []*dateField{form.From, form.To} {
		if df.Error != "" {
			errs = append(errs, fieldError{df.ID + "-day", df.Error})
		}
	}
	return form, f, errs, nil
}

func (s *Server) filterQuery(form auditFilterForm) map[string][]string {
	return map[string][]string{"person": {form.Person}, "actor": {form.Actor}, "action": {form.Action},
		"from-day": {form.From.Day}, "from-month": {form.From.Month}, "from-year": {form.From.Year},
		"to-day": {form.To.Day}, "to-month": {form.To.Month}, "to-year": {form.To.Year}}
}

// visibleEvents leaves out events on records the caller may not see,
// except the access events themselves (as the API does).
func (s *Server) visibleEvents(r *http.Request, evs []*casefile.AuditEvent) ([]*casefile.AuditEvent, error) {
	if s.cfg.Access == nil {
		return evs, nil
	}
	var ids []string
	for _, e := range evs {
		if e.PersonID != "" {
			ids = append(ids, e.PersonID)
		}
	}
	if len(ids) == 0 {
		return evs, nil
	}
	vis, err := s.cfg.Access.VisiblePersons(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := evs[:0]
	for _, e := range evs {
		if e.PersonID == "" || vis[e.PersonID] || strings.HasPrefix(e.Action, "access.") {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.audit()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	form, f, errs, err := s.auditFilter(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := auditData{Filter: form}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		f.Page = casefile.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")}
		evs, next, err := st.AuditEvents(r.Context(), f)
		if err != nil {
			if !refusal(err) {
				s.errorPage(w, r, c, err)
				return
			}
			errs, status = []fieldError{{"", pageMessage(err)}}, httpStatus(err)
		}
		if evs, err = s.visibleEvents(r, evs); err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		for _, e := range evs {
			d.Events = append(d.Events, &auditRow{e, compactJSON(e.Details)})
		}
		q := s.filterQuery(form)
		d.CSV = encodeQuery(q)
		if next != "" {
			q["cursor"] = []string{next}
			d.Next = encodeQuery(q)
		}
	}
	s.render(w, r, c, status, "audit", &page{Title: "Audit log", Nav: "audit", Errors: errs, Data: d})
}

func compactJSON(b json.RawMessage) string {
	if len(b) == 0 || string(b) == "null" || string(b) == "{}" {
		return ""
	}
	return string(b)
}

// auditCSV is every event the filter selects, newest first, as CSV (at
// most auditCSVMax).
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.audit()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	_, f, errs, err := s.auditFilter(r)
	if err == nil && len(errs) > 0 {
		err = casefile.Errorf(casefile.EInvalid, "invalid_filter", "%s", errs[0].Message)
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	f.Page = casefile.Page{Limit: casefile.MaxPageLimit}
	evs, next, err := st.AuditEvents(r.Context(), f)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	cw := csvDownload(w, "audit-"+casefile.Today().String()+".csv", "seq", "at", "actor", "actor_id", "action", "target_type",
		"target_id", "person_id", "details", "hash")
	n := 0
	for n < auditCSVMax {
		if evs, err = s.visibleEvents(r, evs); err != nil {
			s.log.Error("audit CSV cut short", "err", err)
			break
		}
		for _, e := range evs {
			cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), csvSafe(e.Actor), e.ActorID, e.Action, //nolint:errcheck
				e.TargetType, e.TargetID, e.PersonID, compactJSON(e.Details), e.Hash})
		}
		n += len(evs)
		if next == "" {
			break
		}
		f.Cursor = next
		if evs, next, err = st.AuditEvents(r.Context(), f); err != nil {
			s.log.Error("audit CSV cut short", "err", err)
			break
		}
	}
	cw.Flush()
}

// auditCSVMax bounds one CSV download; narrow the filter for more.
const auditCSVMax = 200000

// verificationDays is how far back the page lists verifications and
// anchors.
const verificationDays = 90

type verificationData struct {
	LastVerify, LastAnchor *casefile.AuditCheck
	Checks                 []casefile.AuditCheck
	Days                   int
}

// verificationPage shows the chain's verification as kept (audit_checks):
// every verification, whether from this page, the API, the command line or
// the reconciliation, and every anchor written or failed.
func (s *Server) verificationPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.AuditChecks == nil {
		s.errorPage(w, r, c, unwired("audit checks"))
		return
	}
	now := time.Now()
	ch, err := s.cfg.AuditChecks(r.Context(), casefile.ReportRange{From: now.AddDate(0, 0, -verificationDays), To: now.Add(time.Minute)})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := verificationData{LastVerify: ch.LastVerify, LastAnchor: ch.LastAnchor, Checks: ch.Checks, Days: verificationDays}
	if len(d.Checks) > 50 {
		d.Checks = d.Checks[:50]
	}
	p := &page{Title: "Audit log verification", Nav: "audit", Data: d}
	if r.URL.Query().Get("done") != "" && d.LastVerify != nil {
		if d.LastVerify.OK {
			p.Banner = &banner{Success: true, Heading: "The audit log is intact", Text: "Every event's hash and every anchor checked out."}
		} else {
			p.Banner = &banner{Heading: "The audit log failed verification", Text: d.LastVerify.Problem}
		}
	}
	s.render(w, r, c, http.StatusOK, "verification", p)
}

// verifyNow recomputes the chain and checks every anchor; the audit
// service keeps the outcome with who asked.
func (s *Server) verifyNow(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.audit()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if _, err := st.VerifyAudit(r.Context()); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/audit/verification?done=1", http.StatusSeeOther)
}
