package httpapi

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

func (s *Server) registerAudit(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/audit", permAuditRead, s.listAudit)
	s.handle(g, http.MethodGet, "/audit/verify", permAuditRead, s.verifyAudit)
}

// auditActionPattern is an action of any number of parts (document.download,
// retention.run.approve), or a family of them (retention.*, retention.run.*).
var auditActionPattern = regexp.MustCompile(`^([a-z_]+(\.[a-z_]+)*(\.\*)?)?$`)

func (s *Server) listAudit(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	f := casefile.AuditFilter{Page: page}
	if f.PersonID, err = queryUUID(c, "person_id"); err != nil {
		s.respondError(c, err)
		return
	}
	if f.Since, err = queryTime(c, "since"); err != nil {
		s.respondError(c, err)
		return
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		s.respondError(c, err)
		return
	}
	// action: one action (document.download, retention.run.approve) or a
	// family (document.*, retention.run.*).
	if f.Action = c.Query("action"); len(f.Action) > 100 || !auditActionPattern.MatchString(f.Action) {
		s.respondError(c, invalid("invalid_action", "action is an audit action such as document.download, or a family such as document.*"))
		return
	}
	if f.Actor = c.Query("actor"); len(f.Actor) > 200 {
		s.respondError(c, invalid("invalid_actor", "actor is a name or a user's or token's id, at most 200 characters."))
		return
	}
	f.TargetID = c.Query("target_id")
	if f.TargetID != "" && len(f.TargetID) > 200 {
		s.respondError(c, invalid("invalid_target_id", "target_id is at most 200 characters."))
		return
	}
	evs, next, err := s.cfg.Audit.AuditEvents(c.Request.Context(), f)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if evs, err = s.visibleEvents(c, evs); err != nil { // restricted records: left out
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(evs, next))
}

func (s *Server) verifyAudit(c *gin.Context) {
	v, err := s.cfg.Audit.VerifyAudit(c.Request.Context())
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
