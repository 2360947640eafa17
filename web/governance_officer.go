package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
)

// The records officer's disposal lists: retention runs, a real run's list
// awaiting approval (review, exclude, approve, reject) and the certificate
// of what a run destroyed.

type runsData struct {
	Runs      []*casefile.RetentionRun
	Next      string
	MayStart  bool
	Approvers int
}

func (s *Server) retention() (casefile.RetentionStore, error) {
	if s.cfg.Retention == nil {
		return nil, unwired("retention")
	}
	return s.cfg.Retention, nil
}

// runsPage lists runs, newest first, the lists awaiting approval on top.
func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.runsView(w, r, c, nil, http.StatusOK)
}

func (s *Server) runsView(w http.ResponseWriter, r *http.Request, c *Caller, errs []fieldError, status int) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	runs, next, err := st.Runs(r.Context(), casefile.RunFilter{Page: casefile.Page{Limit: 25, Cursor: r.URL.Query().Get("cursor")}})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := runsData{Runs: runs, MayStart: s.may(c, permRetentionManage), Approvers: max(s.cfg.DisposalApprovers, 1)}
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"cursor": {next}})
	}
	p := &page{Title: "Disposal lists and retention runs", Nav: "runs", Errors: errs, Data: d}
	if r.URL.Query().Get("started") != "" {
		p.Banner = &banner{Success: true, Heading: "Run started", Text: "It lists what is due in a moment; refresh this page to see it."}
	}
	s.render(w, r, c, status, "runs", p)
}

// startRun starts a dry run (what would be due) or a real run (a disposal
// list for approval).
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	var dry bool
	switch r.PostFormValue("kind") {
	case "dry":
		dry = true
	case "real":
	default:
		s.runsView(w, r, c, []fieldError{{"kind", "Select what kind of run to start"}}, http.StatusUnprocessableEntity)
		return
	}
	run, err := st.CreateRun(r.Context(), dry, casefile.Today())
	if err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.runsView(w, r, c, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/retention/runs/"+run.ID+"?started=1", http.StatusSeeOther)
}

type runData struct {
	Run        *casefile.RetentionRun
	Items      []*runItemRow
	State      string
	States     []string
	Next       string
	MayDecide  bool
	Approved   bool // the caller has approved it already
	Reason     string
	ReviewOn   *dateField
	Selected   map[string]bool
	Approvers  int
	Certified  bool
	ItemsQuery string
}

type runItemRow struct {
	*casefile.RunItem
	Whose *whose
}

var itemStates = []string{casefile.ItemDue, casefile.ItemReview, casefile.ItemHeldBack, casefile.ItemDestroyed}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.runView(w, r, c, nil, nil, http.StatusOK)
}

