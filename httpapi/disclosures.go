package httpapi

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
	"github.com/council/casefile/disclosure"
)

func (s *Server) registerDisclosures(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/persons/:id/disclosures", permDisclosuresManage, s.createDisclosure)
	s.handle(g, http.MethodGet, "/persons/:id/disclosures", permDisclosuresManage, s.personDisclosures)
	s.handle(g, http.MethodGet, "/disclosures/:id", permDisclosuresManage, s.getDisclosure)
	s.handle(g, http.MethodPost, "/disclosures/:id/redactions", permDisclosuresManage, s.addRedaction)
	s.handle(g, http.MethodDelete, "/disclosures/:id/redactions/:redaction_id", permDisclosuresManage, s.removeRedaction)
	s.handle(g, http.MethodPost, "/disclosures/:id/withholdings", permDisclosuresManage, s.withhold)
	s.handle(g, http.MethodDelete, "/disclosures/:id/withholdings/:document_id", permDisclosuresManage, s.unwithhold)
	s.handle(g, http.MethodGet, "/disclosures/:id/suggestions", permDisclosuresManage, s.suggestions)
	s.handle(g, http.MethodPost, "/disclosures/:id/suggestions/decisions", permDisclosuresManage, s.decideSuggestion)
	s.handle(g, http.MethodPost, "/disclosures/:id/finalise", permDisclosuresManage, s.finaliseDisclosure)
	s.handle(g, http.MethodPost, "/disclosures/:id/approve", permDisclosuresManage, s.approveDisclosure)
	s.handle(g, http.MethodPost, "/disclosures/:id/return", permDisclosuresManage, s.returnDisclosure)
	s.handle(g, http.MethodGet, "/disclosures/:id/content", permDisclosuresManage, s.disclosureContent)
}

// disclosureID reads the :id of a disclosure route, and checks the service
// is wired.
func (s *Server) disclosureID(c *gin.Context) (string, bool) {
	if s.cfg.Disclosures == nil {
		s.unwired(c, "disclosures")
		return "", false
	}
	id, err := pathID(c, "id", "Disclosure")
	if err != nil {
		s.respondError(c, err)
		return "", false
	}
	return id, true
}

type disclosureRequest struct {
	Purpose    string         `json:"purpose"`
	Requester  string         `json:"requester"`
	ReceivedOn *casefile.Date `json:"received_on"`
	DueOn      *casefile.Date `json:"due_on"`
}

func (s *Server) createDisclosure(c *gin.Context) {
	if s.cfg.Disclosures == nil {
		s.unwired(c, "disclosures")
		return
	}
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req disclosureRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	in := disclosure.CreateInput{Purpose: req.Purpose, Requester: req.Requester}
	if req.ReceivedOn != nil {
		in.ReceivedOn = *req.ReceivedOn
	}
	if req.DueOn != nil {
		in.DueOn = *req.DueOn
	}
	d, err := s.cfg.Disclosures.Create(c.Request.Context(), id, in)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Location", "/v1/disclosures/"+d.ID)
	c.JSON(http.StatusCreated, d)
}

func (s *Server) personDisclosures(c *gin.Context) {
	if s.cfg.Disclosures == nil {
		s.unwired(c, "disclosures")
		return
	}
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	ds, err := s.cfg.Disclosures.Store.PersonDisclosures(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ds, ""))
}

func (s *Server) getDisclosure(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	d, err := s.cfg.Disclosures.Get(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"disclosure": d.Disclosure, "id": d.ID, "state": d.State, "items": d.Items,
		"reasons": s.cfg.Disclosures.ReasonList()})
}

type redactionRequest struct {
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	Start      *int   `json:"start"`
	End        *int   `json:"end"`
	Reason     string `json:"reason"`
}

func (s *Server) addRedaction(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	var req redactionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Start == nil || req.End == nil {
		s.respondError(c, unprocessable("invalid_span", "start and end are required: offsets in the item's text, in characters."))
		return
	}
	r, err := s.cfg.Disclosures.Redact(c.Request.Context(), id, disclosure.RedactionInput{TargetType: req.TargetType,
		TargetID: req.TargetID, Start: *req.Start, End: *req.End, Reason: req.Reason})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) removeRedaction(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	rid, err := pathID(c, "redaction_id", "Redaction")
	if err != nil {
		s.respondError(c, err)
		return
	}
	if err := s.cfg.Disclosures.Unredact(c.Request.Context(), id, rid); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type withholdingRequest struct {
	DocumentID string `json:"document_id"`
	Reason     string `json:"reason"`
}

func (s *Server) withhold(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	var req withholdingRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	w, err := s.cfg.Disclosures.Withhold(c.Request.Context(), id, req.DocumentID, req.Reason)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, w)
}

func (s *Server) unwithhold(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	doc, err := pathID(c, "document_id", "Withholding")
	if err != nil {
		s.respondError(c, err)
		return
	}
	if err := s.cfg.Disclosures.Unwithhold(c.Request.Context(), id, doc); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) suggestions(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	sg, err := s.cfg.Disclosures.Suggestions(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(sg, ""))
}

type decisionRequest struct {
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Decision   string `json:"decision"`
	Reason     string `json:"reason"`
}

func (s *Server) decideSuggestion(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	var req decisionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	d, err := s.cfg.Disclosures.Decide(c.Request.Context(), id, disclosure.DecisionInput(req))
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

func (s *Server) finaliseDisclosure(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	d, err := s.cfg.Disclosures.Finalise(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Location", "/v1/disclosures/"+d.ID)
	c.JSON(http.StatusAccepted, d)
}

func (s *Server) approveDisclosure(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	d, err := s.cfg.Disclosures.Approve(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, d)
}

func (s *Server) returnDisclosure(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	d, err := s.cfg.Disclosures.Return(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// disclosureContent streams a ready bundle from the object store.
func (s *Server) disclosureContent(c *gin.Context) {
	id, ok := s.disclosureID(c)
	if !ok {
		return
	}
	d, key, err := s.cfg.Disclosures.Store.DisclosureObject(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	rc, size, err := s.cfg.OpenObject(c.Request.Context(), key)
	if err != nil {
		s.respondError(c, err)
		return
	}
	defer rc.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="casefile-disclosure-`+d.ID+`.zip"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+d.SHA256+`"`)
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.log.Warn("disclosure download interrupted", "disclosure", d.ID, "err", err)
	}
}
