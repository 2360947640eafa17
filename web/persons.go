package web

import (
	"context"
	"html/template"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/council/casefile"
)

type findData struct {
	Q       string
	Found   []*casefile.Person
	Persons []*casefile.Person
	Next    string
	Cursor  string
}

// findPerson finds a person by reference, and lists the persons on file.
func (s *Server) findPerson(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := &page{Title: "Find a person", Nav: "persons"}
	d := findData{Q: q, Cursor: r.URL.Query().Get("cursor")}
	if len(q) > 200 {
		p.Errors = append(p.Errors, fieldError{"q", "Enter a name, reference or date of birth of at most 200 characters"})
	} else if q != "" {
		found, _, err := s.cfg.Persons.FindPersons(ctx, casefile.PersonFilter{Query: q, Page: casefile.Page{Limit: 20}})
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		if len(found) == 1 && found[0].Status != casefile.StatusDestroyed && strings.EqualFold(found[0].ExternalRef, q) {
			http.Redirect(w, r, "/persons/"+found[0].ID, http.StatusSeeOther)
			return
		}
		if d.Found, err = s.visible(ctx, found); err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		if len(found) == 0 {
			p.Errors = append(p.Errors, fieldError{"q", "No one on file matches " + q + ". Check the spelling, the reference or the date of birth."})
		}
	}
	persons, next, err := s.cfg.Persons.FindPersons(ctx, casefile.PersonFilter{Page: casefile.Page{Limit: 25, Cursor: d.Cursor}})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if d.Persons, err = s.visible(ctx, persons); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d.Next = next
	p.Data = d
	status := http.StatusOK
	if len(p.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, c, status, "find", p)
}

type recordData struct {
	Entries  []*casefile.ChronologyEntry
	Order    chronologyOrder
	Next     template.URL // the query string of the page after this one, in the order shown
	Prev     template.URL // and of the page before it
	Q        string
	RecordQ  string // the record search box starts empty on the record
	Searched bool
	// Beyond is a page past either end (what was there moved or a page
	// was kept): it links to the first page.
	Beyond   bool
	MayWrite bool
	MayFile  bool
	// MayDisclose: a records officer, who opens disclosures of the record.
	MayDisclose bool
	MaxBytes    int64
	Open        []*casefile.Involvement
	Closed      []*casefile.Involvement
}

// chronologyPage is how many entries one page of the chronology shows.
const chronologyPage = 25

// chronologyOrder is the order the chronology is shown in, kept in the
// address (order=oldest); newest first unless asked, as the MOJ timeline
// shows events, so that a record opens on what happened last.
type chronologyOrder struct{ Newest bool }

func (o chronologyOrder) Param() string {
	if o.Newest {
		return ""
	}
	return "oldest"
}

// Query is the query string of this order's first page, with q kept.
func (o chronologyOrder) Query(q string) template.URL {
	return template.URL(encodeQuery(map[string][]string{"order": {o.Param()}, "q": {q}}))
}

// NewestFirst and OldestFirst are the query strings of the sort control.
func (d *recordData) NewestFirst() template.URL { return chronologyOrder{Newest: true}.Query(d.Q) }
func (d *recordData) OldestFirst() template.URL { return chronologyOrder{}.Query(d.Q) }

