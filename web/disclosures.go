package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/disclosure"
	"github.com/council/casefile/httpapi"
)

// The records officer's disclosure pages: open a disclosure from a record,
// review its items (disclosureRedact spans, disclosureWithhold documents, disclosureDecide suggestions),
// finalise, approve, download. Every rule is the disclosure service's; a
// refusal is shown on the review page in its words.

const permDisclosuresManage = "disclosures:manage"

func (s *Server) disclosureRoutes() {
	m := s.mux
	m.HandleFunc("GET /persons/{id}/disclosures", s.page(permDisclosuresManage, s.disclosuresList))
	m.HandleFunc("POST /persons/{id}/disclosures", s.page(permDisclosuresManage, s.createDisclosure))
	m.HandleFunc("GET /disclosures/{id}", s.page(permDisclosuresManage, s.disclosureReview))
	m.HandleFunc("POST /disclosures/{id}/redactions", s.page(permDisclosuresManage, s.disclosureRedact))
	m.HandleFunc("POST /disclosures/{id}/redactions/{rid}/remove", s.page(permDisclosuresManage, s.disclosureUnredact))
	m.HandleFunc("POST /disclosures/{id}/withholdings", s.page(permDisclosuresManage, s.disclosureWithhold))
	m.HandleFunc("POST /disclosures/{id}/withholdings/{doc}/remove", s.page(permDisclosuresManage, s.disclosureUnwithhold))
	m.HandleFunc("POST /disclosures/{id}/suggestions", s.page(permDisclosuresManage, s.disclosureDecide))
	m.HandleFunc("POST /disclosures/{id}/finalise", s.page(permDisclosuresManage, s.disclosureStep("finalise")))
	m.HandleFunc("POST /disclosures/{id}/approve", s.page(permDisclosuresManage, s.disclosureStep("approve")))
	m.HandleFunc("POST /disclosures/{id}/return", s.page(permDisclosuresManage, s.disclosureStep("return")))
	m.HandleFunc("GET /disclosures/{id}/download", s.page(permDisclosuresManage, s.disclosureDownload))
}

type disclosuresData struct {
	List      []*casefile.Disclosure
	Purpose   string
	Requester string
	Received  string
	Due       string
}

func (s *Server) disclosuresList(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.showDisclosures(w, r, c, nil, disclosuresData{})
}

