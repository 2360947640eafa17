package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/httpapi"
	"github.com/council/casefile/notes"
)

// noteForm is the note form as typed, kept when the note is refused.
type noteForm struct {
	Type                   string
	Day, Month, Year, Time string
	Body                   string
	CorrectsNoteID         string
	CorrectionReason       string
	Corrects               *casefile.Note
	Types                  []casefile.NoteType
	PastedEmail            bool
	PersonID               string
	// Warnings are the third-party check's, shown before saving; Checked
	// is the digest of the body they were given for: saving that same body
	// again is the author's confirmation.
	Warnings []casefile.NoteWarning
	Checked  string
}

// bodyDigest identifies the text a third-party check was shown for.
func bodyDigest(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// newNote shows the note form; ?corrects=ID makes it a correction of that note.
func (s *Server) newNote(w http.ResponseWriter, r *http.Request, c *Caller) {
	now := time.Now().In(s.cfg.Location)
	f := &noteForm{Day: strconv.Itoa(now.Day()), Month: strconv.Itoa(int(now.Month())), Year: strconv.Itoa(now.Year()),
		Time: now.Format("15:04"), CorrectsNoteID: r.URL.Query().Get("corrects")}
	s.noteFormPage(w, r, c, f, nil, http.StatusOK)
}

func (s *Server) noteFormPage(w http.ResponseWriter, r *http.Request, c *Caller, f *noteForm, errs []fieldError, status int) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	person, err := s.person(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	f.PersonID = id
	f.Types = casefile.NoteTypes
	title := "Add a case note"
	if f.CorrectsNoteID != "" {
		title = "Correct a case note"
		f.Type = "correction"
		if nid, ok := uuidOf(f.CorrectsNoteID); ok && s.checkTarget(ctx, "note", nid) == nil {
			if n, err := s.cfg.Notes.Store.Note(ctx, nid); err == nil && n.PersonID == id {
				f.Corrects = n
			}
		}
		if f.Corrects == nil {
			s.errorPage(w, r, c, notFound("note to correct"))
			return
		}
	}
	s.render(w, r, c, status, "note-form", &page{Title: title, Nav: "persons", Person: person, Errors: errs, Data: f})
}

// createNote records a note through the notes service, which applies the
// policy; a refusal is shown on the form, with the text kept as typed.
func (s *Server) createNote(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, c, casefile.Errorf(casefile.ETooLarge, "too_large", "The note is too long to send; upload long material as a document and summarise it in the note."))
		return
	}
	f := &noteForm{Type: r.PostFormValue("type"), Day: strings.TrimSpace(r.PostFormValue("occurred-day")),
		Month: strings.TrimSpace(r.PostFormValue("occurred-month")), Year: strings.TrimSpace(r.PostFormValue("occurred-year")),
		Time: strings.TrimSpace(r.PostFormValue("occurred-time")), Body: r.PostFormValue("body"),
		CorrectsNoteID: r.PostFormValue("corrects_note_id"), CorrectionReason: r.PostFormValue("correction_reason")}
	personID := r.PathValue("id")
	if s.cfg.Access != nil {
		if err := s.cfg.Access.CanAccessPerson(r.Context(), personID); err != nil {
			s.errorPage(w, r, c, err)
			return
		}
	}
	var errs []fieldError
	if f.Type == "" {
		errs = append(errs, fieldError{"type", "Select the type of note"})
	}
	occurred, msg := s.parseWhen(f.Day, f.Month, f.Year, f.Time)
	if msg != "" {
		errs = append(errs, fieldError{"occurred-day", msg})
	}
	if len(errs) > 0 {
		if strings.TrimSpace(f.Body) == "" {
			errs = append(errs, fieldError{"body", "Enter what happened"})
		}
		s.noteFormPage(w, r, c, f, errs, http.StatusUnprocessableEntity)
		return
	}
	// Before saving, the author is told of other persons the note names,
	// and confirms (by saving the same text) or edits it.
	if r.PostFormValue("third_party_checked") != bodyDigest(f.Body) && notes.CheckBody(f.Body) == nil {
		ws, err := s.cfg.Notes.CheckThirdParty(r.Context(), personID, f.Body)
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		if len(ws) > 0 {
			f.Warnings, f.Checked = ws, bodyDigest(f.Body)
			s.noteFormPage(w, r, c, f, nil, http.StatusOK)
			return
		}
	}
	n, err := s.cfg.Notes.Create(r.Context(), notes.NewNote{PersonID: personID, Type: f.Type, OccurredAt: occurred, Body: f.Body,
		CorrectsNoteID: f.CorrectsNoteID, CorrectionReason: f.CorrectionReason})
	if err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		f.PastedEmail = casefile.ErrorCode(err) == "pasted_email"
		s.noteFormPage(w, r, c, f, []fieldError{{noteField(casefile.ErrorCode(err)), pageMessage(err)}}, httpapi.Status(err))
		return
	}
	http.Redirect(w, r, "/notes/"+n.ID+"?recorded=1", http.StatusSeeOther)
}

// refusal reports whether err is about what was typed (shown on the form)
// rather than a failure (shown as an error page).
func refusal(err error) bool {
	switch casefile.ErrorKind(err) {
	case casefile.EInvalid, casefile.EUnprocessable, casefile.EConflict, casefile.ETooLarge:
		return true
	}
	return false
}