// runView shows a run: its state and counts, its items (a page at a time,
// by state, each naming whose record it is), and, while its list awaits
// approval, the forms to exclude, approve and reject.
func (s *Server) runView(w http.ResponseWriter, r *http.Request, c *Caller, form *runData, errs []fieldError, status int) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("retention run"))
		return
	}
	run, err := st.RetentionRun(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	q := r.URL.Query()
	d := &runData{Run: run, State: q.Get("state"), States: itemStates, Approvers: max(run.ApprovalsRequired, 1),
		ReviewOn: &dateField{ID: "review_on", Legend: "Review on", Hint: "The day these records come back for review. For example, 27 3 2027"},
		Selected: map[string]bool{}, Certified: run.Certificate != nil}
	if form != nil {
		d.Reason, d.ReviewOn, d.Selected = form.Reason, form.ReviewOn, form.Selected
	}
	if !contains(itemStates, d.State) {
		d.State = ""
		if run.State == casefile.RunAwaitingApproval {
			d.State = casefile.ItemDue
		}
	}
	d.MayDecide = run.State == casefile.RunAwaitingApproval && s.may(c, permDisposalDecide)
	for _, a := range run.Approvals {
		if a.ID == c.Actor.ID {
			d.Approved = true
		}
	}
	items, next, err := st.RunItems(ctx, id, casefile.RunItemFilter{State: d.State, Page: casefile.Page{Limit: 50, Cursor: q.Get("cursor")}})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.PersonID
	}
	names, err := s.whoseRecords(ctx, ids)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	for _, it := range items {
		d.Items = append(d.Items, &runItemRow{it, names[it.PersonID]})
	}
	d.ItemsQuery = encodeQuery(map[string][]string{"state": {d.State}})
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"state": {d.State}, "cursor": {next}})
	}
	title := "Retention run"
	switch {
	case run.DryRun:
		title = "Dry run"
	case run.State == casefile.RunAwaitingApproval:
		title = "Disposal list awaiting approval"
	}
	p := &page{Title: title, Nav: "runs", Errors: errs, Data: d}
	switch q.Get("done") {
	case "excluded":
		p.Banner = &banner{Success: true, Heading: "Records excluded", Text: "They wait in the review queue until their review date; nothing of them is destroyed by this list."}
	case "approved":
		p.Banner = &banner{Success: true, Heading: "Your approval is recorded"}
		if run.State == casefile.RunAwaitingApproval {
			p.Banner.Text = "The list needs another records officer's approval before anything is destroyed."
		} else {
			p.Banner.Text = "The records on the list are being destroyed; this page shows the certificate when it is done."
		}
	case "rejected":
		p.Banner = &banner{Success: true, Heading: "Disposal list rejected", Text: "Nothing on it was destroyed. The next run lists what is due afresh."}
	}
	if q.Get("started") != "" {
		p.Banner = &banner{Success: true, Heading: "Run started", Text: "It lists what is due in a moment; refresh this page to see it."}
	}
	s.render(w, r, c, status, "run", p)
}

// excludeItems takes the ticked items' records off the list until a
// review date, with a reason.
func (s *Server) excludeItems(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, c, casefile.Errorf(casefile.EInvalid, "bad_form", "The form could not be read; try again."))
		return
	}
	f := &runData{ReviewOn: dateFrom(r, "review_on", "Review on", "The day these records come back for review. For example, 27 3 2027"),
		Selected: map[string]bool{}}
	f.ReviewOn.Legend = "Review on"
	var ids []string
	for _, v := range r.PostForm["item_id"] {
		if id, ok := uuidOf(v); ok && !f.Selected[id] {
			f.Selected[id] = true
			ids = append(ids, id)
		}
	}
	var errs []fieldError
	if len(ids) == 0 {
		errs = append(errs, fieldError{"items", "Select the records to exclude"})
	}
	reason, fe := reasonOf(r, "reason", "Enter why the records are kept")
	f.Reason = reason
	if fe != nil {
		errs = append(errs, *fe)
	}
	on, ok := f.ReviewOn.date("the review date", true)
	if ok && !on.After(casefile.Today()) {
		f.ReviewOn.Error = "The review date must be in the future"
	}
	if f.ReviewOn.Error != "" {
		errs = append(errs, fieldError{"review_on-day", f.ReviewOn.Error})
	}
	if len(errs) > 0 {
		s.runView(w, r, c, f, errs, http.StatusUnprocessableEntity)
		return
	}
	if _, err := st.ExcludeFromRun(r.Context(), r.PathValue("id"), casefile.Exclusion{ItemIDs: ids, Reason: reason, ReviewOn: on}); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.runView(w, r, c, f, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/retention/runs/"+r.PathValue("id")+"?done=excluded", http.StatusSeeOther)
}

// approveConfirm asks, before a list is approved for destruction, whether
// the officer is sure, saying what will be destroyed.
func (s *Server) approveConfirm(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("retention run"))
		return
	}
	run, err := st.RetentionRun(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if run.State != casefile.RunAwaitingApproval {
		http.Redirect(w, r, "/retention/runs/"+id, http.StatusSeeOther)
		return
	}
	s.render(w, r, c, http.StatusOK, "run-approve", &page{Title: "Approve the destruction of these records", Nav: "runs",
		Data: &runData{Run: run, Approvers: max(run.ApprovalsRequired, 1)}})
}