func (s *Server) showDisclosures(w http.ResponseWriter, r *http.Request, c *Caller, errs []fieldError, form disclosuresData) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok || s.cfg.Disclosures == nil {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	person, err := s.person(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if form.List, err = s.cfg.Disclosures.Store.PersonDisclosures(ctx, id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, c, status, "disclosures", &page{Title: "Disclosures", Nav: "persons", Person: person, Errors: errs, Data: form})
}

func (s *Server) createDisclosure(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok || s.cfg.Disclosures == nil {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	if err := s.checkTarget(r.Context(), "person", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	form := disclosuresData{Purpose: r.PostFormValue("purpose"), Requester: r.PostFormValue("requester"),
		Received: strings.TrimSpace(r.PostFormValue("received_on")), Due: strings.TrimSpace(r.PostFormValue("due_on"))}
	in := disclosure.CreateInput{Purpose: form.Purpose, Requester: form.Requester}
	var errs []fieldError
	for _, f := range []struct {
		field, v string
		to       *casefile.Date
	}{{"received_on", form.Received, &in.ReceivedOn}, {"due_on", form.Due, &in.DueOn}} {
		if f.v == "" {
			continue
		}
		d, err := casefile.ParseDate(f.v)
		if err != nil {
			errs = append(errs, fieldError{f.field, "Enter the date as year-month-day, for example 2026-03-02"})
		}
		*f.to = d
	}
	if len(errs) > 0 {
		s.showDisclosures(w, r, c, errs, form)
		return
	}
	d, err := s.cfg.Disclosures.Create(r.Context(), id, in)
	if k := casefile.ErrorKind(err); k == casefile.EUnprocessable {
		field := map[string]string{"invalid_purpose": "purpose", "invalid_requester": "requester", "invalid_due_on": "due_on"}[casefile.ErrorCode(err)]
		s.showDisclosures(w, r, c, []fieldError{{field, casefile.ErrorMessage(err)}}, form)
		return
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/disclosures/"+d.ID, http.StatusSeeOther)
}

// textSegment is a run of an item's text as the reviewer sees it: plain, or
// redacted (struck through, labelled with the reasons).
type textSegment struct {
	Text     string
	Redacted bool
	Label    string
}

type disclosureItem struct {
	*disclosure.Item
	Heading      string
	Segments     []textSegment
	Redactions   []disclosureRedaction
	Suggestions  []disclosure.Suggestion
	Withholdable bool
}

type disclosureRedaction struct {
	*casefile.Redaction
	Label string
	Text  string
}

type disclosureReviewData struct {
	D           *disclosure.Draft
	Items       []*disclosureItem
	Reasons     []disclosure.Reason
	Suggestions int
	Approvers   int
	Draft       bool
	MayApprove  bool
	Mine        bool
	Form        map[string]string // the redaction form as typed, when refused
}

func (s *Server) disclosureReview(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.showDisclosureReview(w, r, c, http.StatusOK, nil, nil)
}

// showDisclosureReview renders the review page, with errs (and the form as typed) when
// a change was refused.
func (s *Server) showDisclosureReview(w http.ResponseWriter, r *http.Request, c *Caller, status int, errs []fieldError, form map[string]string) {
	ctx := r.Context()
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	d, err := s.cfg.Disclosures.Get(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	data := disclosureReviewData{D: d, Reasons: s.cfg.Disclosures.ReasonList(), Approvers: max(s.cfg.Disclosures.Approvers, 1),
		Draft: d.State == casefile.DisclosureDraft, Form: form,
		Mine: d.SubmittedByID == c.Actor.ID && (c.Actor.ID != "" || d.SubmittedBy == c.Actor.String())}
	data.MayApprove = d.State == casefile.DisclosureAwaitingApproval && !data.Mine
	var suggestions []disclosure.Suggestion
	if data.Draft {
		if suggestions, err = s.cfg.Disclosures.Suggestions(ctx, id); err != nil {
			s.errorPage(w, r, c, err)
			return
		}
	}
	data.Suggestions = len(suggestions)
	for _, it := range d.Items {
		ri := &disclosureItem{Item: it, Heading: disclosureItemHeading(it), Withholdable: it.Type == casefile.ItemDocument}
		ri.Segments, ri.Redactions = disclosureSegments(it, s.cfg.Disclosures.ReasonLabel)
		for _, sg := range suggestions {
			if sg.TargetType == it.Type && sg.TargetID == it.ID {
				ri.Suggestions = append(ri.Suggestions, sg)
			}
		}
		data.Items = append(data.Items, ri)
	}
	person := d.Person
	if status == 0 {
		status = http.StatusOK
	}
	p := &page{Title: "Disclosure review", Nav: "persons", Person: person, Errors: errs, Data: data}
	if msg := r.URL.Query().Get("done"); msg != "" && len(errs) == 0 {
		p.Banner = &banner{Success: true, Heading: disclosureDone[msg]}
	}
	s.render(w, r, c, status, "disclosure", p)
}

var disclosureDone = map[string]string{
	"redacted": "Redacted", "unredacted": "Redaction removed", "withheld": "Document withheld", "unwithheld": "Document put back",
	"accept": "Suggestion accepted and redacted", "reject": "Suggestion rejected", "finalise": "Finalised",
	"approve": "Approved: the bundle is being built", "return": "Returned to draft",
}

// disclosureItemHeading names an item for the reviewer.
func disclosureItemHeading(it *disclosure.Item) string {
	switch {
	case it.Type == casefile.ItemNote:
		return "Case note: " + noteTypeLabel(it.Kind)
	case it.Kind == casefile.DocumentEmail:
		return "Email"
	case it.Kind == casefile.DocumentAttachment:
		return "Attachment"
	}
	return "Document"
}

// disclosureSegments cuts an item's text at its redactions (merged where they
// overlap), and lists each redaction with the text it hides.
func disclosureSegments(it *disclosure.Item, label func(string) string) ([]textSegment, []disclosureRedaction) {
	runes := []rune(it.Text)
	var out []textSegment
	var rs []disclosureRedaction
	at := 0
	for _, b := range disclosure.Boxes(it.Redactions, label) {
		if b.Start > at {
			out = append(out, textSegment{Text: string(runes[at:b.Start])})
		}
		out = append(out, textSegment{Text: string(runes[b.Start:b.End]), Redacted: true, Label: b.Label})
		at = b.End
	}
	if at < len(runes) {
		out = append(out, textSegment{Text: string(runes[at:])})
	}
	for _, r := range it.Redactions {
		t := ""
		if r.End <= len(runes) {
			t = string(runes[r.Start:r.End])
		}
		rs = append(rs, disclosureRedaction{Redaction: r, Label: label(r.Reason), Text: t})
	}
	return out, rs
}

// disclosureTarget reads the {id} of a disclosure page and checks the
// caller may see its record.
func (s *Server) disclosureTarget(w http.ResponseWriter, r *http.Request, c *Caller) (string, bool) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok || s.cfg.Disclosures == nil {
		s.errorPage(w, r, c, notFound("disclosure"))
		return "", false
	}
	if err := s.checkTarget(r.Context(), "disclosure", id); err != nil {
		s.errorPage(w, r, c, err)
		return "", false
	}
	return id, true
}

// afterDisclosureChange goes back to the review page after a change, or shows the
// refusal on it.
func (s *Server) afterDisclosureChange(w http.ResponseWriter, r *http.Request, c *Caller, id, done, anchor string, err error, field string) {
	switch k := casefile.ErrorKind(err); {
	case err == nil:
		http.Redirect(w, r, "/disclosures/"+id+"?done="+done+anchor, http.StatusSeeOther)
	case k == casefile.EUnprocessable || k == casefile.EConflict:
		form := map[string]string{}
		for _, f := range []string{"target_type", "target_id", "start", "end", "phrase", "reason"} {
			form[f] = r.PostFormValue(f)
		}
		s.showDisclosureReview(w, r, c, httpapi.Status(err), []fieldError{{field, casefile.ErrorMessage(err)}}, form)
	default:
		s.errorPage(w, r, c, err)
	}
}

func (s *Server) disclosureRedact(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	typ, target, reason := r.PostFormValue("target_type"), r.PostFormValue("target_id"), r.PostFormValue("reason")
	field := "phrase-" + target
	var err error
	if phrase := r.PostFormValue("phrase"); strings.TrimSpace(r.PostFormValue("start")+r.PostFormValue("end")) == "" {
		_, err = s.cfg.Disclosures.RedactPhrase(r.Context(), id, typ, target, phrase, reason)
	} else {
		field = "start-" + target
		start, e1 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("start")))
		end, e2 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("end")))
		if e1 != nil || e2 != nil {
			err = casefile.Errorf(casefile.EUnprocessable, "invalid_span", "Enter the first and last character positions as whole numbers, or enter the words to disclosureRedact instead.")
		} else {
			_, err = s.cfg.Disclosures.Redact(r.Context(), id, disclosure.RedactionInput{TargetType: typ, TargetID: target, Start: start, End: end, Reason: reason})
		}
	}
	s.afterDisclosureChange(w, r, c, id, "redacted", "#item-"+target, err, field)
}