// noteField is the form field a note refusal is about.
func noteField(code string) string {
	switch code {
	case "invalid_type":
		return "type"
	case "missing_occurred_at", "occurred_in_future":
		return "occurred-day"
	case "missing_correction_reason", "correction_reason_without_note":
		return "correction_reason"
	case "missing_reason":
		return "reason"
	}
	return "body"
}

// pageMessage is a refusal's message as the pages show it: the policy's own
// words, without the API's directions (the page links to the action itself).
func pageMessage(err error) string {
	m := casefile.ErrorMessage(err)
	switch casefile.ErrorCode(err) {
	case "pasted_email":
		m = strings.Replace(m, " with POST /v1/persons/{id}/documents", "", 1)
	case "restricted_record":
		m = strings.Replace(m, " with POST /v1/persons/{id}/access and a reason", " from the record's page, saying why", 1)
	}
	return m
}

// parseWhen reads the GOV.UK date input and a time in the council's zone.
func (s *Server) parseWhen(day, month, year, clock string) (time.Time, string) {
	if day == "" && month == "" && year == "" {
		return time.Time{}, "Enter the date it happened"
	}
	d, err1 := strconv.Atoi(day)
	m, err2 := strconv.Atoi(month)
	y, err3 := strconv.Atoi(year)
	if err1 != nil || err2 != nil || err3 != nil || m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 9999 {
		return time.Time{}, "The date it happened must be a real date, for example 27 3 2026"
	}
	hh, mm := 12, 0
	if clock != "" {
		var ok bool
		if hh, mm, ok = parseClock(clock); !ok {
			return time.Time{}, "Enter the time as hours and minutes, for example 14:30"
		}
	}
	t := time.Date(y, time.Month(m), d, hh, mm, 0, 0, s.cfg.Location)
	if t.Day() != d {
		return time.Time{}, "The date it happened must be a real date, for example 27 3 2026"
	}
	return t, ""
}

func parseClock(v string) (int, int, bool) {
	v = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(v)), ".", ":")
	pm := strings.HasSuffix(v, "pm")
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(v, "pm"), "am"))
	hs, ms, found := strings.Cut(v, ":")
	if !found {
		ms = "0"
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, false
	}
	if pm && h < 12 {
		h += 12
	}
	return h, m, true
}

type noteData struct {
	Note     *casefile.Note
	Versions []*casefile.NoteVersion
	MayWrite bool
	MayRaise bool
	MayAmend bool
	Visit    bool
}

// notePage shows a note with its corrections and what can be done with it.
func (s *Server) notePage(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("note"))
		return
	}
	if err := s.checkTarget(ctx, "note", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	n, err := s.cfg.Notes.Store.Note(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	person, err := s.person(ctx, n.PersonID)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := noteData{Note: n, MayWrite: s.may(c, permNotesWrite), MayRaise: s.may(c, permTicketsRaise),
		MayAmend: s.may(c, permNotesAmend) && n.ReopenedBy != nil, Visit: casefile.IsVisitNoteType(n.Type)}
	if n.Versions > 1 {
		if d.Versions, err = s.cfg.Notes.Store.NoteVersions(ctx, id); err != nil {
			s.errorPage(w, r, c, err)
			return
		}
	}
	p := &page{Title: noteTypeLabel(n.Type) + " note, " + when(n.OccurredAt, s.cfg.Location), Nav: "persons", Person: person, Data: d}
	q := r.URL.Query()
	switch {
	case q.Get("recorded") != "":
		p.Banner = &banner{Success: true, Heading: "Your note was added to the record"}
	case q.Get("amended") != "":
		p.Banner = &banner{Success: true, Heading: "The visit note was amended", Text: "The amendment window is now closed."}
	case q.Get("raised") != "":
		p.Banner = &banner{Success: true, Heading: "Your ticket was sent to the ICT service desk", Link: "See the ticket",
			LinkTo: "/tickets/" + q.Get("raised")}
	}
	s.render(w, r, c, http.StatusOK, "note", p)
}

type amendForm struct {
	Note   *casefile.Note
	Body   string
	Reason string
}

// amendForm lets ICT amend a visit note its reopen ticket holds open.
func (s *Server) amendForm(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.amendPage(w, r, c, nil, nil, http.StatusOK)
}

func (s *Server) amendPage(w http.ResponseWriter, r *http.Request, c *Caller, f *amendForm, errs []fieldError, status int) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("note"))
		return
	}
	if err := s.checkTarget(ctx, "note", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	n, err := s.cfg.Notes.Store.Note(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	person, err := s.person(ctx, n.PersonID)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if f == nil {
		f = &amendForm{}
		if n.Body != nil {
			f.Body = *n.Body
		}
	}
	f.Note = n
	s.render(w, r, c, status, "amend", &page{Title: "Amend a reopened visit note", Nav: "tickets", Person: person, Errors: errs, Data: f})
}

func (s *Server) amendNote(w http.ResponseWriter, r *http.Request, c *Caller) {
	f := &amendForm{Body: r.PostFormValue("body"), Reason: r.PostFormValue("reason")}
	if err := s.checkTarget(r.Context(), "note", r.PathValue("id")); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	n, err := s.cfg.Notes.Amend(r.Context(), r.PathValue("id"), f.Body, f.Reason)
	if err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		field := noteField(casefile.ErrorCode(err))
		if casefile.ErrorKind(err) == casefile.EConflict {
			field = ""
		}
		s.amendPage(w, r, c, f, []fieldError{{field, pageMessage(err)}}, httpapi.Status(err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/notes/%s?amended=1", n.ID), http.StatusSeeOther)
}
