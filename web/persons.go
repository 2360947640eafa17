package web

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

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

// entry is one thing on a record's chronology: a note or a document.
type entry struct {
	At       time.Time
	Note     *casefile.Note
	Document *casefile.Document
}

type recordData struct {
	Entries  []entry
	Next     string // the next page's query string
	Q        string
	Searched bool
	MayWrite bool
	MayFile  bool
	// MayDisclose: a records officer, who opens disclosures of the record.
	MayDisclose bool
	MaxBytes    int64
	Open        []*casefile.Involvement
	Closed      []*casefile.Involvement
}

// chronologyPage is how many notes one page of the chronology shows.
const chronologyPage = 25

// record shows whose record it is, then the chronology: notes and documents
// together in the order things happened (when the contact took place; when
// an email was sent, or a file filed), oldest first, a page at a time. Each
// page shows its notes and the documents that fall between its first and
// last note.
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
		MaxBytes:    s.cfg.MaxUploadBytes}
	for _, inv := range person.Involvements {
		if inv.EndedOn == nil {
			d.Open = append(d.Open, inv)
		} else {
			d.Closed = append(d.Closed, inv)
		}
	}
	p := &page{Title: personName(person), Nav: "persons", Person: person, Data: &d}
	if len(d.Q) > 500 {
		p.Errors = append(p.Errors, fieldError{"q", "Enter search words of at most 500 characters"})
		d.Q = ""
	}
	if person.Status == casefile.StatusDestroyed {
		s.render(w, r, c, http.StatusOK, "record", p)
		return
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.errorPage(w, r, c, casefile.Errorf(casefile.EInvalid, "invalid_cursor", "This page of the record does not exist; go back to the record's first page."))
			return
		}
	}
	notes, next, err := s.cfg.Notes.Store.Notes(ctx, casefile.NoteFilter{PersonID: id, Query: d.Q,
		Page: casefile.Page{Limit: chronologyPage, Cursor: q.Get("cursor")}})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	for _, n := range notes {
		d.Entries = append(d.Entries, entry{At: n.OccurredAt, Note: n})
	}
	if d.Q != "" {
		d.Searched = true
	} else if s.may(c, permDocumentsRead) {
		// Documents falling on this page: after the previous page's last
		// note, up to this page's last note (or for ever on the last page).
		var until time.Time
		if next != "" && len(notes) > 0 {
			until = notes[len(notes)-1].OccurredAt
		}
		docs, err := s.allDocuments(r, id)
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		for _, doc := range docs {
			at := documentTime(doc)
			if (!since.IsZero() && !at.After(since)) || (!until.IsZero() && at.After(until)) {
				continue
			}
			d.Entries = append(d.Entries, entry{At: at, Document: doc})
		}
		sort.SliceStable(d.Entries, func(i, j int) bool { return d.Entries[i].At.Before(d.Entries[j].At) })
	}
	if next != "" && len(notes) > 0 {
		v := map[string][]string{"cursor": {next}, "since": {notes[len(notes)-1].OccurredAt.Format(time.RFC3339Nano)}}
		if d.Q != "" {
			v["q"] = []string{d.Q}
		}
		d.Next = encodeQuery(v)
	}
	s.render(w, r, c, http.StatusOK, "record", p)
}

// allDocuments reads a person's top-level documents, every page.
func (s *Server) allDocuments(r *http.Request, personID string) ([]*casefile.Document, error) {
	var out []*casefile.Document
	cursor := ""
	for {
		ds, next, err := s.cfg.Ingest.Store.Documents(r.Context(), personID, casefile.Page{Limit: casefile.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// documentTime is when a document's event happened: an email's date, or
// when the file was filed.
func documentTime(d *casefile.Document) time.Time {
	if d.Email != nil && d.Email.Date != nil && !d.Email.Date.IsZero() {
		return *d.Email.Date
	}
	return d.CreatedAt
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
