package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/httpapi"
	"github.com/council/casefile/notes"
)

// target is what a ticket is about: a note or a document, as ICT needs to
// see it to judge.
type target struct {
	Type     string
	ID       string
	Note     *casefile.Note
	Document *casefile.Document
	Title    string
	Href     string
}

func (s *Server) loadTarget(r *http.Request, typ, id string) (*target, error) {
	ctx := r.Context()
	tid, ok := uuidOf(id)
	t := &target{Type: typ, ID: tid}
	if ok && (typ == "note" || typ == "document") {
		if err := s.checkTarget(ctx, typ, tid); err != nil {
			return nil, err
		}
	}
	switch {
	case !ok:
		return nil, notFound(typ)
	case typ == "note":
		n, err := s.cfg.Notes.Store.Note(ctx, tid)
		if err != nil {
			return nil, err
		}
		t.Note, t.Title, t.Href = n, noteTypeLabel(n.Type)+" note, "+when(n.OccurredAt, s.cfg.Location), "/notes/"+tid
	case typ == "document":
		d, err := s.cfg.Ingest.Store.Document(ctx, tid)
		if err != nil {
			return nil, err
		}
		t.Document, t.Title, t.Href = d, documentTitle(d), "/documents/"+tid
	default:
		return nil, notFound("note or document")
	}
	return t, nil
}

func (t *target) personID() string {
	if t.Note != nil {
		return t.Note.PersonID
	}
	return t.Document.PersonID
}

type ticketForm struct {
	Kind        string
	Reason      string
	ToReference string
	Target      *target
	Kinds       []string
}

// newTicket asks for a removal, re-index or reopen of a note or document.
func (s *Server) newTicket(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	f := &ticketForm{Kind: q.Get("kind")}
	s.ticketFormPage(w, r, c, q.Get("target_type"), q.Get("target_id"), f, nil, http.StatusOK)
}

func (s *Server) ticketFormPage(w http.ResponseWriter, r *http.Request, c *Caller, typ, id string, f *ticketForm, errs []fieldError, status int) {
	t, err := s.loadTarget(r, typ, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	person, err := s.person(r.Context(), t.personID())
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	f.Target = t
	f.Kinds = []string{casefile.TicketRemoval, casefile.TicketReindex}
	if t.Note != nil && casefile.IsVisitNoteType(t.Note.Type) {
		f.Kinds = append(f.Kinds, casefile.TicketReopen)
	}
	s.render(w, r, c, status, "ticket-form", &page{Title: "Ask the ICT service desk", Nav: "persons", Person: person, Errors: errs, Data: f})
}

// createTicket raises the ticket through the tickets service, which checks
// it; a refusal is shown on the form as typed.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, c *Caller) {
	typ, id := r.PostFormValue("target_type"), r.PostFormValue("target_id")
	f := &ticketForm{Kind: r.PostFormValue("kind"), Reason: r.PostFormValue("reason"), ToReference: strings.TrimSpace(r.PostFormValue("to_reference"))}
	var errs []fieldError
	switch f.Kind {
	case casefile.TicketRemoval, casefile.TicketReindex, casefile.TicketReopen:
	default:
		errs = append(errs, fieldError{"kind", "Select what the ICT service desk should do"})
	}
	if strings.TrimSpace(f.Reason) == "" {
		errs = append(errs, fieldError{"reason", "Enter why: the desk decides from what you write"})
	} else if len(f.Reason) > 2000 {
		errs = append(errs, fieldError{"reason", "Enter a reason of at most 2,000 characters"})
	}
	t := &casefile.Ticket{Kind: f.Kind, TargetType: typ, TargetID: strings.ToLower(id), Reason: strings.TrimSpace(f.Reason)}
	if f.Kind == casefile.TicketReindex {
		if f.ToReference == "" {
			errs = append(errs, fieldError{"to_reference", "Enter the reference of the person whose record it belongs on"})
		} else {
			ps, _, err := s.cfg.Persons.FindPersons(r.Context(), casefile.PersonFilter{ExternalRef: f.ToReference, Page: casefile.Page{Limit: 1}})
			if err != nil {
				s.errorPage(w, r, c, err)
				return
			}
			if len(ps) == 0 {
				errs = append(errs, fieldError{"to_reference", "No person has the reference " + f.ToReference})
			} else {
				t.ToPersonID = &ps[0].ID
			}
		}
	}
	if len(errs) > 0 {
		s.ticketFormPage(w, r, c, typ, id, f, errs, http.StatusUnprocessableEntity)
		return
	}
	if err := s.checkTarget(r.Context(), typ, t.TargetID); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if err := s.cfg.Tickets.CreateTicket(r.Context(), t); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.ticketFormPage(w, r, c, typ, id, f, []fieldError{{"", pageMessage(err)}}, httpapi.Status(err))
		return
	}
	back := "/notes/"
	if typ == "document" {
		back = "/documents/"
	}
	http.Redirect(w, r, back+t.TargetID+"?raised="+url.QueryEscape(t.ID), http.StatusSeeOther)
}