// record shows whose record it is, then the chronology: notes and documents
// together in the order things happened (when the contact took place; when
// an email was sent, or a file filed), newest or oldest first, a page at a
// time. One storage read gives the page: it reads only the page's rows.
func (s *Server) record(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	person, err := s.person(ctx, id)
	if casefile.ErrorCode(err) == "restricted_record" {
		s.restricted(w, r, c, id, "", nil)
		return
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	q := r.URL.Query()
	d := recordData{Q: strings.TrimSpace(q.Get("q")), MayWrite: s.may(c, permNotesWrite), MayFile: s.may(c, permDocumentsWrite),
		MayDisclose: s.may(c, permDisclosuresManage) && s.cfg.Disclosures != nil,
		MaxBytes:    s.cfg.MaxUploadBytes, Order: chronologyOrder{Newest: q.Get("order") != "oldest"}}
	for _, inv := range person.Involvements {
		if inv.EndedOn == nil {
			d.Open = append(d.Open, inv)
		} else {
			d.Closed = append(d.Closed, inv)
		}
	}
	p := &page{Title: personName(person), Nav: "persons", Person: person, Data: &d}
	if len(d.Q) > 500 {
		p.Errors = append(p.Errors, fieldError{"record-q", "Enter search words of at most 500 characters"})
		d.Q = ""
	}
	if person.Status == casefile.StatusDestroyed {
		s.render(w, r, c, http.StatusOK, "record", p)
		return
	}
	f := casefile.ChronologyFilter{PersonID: id, Notes: s.may(c, permNotesRead), Documents: s.may(c, permDocumentsRead),
		Query: d.Q, Newest: d.Order.Newest, Cursor: q.Get("after"), Limit: chronologyPage}
	if b := q.Get("before"); b != "" {
		f.Cursor, f.Before = b, true
	}
	d.Searched = d.Q != ""
	entries, more, err := s.cfg.Chronology.Chronology(ctx, f)
	if casefile.ErrorCode(err) == "invalid_cursor" {
		err = casefile.Errorf(casefile.EInvalid, "invalid_cursor", "This page of the record does not exist; go back to the record's first page.")
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d.Entries = entries
	d.Beyond = len(entries) == 0 && f.Cursor != ""
	if n := len(entries); n > 0 {
		link := func(key, cursor string) template.URL {
			return template.URL(encodeQuery(map[string][]string{"order": {d.Order.Param()}, "q": {d.Q}, key: {cursor}}))
		}
		// A page reached going back has pages after it; one reached going
		// forward from a cursor has pages before it.
		if more && !f.Before || f.Before {
			d.Next = link("after", entries[n-1].Cursor)
		}
		if more && f.Before || !f.Before && f.Cursor != "" {
			d.Prev = link("before", entries[0].Cursor)
		}
	}
	s.render(w, r, c, http.StatusOK, "record", p)
}

// person checks that the caller may see the person's record, then reads it.
func (s *Server) person(ctx context.Context, id string) (*casefile.Person, error) {
	if s.cfg.Access != nil {
		if err := s.cfg.Access.CanAccessPerson(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.cfg.Persons.Person(ctx, id)
}

// visible leaves out of a list the persons whose records the caller may not see.
func (s *Server) visible(ctx context.Context, ps []*casefile.Person) ([]*casefile.Person, error) {
	if s.cfg.Access == nil || len(ps) == 0 {
		return ps, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	ok, err := s.cfg.Access.VisiblePersons(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := ps[:0:0]
	for _, p := range ps {
		if ok[p.ID] {
			out = append(out, p)
		}
	}
	return out, nil
}

// checkTarget checks, before a note, document or ticket is read, that the
// caller may see every record it is on.
func (s *Server) checkTarget(ctx context.Context, typ, id string) error {
	if s.cfg.Access == nil {
		return nil
	}
	ids, err := s.cfg.Access.PersonsOf(ctx, typ, id)
	if err != nil {
		return err
	}
	for _, pid := range ids {
		if err := s.cfg.Access.CanAccessPerson(ctx, pid); err != nil {
			return err
		}
	}
	return nil
}

func personName(p *casefile.Person) string {
	if p.Status == casefile.StatusDestroyed {
		return "Destroyed record"
	}
	return strings.TrimSpace(p.GivenName + " " + p.FamilyName)
}

func uuidOf(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", false
	}
	return u.String(), true
}

func notFound(what string) error {
	return casefile.Errorf(casefile.ENotFound, "not_found", "There is no such %s. Check the address, or find the person again.", what)
}

type restrictedData struct {
	PersonID, Reason string
}

// restricted tells who may see a restricted record, and lets a person who
// needs it for their work open it for an hour (break-glass), saying why.
func (s *Server) restricted(w http.ResponseWriter, r *http.Request, c *Caller, personID, reason string, errs []fieldError) {
	status := http.StatusForbidden
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, c, status, "restricted", &page{Title: "This record is restricted", Nav: "persons", Errors: errs,
		Data: restrictedData{PersonID: personID, Reason: reason}})
}

// breakGlass opens a restricted record for an hour; the access service
// records it and shows it to the record's owners.
func (s *Server) breakGlass(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok || s.cfg.Access == nil {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" || len(reason) > 2000 {
		s.restricted(w, r, c, id, reason, []fieldError{{"reason", "Enter why you need this record for your work (at most 2,000 characters)"}})
		return
	}
	if _, err := s.cfg.Access.BreakGlass(r.Context(), id, reason); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.restricted(w, r, c, id, reason, []fieldError{{"reason", pageMessage(err)}})
		return
	}
	http.Redirect(w, r, "/persons/"+id, http.StatusSeeOther)
}
