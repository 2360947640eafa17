package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

func (s *Server) registerTickets(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/tickets", permTicketsRaise, s.createTicket)
	s.handle(g, http.MethodGet, "/tickets", permTicketsRead, s.listTickets)
	s.handle(g, http.MethodGet, "/tickets/:id", permTicketsRead, s.getTicket)
	s.handle(g, http.MethodPost, "/tickets/:id/approve", permTicketsDecide, s.approveTicket)
	s.handle(g, http.MethodPost, "/tickets/:id/reject", permTicketsDecide, s.rejectTicket)
	s.handle(g, http.MethodPost, "/tickets/:id/retry", permTicketsDecide, s.retryTicket)
	s.handle(g, http.MethodPost, "/tickets/:id/close", permTicketsDecide, s.closeTicketWindow)
}

type ticketRequest struct {
	Kind                  string  `json:"kind"`
	TargetType            string  `json:"target_type"`
	TargetID              string  `json:"target_id"`
	Reason                string  `json:"reason"`
	ToPersonID            *string `json:"to_person_id"`
	ReplacementNoteID     *string `json:"replacement_note_id"`
	ReplacementDocumentID *string `json:"replacement_document_id"`
}

func (s *Server) createTicket(c *gin.Context) {
	var req ticketRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	switch req.Kind {
	case casefile.TicketRemoval, casefile.TicketReindex, casefile.TicketReopen:
	default:
		s.respondError(c, unprocessable("invalid_kind", "kind must be removal, reindex or reopen."))
		return
	}
	if req.TargetType != "note" && req.TargetType != "document" {
		s.respondError(c, unprocessable("invalid_target_type", "target_type must be note or document."))
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	t := &casefile.Ticket{Kind: req.Kind, TargetType: req.TargetType, TargetID: strings.ToLower(req.TargetID), Reason: strings.TrimSpace(req.Reason),
		ToPersonID: req.ToPersonID, ReplacementNoteID: req.ReplacementNoteID, ReplacementDocumentID: req.ReplacementDocumentID}
	if err := s.checkTicketPersons(c, t); err != nil { // restricted records (restrictions.go)
		s.respondError(c, err)
		return
	}
	if err := s.cfg.Tickets.CreateTicket(c.Request.Context(), t); err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Location", "/v1/tickets/"+t.ID)
	c.JSON(http.StatusCreated, t)
}

func (s *Server) listTickets(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	f := casefile.TicketFilter{State: c.Query("state"), Kind: c.Query("kind"), Page: page}
	switch f.State {
	case "", casefile.TicketOpen, casefile.TicketApproved, casefile.TicketDone, casefile.TicketFailed, casefile.TicketRejected:
	default:
		s.respondError(c, invalid("invalid_state", "state must be open, approved, done, failed or rejected."))
		return
	}
	switch f.Kind {
	case "", casefile.TicketRemoval, casefile.TicketReindex, casefile.TicketReopen:
	default:
		s.respondError(c, invalid("invalid_kind", "kind must be removal, reindex or reopen."))
		return
	}
	if f.PersonID, err = queryUUID(c, "person_id"); err != nil {
		s.respondError(c, err)
		return
	}
	if f.TargetID, err = queryUUID(c, "target_id"); err != nil {
		s.respondError(c, err)
		return
	}
	ts, next, err := s.cfg.Tickets.Tickets(c.Request.Context(), f)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if ts, err = s.visibleTickets(c, ts); err != nil { // restricted records: left out
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ts, next))
}

func (s *Server) ticketAction(c *gin.Context, status int, do func(id string) (*casefile.Ticket, error)) {
	id, err := pathID(c, "id", "Ticket")
	if err != nil {
		s.respondError(c, err)
		return
	}
	t, err := do(id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(status, t)
}

func (s *Server) getTicket(c *gin.Context) {
	s.ticketAction(c, http.StatusOK, func(id string) (*casefile.Ticket, error) { return s.cfg.Tickets.Ticket(c.Request.Context(), id) })
}

// approveTicket answers 202: the work is queued with the approval and a
// worker carries it out, even if Redis is down at this moment.
func (s *Server) approveTicket(c *gin.Context) {
	s.ticketAction(c, http.StatusAccepted, func(id string) (*casefile.Ticket, error) {
		return s.cfg.Tickets.ApproveTicket(c.Request.Context(), id)
	})
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) rejectTicket(c *gin.Context) {
	var req rejectRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	s.ticketAction(c, http.StatusOK, func(id string) (*casefile.Ticket, error) {
		return s.cfg.Tickets.RejectTicket(c.Request.Context(), id, strings.TrimSpace(req.Reason))
	})
}

func (s *Server) retryTicket(c *gin.Context) {
	s.ticketAction(c, http.StatusAccepted, func(id string) (*casefile.Ticket, error) {
		return s.cfg.Tickets.RetryTicket(c.Request.Context(), id)
	})
}

func (s *Server) closeTicketWindow(c *gin.Context) {
	s.ticketAction(c, http.StatusOK, func(id string) (*casefile.Ticket, error) {
		return s.cfg.Tickets.CloseReopenWindow(c.Request.Context(), id)
	})
}
