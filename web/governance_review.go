package web

import (
	"net/http"
	"strings"

	"github.com/council/casefile"
)

// The review queue: records past their date that are kept, with why, and
// the records officer's decision on each: keep until a date, or return to
// the next disposal list.

type reviewRow struct {
	*casefile.ReviewEntry
	Whose *whose
}

type reviewData struct {
	Rows      []*reviewRow
	Next      string
	MayDecide bool
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	es, next, err := st.ReviewQueue(r.Context(), casefile.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.PersonID
	}
	names, err := s.whoseRecords(r.Context(), ids)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := reviewData{MayDecide: s.may(c, permDisposalDecide)}
	for _, e := range es {
		d.Rows = append(d.Rows, &reviewRow{e, names[e.PersonID]})
	}
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"cursor": {next}})
	}
	p := &page{Title: "Review queue", Nav: "review", Data: d}
	switch r.URL.Query().Get("done") {
	case casefile.DecisionKeep:
		p.Banner = &banner{Success: true, Heading: "Record kept", Text: "It stays off disposal lists until the date you gave, then comes back here."}
	case casefile.DecisionReturn:
		p.Banner = &banner{Success: true, Heading: "Record returned", Text: "The next real run puts it on the disposal list for approval."}
	}
	s.render(w, r, c, http.StatusOK, "review", p)
}

// reviewCSV is the whole review queue as CSV.
func (s *Server) reviewCSV(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	p := casefile.Page{Limit: casefile.MaxPageLimit}
	es, next, err := st.ReviewQueue(r.Context(), p)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	cw := csvDownload(w, "review-queue-"+casefile.Today().String()+".csv", "person_id", "record_class", "trigger_date",
		"disposal_due_on", "reasons", "details", "until")
	for {
		for _, e := range es {
			var codes, details, until []string
			for _, x := range e.Reasons {
				codes = append(codes, x.Code)
				details = append(details, x.Detail)
				until = append(until, dateISO(x.Until))
			}
			cw.Write([]string{e.PersonID, e.RecordClass, dateISO(e.TriggerDate), dateISO(e.DisposalDueOn), //nolint:errcheck
				strings.Join(codes, "; "), csvSafe(strings.Join(details, "; ")), strings.Trim(strings.Join(until, "; "), "; ")})
		}
		if next == "" {
			break
		}
		p.Cursor = next
		if es, next, err = st.ReviewQueue(r.Context(), p); err != nil {
			s.log.Error("review queue CSV cut short", "err", err)
			break
		}
	}
	cw.Flush()
}

type decideData struct {
	PersonID     string
	Whose        *whose
	Entry        *casefile.ReviewEntry
	Until        *dateField
	Reason       string
	ReturnReason string
}

func (s *Server) decideForm(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.decideView(w, r, c, nil, nil, http.StatusOK)
}

// decideView shows one record of the queue with the two decisions.
func (s *Server) decideView(w http.ResponseWriter, r *http.Request, c *Caller, f *decideData, errs []fieldError, status int) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	if f == nil {
		f = &decideData{Until: &dateField{}}
	}
	f.PersonID = id
	f.Until.ID, f.Until.Legend, f.Until.Hint = "until", "Keep until", "The day the record comes back for review. For example, 27 3 2027"
	names, err := s.whoseRecords(r.Context(), []string{id})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	f.Whose = names[id]
	// The record's entry in the queue, if it is there: why it is kept.
	es, _, err := st.ReviewQueue(r.Context(), casefile.Page{Limit: 1, Cursor: previousUUID(id)})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if len(es) == 1 && es[0].PersonID == id {
		f.Entry = es[0]
	}
	s.render(w, r, c, status, "review-decide", &page{Title: "Decide on a record past its date", Nav: "review", Errors: errs, Data: f})
}

// previousUUID is the cursor that starts a person-ordered list at id.
func previousUUID(id string) string {
	b := []byte(strings.ReplaceAll(id, "-", ""))
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '0' {
			b[i] = 'f'
			continue
		}
		switch {
		case b[i] == 'a':
			b[i] = '9'
		default:
			b[i]--
		}
		break
	}
	h := string(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) keepRecord(w http.ResponseWriter, r *http.Request, c *Caller) {
	f := &decideData{Until: dateFrom(r, "until", "", "")}
	var errs []fieldError
	until, ok := f.Until.date("the date to keep it until", true)
	if ok && !until.After(casefile.Today()) {
		f.Until.Error = "The date to keep it until must be in the future"
	}
	if f.Until.Error != "" {
		errs = append(errs, fieldError{"until-day", f.Until.Error})
	}
	reason, fe := reasonOf(r, "reason", "Enter why the record is kept")
	f.Reason = reason
	if fe != nil {
		errs = append(errs, *fe)
	}
	if len(errs) > 0 {
		s.decideView(w, r, c, f, errs, http.StatusUnprocessableEntity)
		return
	}
	s.decide(w, r, c, f, &casefile.ReviewDecision{PersonID: r.PathValue("id"), Decision: casefile.DecisionKeep, Until: &until, Reason: reason})
}

func (s *Server) returnRecord(w http.ResponseWriter, r *http.Request, c *Caller) {
	f := &decideData{Until: &dateField{}, ReturnReason: strings.TrimSpace(r.PostFormValue("return_reason"))}
	if len([]rune(f.ReturnReason)) > 2000 {
		s.decideView(w, r, c, f, []fieldError{{"return_reason", "Enter at most 2,000 characters"}}, http.StatusUnprocessableEntity)
		return
	}
	s.decide(w, r, c, f, &casefile.ReviewDecision{PersonID: r.PathValue("id"), Decision: casefile.DecisionReturn, Reason: f.ReturnReason})
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c *Caller, f *decideData, d *casefile.ReviewDecision) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if err := st.DecideReview(r.Context(), d); err != nil {
		if !refusal(err) && casefile.ErrorKind(err) != casefile.EForbidden {
			s.errorPage(w, r, c, err)
			return
		}
		s.decideView(w, r, c, f, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/retention/review?done="+d.Decision, http.StatusSeeOther)
}
