package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
)

func (s *Server) registerNotes(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/note-types", permAuthenticated, s.noteTypes)
	s.handle(g, http.MethodPost, "/persons/:id/notes", permNotesWrite, s.createNote)
	s.handle(g, http.MethodGet, "/persons/:id/notes", permNotesRead, s.listNotes)
	s.handle(g, http.MethodGet, "/notes/:id", permNotesRead, s.getNote)
	s.handle(g, http.MethodGet, "/notes/:id/versions", permNotesRead, s.noteVersions)
	s.handle(g, http.MethodPost, "/notes/:id/amendments", permNotesAmend, s.amendNote)
	s.handle(g, http.MethodPost, "/notes/scan", permNotesScan, s.scanNotes)
	s.handle(g, http.MethodGet, "/notes/third-party-candidates", permNotesScan, s.thirdPartyCandidates)
	// A case note is a legal record: these methods exist only to say so.
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		s.handle(g, m, "/notes/:id", permNotesRead, s.immutableNote)
	}
}

func (s *Server) noteTypes(c *gin.Context) {
	c.JSON(http.StatusOK, listOf(casefile.NoteTypes, ""))
}

func (s *Server) immutableNote(c *gin.Context) {
	s.respondError(c, casefile.Errorf(casefile.ENotAllowed, "case_notes_are_immutable",
		"Case notes are legal records and are never changed or deleted. To correct one, record a new note with corrects_note_id "+
			"and correction_reason; to remove a pasted email or move a note to the right person, raise an ICT ticket (POST /v1/tickets)."))
}

type noteRequest struct {
	Type             string    `json:"type"`
	OccurredAt       time.Time `json:"occurred_at"`
	Body             string    `json:"body"`
	CorrectsNoteID   string    `json:"corrects_note_id"`
	CorrectionReason string    `json:"correction_reason"`
}

func (s *Server) createNote(c *gin.Context) {
	personID, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req noteRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	n, err := s.cfg.Notes.Create(c.Request.Context(), notes.NewNote{PersonID: personID, Type: req.Type, OccurredAt: req.OccurredAt,
		Body: req.Body, CorrectsNoteID: req.CorrectsNoteID, CorrectionReason: req.CorrectionReason})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, n)
}

func (s *Server) listNotes(c *gin.Context) {
	personID, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > 500 || strings.ContainsRune(q, 0) {
		s.respondError(c, invalid("invalid_q", "q must be at most 500 characters of text."))
		return
	}
	ns, next, err := s.cfg.Notes.Store.Notes(c.Request.Context(), casefile.NoteFilter{PersonID: personID, Query: q, Page: page})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ns, next))
}

func (s *Server) getNote(c *gin.Context) {
	id, err := pathID(c, "id", "Note")
	if err != nil {
		s.respondError(c, err)
		return
	}
	n, err := s.cfg.Notes.Store.Note(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

func (s *Server) noteVersions(c *gin.Context) {
	id, err := pathID(c, "id", "Note")
	if err != nil {
		s.respondError(c, err)
		return
	}
	vs, err := s.cfg.Notes.Store.NoteVersions(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(vs, ""))
}

type amendmentRequest struct {
	Body   string `json:"body"`
	Reason string `json:"reason"`
}

func (s *Server) amendNote(c *gin.Context) {
	id, err := pathID(c, "id", "Note")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req amendmentRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	n, err := s.cfg.Notes.Amend(c.Request.Context(), id, req.Body, req.Reason)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, n)
}

// scanNotes runs the pasted-email guard over every stored note, and with
// ?raise_tickets=true raises one removal ticket per note found.
func (s *Server) scanNotes(c *gin.Context) {
	var opt notes.ScanOptions
	switch c.Query("raise_tickets") {
	case "", "false":
	case "true":
		opt.RaiseTickets = true
	default:
		s.respondError(c, invalid("invalid_raise_tickets", "raise_tickets must be true or false."))
		return
	}
	findings := []notes.Finding{}
	sum, err := s.cfg.Notes.Scan(c.Request.Context(), opt, func(f notes.Finding) error {
		findings = append(findings, f)
		return nil
	})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"scanned": sum.Scanned, "found": sum.Found, "tickets_raised": sum.TicketsRaised, "findings": findings})
}

// thirdPartyCandidates runs the third-party check over every stored note and
// lists the notes that name another person on the system with no recorded
// relationship to theirs (leaving out records the caller may not see).
func (s *Server) thirdPartyCandidates(c *gin.Context) {
	items := []notes.Candidate{}
	scanned, err := s.cfg.Notes.Candidates(c.Request.Context(), func(cd notes.Candidate) error {
		items = append(items, cd)
		return nil
	})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"scanned": scanned, "found": len(items), "items": items})
}