func (s *Server) approveRun(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, "/retention/runs/"+r.PathValue("id")+"/approve", http.StatusSeeOther)
		return
	}
	if _, err := st.ApproveRun(r.Context(), r.PathValue("id")); err != nil {
		if !refusal(err) && casefile.ErrorKind(err) != casefile.EForbidden {
			s.errorPage(w, r, c, err)
			return
		}
		s.runView(w, r, c, nil, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/retention/runs/"+r.PathValue("id")+"?done=approved", http.StatusSeeOther)
}

func (s *Server) rejectRun(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	reason, fe := reasonOf(r, "reject_reason", "Enter why you are rejecting the list")
	if fe != nil {
		s.runView(w, r, c, &runData{Reason: reason, ReviewOn: &dateField{ID: "review_on", Legend: "Review on"}, Selected: map[string]bool{}},
			[]fieldError{*fe}, http.StatusUnprocessableEntity)
		return
	}
	if _, err := st.RejectRun(r.Context(), r.PathValue("id"), reason); err != nil {
		if !refusal(err) && casefile.ErrorKind(err) != casefile.EForbidden {
			s.errorPage(w, r, c, err)
			return
		}
		s.runView(w, r, c, nil, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/retention/runs/"+r.PathValue("id")+"?done=rejected", http.StatusSeeOther)
}

// runItemsCSV is every item of a run (of one state, if asked) as CSV, for
// a records officer to take the list away.
func (s *Server) runItemsCSV(w http.ResponseWriter, r *http.Request, c *Caller) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("retention run"))
		return
	}
	state := r.URL.Query().Get("state")
	if !contains(itemStates, state) {
		state = ""
	}
	f := casefile.RunItemFilter{State: state, Page: casefile.Page{Limit: casefile.MaxPageLimit}}
	items, next, err := st.RunItems(r.Context(), id, f)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	cw := csvDownload(w, "disposal-list-"+id+".csv", "item_type", "item_id", "person_id", "record_class", "trigger_date",
		"disposal_due_on", "state", "why", "sha256", "destroyed_at")
	for {
		for _, it := range items {
			dest := ""
			if it.DestroyedAt != nil {
				dest = it.DestroyedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			cw.Write([]string{it.ItemType, it.ItemID, it.PersonID, it.RecordClass, dateISO(it.TriggerDate), dateISO(it.DisposalDueOn), //nolint:errcheck
				it.State, csvSafe(it.Why), it.SHA256, dest})
		}
		if next == "" {
			break
		}
		f.Cursor = next
		if items, next, err = st.RunItems(r.Context(), id, f); err != nil {
			s.log.Error("disposal list CSV cut short", "run", id, "err", err)
			break
		}
	}
	cw.Flush()
}

func dateISO(d *casefile.Date) string {
	if d == nil || d.IsZero() {
		return ""
	}
	return d.String()
}

// certificate returns a finished run with its certificate.
func (s *Server) certificate(w http.ResponseWriter, r *http.Request, c *Caller) (*casefile.RetentionRun, bool) {
	st, err := s.retention()
	if err != nil {
		s.errorPage(w, r, c, err)
		return nil, false
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("retention run"))
		return nil, false
	}
	run, err := st.RetentionRun(r.Context(), id)
	if err == nil && run.Certificate == nil {
		err = casefile.Errorf(casefile.ENotFound, "no_certificate", "This run has no destruction certificate: only a real run that has finished has one.")
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return nil, false
	}
	return run, true
}

func (s *Server) certificatePDF(w http.ResponseWriter, r *http.Request, c *Caller) {
	run, ok := s.certificate(w, r, c)
	if !ok {
		return
	}
	var buf strings.Builder
	if err := retention.WriteCertificatePDF(&buf, run, s.cfg.CouncilName, s.cfg.Location); err != nil {
		s.errorPage(w, r, c, casefile.Errorf(casefile.EInternal, "internal", "certificate PDF: %v", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="destruction-certificate-`+run.ID+`.pdf"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(buf.String())) //nolint:errcheck
}

func (s *Server) certificateJSON(w http.ResponseWriter, r *http.Request, c *Caller) {
	run, ok := s.certificate(w, r, c)
	if !ok {
		return
	}
	b, err := json.MarshalIndent(run.Certificate, "", "  ")
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="destruction-certificate-`+run.ID+`.json"`)
	h.Set("Cache-Control", "no-store")
	w.Write(b) //nolint:errcheck
}