type queueData struct {
	State, Kind string
	Counts      []stateCount
	Tickets     []*casefile.Ticket
	Next        string
	States      []string
	Kinds       []string
}

type stateCount struct {
	State string
	Count string
	Href  string
}

var queueStates = []string{casefile.TicketOpen, casefile.TicketApproved, casefile.TicketFailed, casefile.TicketDone, casefile.TicketRejected}

// queue is the ICT desk's ticket queue: oldest first, filtered by state
// (open unless asked) and kind, with how many tickets are in each state.
func (s *Server) queue(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	q := r.URL.Query()
	d := queueData{State: q.Get("state"), Kind: q.Get("kind"), States: queueStates,
		Kinds: []string{casefile.TicketRemoval, casefile.TicketReindex, casefile.TicketReopen}}
	if d.State == "" {
		d.State = casefile.TicketOpen
	}
	if !contains(append([]string{"all"}, queueStates...), d.State) {
		d.State = casefile.TicketOpen
	}
	if !contains(d.Kinds, d.Kind) {
		d.Kind = ""
	}
	for _, st := range queueStates[:3] {
		n, more, err := s.countTickets(r, st, d.Kind)
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		count := itoa(n)
		if more {
			count += "+"
		}
		d.Counts = append(d.Counts, stateCount{st, count, "/tickets?" + encodeQuery(map[string][]string{"state": {st}, "kind": {d.Kind}})})
	}
	state := d.State
	if state == "all" {
		state = ""
	}
	ts, next, err := s.cfg.Tickets.Tickets(ctx, casefile.TicketFilter{State: state, Kind: d.Kind, Page: casefile.Page{Limit: 50, Cursor: q.Get("cursor")}})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d.Tickets = ts
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"state": {d.State}, "kind": {d.Kind}, "cursor": {next}})
	}
	s.render(w, r, c, http.StatusOK, "queue", &page{Title: "Ticket queue", Nav: "tickets", Data: d})
}

// countTickets counts tickets in a state, up to a bound past which the
// queue says "1000+".
func (s *Server) countTickets(r *http.Request, state, kind string) (int, bool, error) {
	n, cursor := 0, ""
	for n < 1000 {
		ts, next, err := s.cfg.Tickets.Tickets(r.Context(), casefile.TicketFilter{State: state, Kind: kind, Page: casefile.Page{Limit: casefile.MaxPageLimit, Cursor: cursor}})
		if err != nil {
			return 0, false, err
		}
		n += len(ts)
		if next == "" {
			return n, false, nil
		}
		cursor = next
	}
	return n, true, nil
}

type ticketData struct {
	Ticket    *casefile.Ticket
	Target    *target
	TargetErr string
	ToPerson  *casefile.Person
	Reason    string
	MayDecide bool
	MayAmend  bool
}

// ticketPage shows a ticket and what it targets: for a removal, the pasted
// text itself, so that ICT can judge it.
func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.ticketView(w, r, c, "", nil, http.StatusOK)
}