func (s *Server) disclosureUnredact(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	rid, _ := uuidOf(r.PathValue("rid"))
	err := s.cfg.Disclosures.Unredact(r.Context(), id, rid)
	s.afterDisclosureChange(w, r, c, id, "unredacted", "#item-"+r.PostFormValue("target_id"), err, "")
}

func (s *Server) disclosureWithhold(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	doc := r.PostFormValue("document_id")
	_, err := s.cfg.Disclosures.Withhold(r.Context(), id, doc, r.PostFormValue("reason"))
	s.afterDisclosureChange(w, r, c, id, "withheld", "#item-"+doc, err, "withhold-"+doc)
}

func (s *Server) disclosureUnwithhold(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	doc, _ := uuidOf(r.PathValue("doc"))
	err := s.cfg.Disclosures.Unwithhold(r.Context(), id, doc)
	s.afterDisclosureChange(w, r, c, id, "unwithheld", "#item-"+doc, err, "")
}

func (s *Server) disclosureDecide(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	start, _ := strconv.Atoi(r.PostFormValue("start"))
	end, _ := strconv.Atoi(r.PostFormValue("end"))
	in := disclosure.DecisionInput{TargetType: r.PostFormValue("target_type"), TargetID: r.PostFormValue("target_id"),
		Start: start, End: end, Decision: r.PostFormValue("decision"), Reason: r.PostFormValue("reason")}
	_, err := s.cfg.Disclosures.Decide(r.Context(), id, in)
	s.afterDisclosureChange(w, r, c, id, in.Decision, "#suggestions", err, "")
}

// disclosureStep is finalise, approve or return.
func (s *Server) disclosureStep(step string) handler {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := s.disclosureTarget(w, r, c)
		if !ok {
			return
		}
		var err error
		switch step {
		case "finalise":
			_, err = s.cfg.Disclosures.Finalise(r.Context(), id)
		case "approve":
			_, err = s.cfg.Disclosures.Approve(r.Context(), id)
		default:
			_, err = s.cfg.Disclosures.Return(r.Context(), id)
		}
		s.afterDisclosureChange(w, r, c, id, step, "", err, "")
	}
}

func (s *Server) disclosureDownload(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := s.disclosureTarget(w, r, c)
	if !ok {
		return
	}
	d, key, err := s.cfg.Disclosures.Store.DisclosureObject(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	rc, size, err := s.cfg.OpenObject(r.Context(), key)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="casefile-disclosure-`+d.ID+`.zip"`)
	h.Set("Cache-Control", "no-store")
	io.Copy(w, rc) //nolint:errcheck // the download was audited; a cut connection is the browser's to retry
}