func (s *Server) ticketView(w http.ResponseWriter, r *http.Request, c *Caller, reason string, errs []fieldError, status int) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("ticket"))
		return
	}
	if err := s.checkTarget(ctx, "ticket", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	t, err := s.cfg.Tickets.Ticket(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	person, err := s.person(ctx, t.PersonID)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := ticketData{Ticket: t, Reason: reason, MayDecide: s.may(c, permTicketsDecide) && t.State == casefile.TicketOpen}
	if d.Target, err = s.loadTarget(r, t.TargetType, t.TargetID); err != nil {
		if casefile.ErrorKind(err) == casefile.EInternal || casefile.ErrorKind(err) == casefile.EUnavailable {
			s.errorPage(w, r, c, err)
			return
		}
		d.TargetErr = casefile.ErrorMessage(err)
	}
	if d.Target != nil && d.Target.Note != nil && d.Target.Note.ReopenedBy != nil && *d.Target.Note.ReopenedBy == t.ID {
		d.MayAmend = s.may(c, permNotesAmend)
	}
	if t.ToPersonID != nil {
		d.ToPerson, _ = s.person(ctx, *t.ToPersonID)
	}
	p := &page{Title: kindLabel(t.Kind) + " ticket", Nav: "tickets", Person: person, Errors: errs, Data: d}
	switch r.URL.Query().Get("done") {
	case "approved":
		p.Banner = &banner{Success: true, Heading: "Ticket approved", Text: "The work is queued and is carried out in a moment; this page shows when it is done."}
	case "rejected":
		p.Banner = &banner{Success: true, Heading: "Ticket rejected", Text: "The person who raised it can see your reason."}
	}
	s.render(w, r, c, status, "ticket", p)
}

func (s *Server) approveTicket(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.checkTarget(r.Context(), "ticket", r.PathValue("id")); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if _, err := s.cfg.Tickets.ApproveTicket(r.Context(), r.PathValue("id")); err != nil {
		s.decisionRefused(w, r, c, err, "")
		return
	}
	http.Redirect(w, r, "/tickets/"+r.PathValue("id")+"?done=approved", http.StatusSeeOther)
}

func (s *Server) rejectTicket(w http.ResponseWriter, r *http.Request, c *Caller) {
	reason := r.PostFormValue("reason")
	if err := s.checkTarget(r.Context(), "ticket", r.PathValue("id")); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if strings.TrimSpace(reason) == "" || len(reason) > 2000 {
		s.ticketView(w, r, c, reason, []fieldError{{"reason", "Enter why you are rejecting the ticket (at most 2,000 characters)"}}, http.StatusUnprocessableEntity)
		return
	}
	if _, err := s.cfg.Tickets.RejectTicket(r.Context(), r.PathValue("id"), strings.TrimSpace(reason)); err != nil {
		s.decisionRefused(w, r, c, err, reason)
		return
	}
	http.Redirect(w, r, "/tickets/"+r.PathValue("id")+"?done=rejected", http.StatusSeeOther)
}

func (s *Server) decisionRefused(w http.ResponseWriter, r *http.Request, c *Caller, err error, reason string) {
	if !refusal(err) && casefile.ErrorKind(err) != casefile.EForbidden {
		s.errorPage(w, r, c, err)
		return
	}
	s.ticketView(w, r, c, reason, []fieldError{{"", pageMessage(err)}}, httpapi.Status(err))
}

type scanData struct {
	Ran      bool
	Raise    bool
	Summary  notes.ScanSummary
	Findings []notes.Finding
	// The third-party check over stored notes.
	ThirdPartyRan bool
	Scanned       int
	Candidates    []notes.Candidate
}

// maxCandidatesShown bounds the third-party list on the page.
const maxCandidatesShown = 500

// thirdPartyScan lists stored notes that name another person on the system
// with no recorded relationship to their own: candidates for a removal or a
// re-index ticket.
func (s *Server) thirdPartyScan(w http.ResponseWriter, r *http.Request, c *Caller) {
	d := scanData{ThirdPartyRan: true}
	var err error
	d.Scanned, err = s.cfg.Notes.Candidates(r.Context(), func(cd notes.Candidate) error {
		if len(d.Candidates) < maxCandidatesShown {
			d.Candidates = append(d.Candidates, cd)
		}
		return nil
	})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "scan", &page{Title: "Note checks", Nav: "scan", Data: d})
}

func (s *Server) scanForm(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.render(w, r, c, http.StatusOK, "scan", &page{Title: "Note checks", Nav: "scan", Data: scanData{}})
}

// scan runs the pasted-email guard over every stored note, and raises a
// removal ticket for each one found when asked.
func (s *Server) scan(w http.ResponseWriter, r *http.Request, c *Caller) {
	d := scanData{Ran: true, Raise: r.PostFormValue("raise_tickets") == "true"}
	var err error
	d.Summary, err = s.cfg.Notes.Scan(r.Context(), notes.ScanOptions{RaiseTickets: d.Raise}, func(f notes.Finding) error {
		if len(d.Findings) < 500 {
			d.Findings = append(d.Findings, f)
		}
		return nil
	})
	if err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.render(w, r, c, httpapi.Status(err), "scan", &page{Title: "Note checks", Nav: "scan", Errors: []fieldError{{"", pageMessage(err)}}, Data: scanData{}})
		return
	}
	s.render(w, r, c, http.StatusOK, "scan", &page{Title: "Note checks", Nav: "scan", Data: d})
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
