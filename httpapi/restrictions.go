package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

// scope is a route's restricted-record decision: how the route reaches a
// person's record, and so how a restricted record is kept from those it is
// not open to. The rule itself is casefile.AccessService's; this only says
// where the person is.
type scope string

const (
	// scopeNone: not person-scoped (nothing of a person's record is read or
	// changed, or only ids and dates: holds and retention runs, which must
	// never be blocked by a restriction).
	scopeNone scope = "none"
	// scopePerson: the :id path parameter is a person's id.
	scopePerson scope = "person"
	// scopePersonRead: as scopePerson, for a read whose handler reads the
	// record through the storage, which makes the check in the read's first
	// round trip (casefile.AccessCheck) instead of one of its own.
	scopePersonRead scope = "person_read"
	// scopePersonUpload: as scopePersonRead, for an upload: the storage's
	// check of the person (ingest's first statement, before anything is
	// written) makes the access check in the same round trip, and an upload
	// refused before it gets that far makes it then (refuseFirst), so that a
	// restricted record answers 403 whatever else was wrong.
	scopePersonUpload scope = "person_upload"
	// scopeNote, scopeDocument, scopeTicket, scopeExport, scopeInvolvement:
	// :id is the id of one of these, and its person (a re-index ticket's two
	// persons) is checked.
	scopeNote        scope = "note"
	scopeDocument    scope = "document"
	scopeTicket      scope = "ticket"
	scopeExport      scope = "export"
	scopeDisclosure  scope = "disclosure"
	scopeInvolvement scope = "involvement"
	// scopeFiltered: a list; a person_id query parameter is checked like a
	// path, and the handler leaves out (or stands in for) what the caller may
	// not see.
	scopeFiltered scope = "filtered"
	// scopeBody: the person is named in the request body; the handler checks it.
	scopeBody scope = "body"
	// scopeRestriction: managing a record's restriction; storage lets admins
	// and those the record is open to.
	scopeRestriction scope = "restriction"
	// scopeBreakGlass: open to everyone with the permission, by design.
	scopeBreakGlass scope = "break_glass"
)

// restrictionDecisions gives every registered route its decision. A route
// missing here fails TestEveryRouteHasARestrictionDecision.
var restrictionDecisions = map[string]scope{
	"POST /v1/persons":                   scopeNone,   // a new record is not restricted yet
	"POST /v1/persons/:id/relationships": scopePerson, // and the handler checks the related record
	"GET /v1/persons/:id/relationships":  scopePerson, // related records the caller may not see: {id, restricted}
	"GET /v1/persons":                    scopeFiltered,
	"GET /v1/persons/:id":                scopePersonRead,
	"PATCH /v1/persons/:id":              scopePerson,
	"POST /v1/persons/:id/involvements":  scopePerson,
	"POST /v1/involvements/:id/close":    scopeInvolvement,
	"PUT /v1/persons/:id/restriction":    scopeRestriction,
	"DELETE /v1/persons/:id/restriction": scopeRestriction,
	"GET /v1/persons/:id/restriction":    scopeRestriction,
	"POST /v1/persons/:id/access":        scopeBreakGlass,
	"POST /v1/teams":                     scopeNone,
	"GET /v1/teams":                      scopeNone,
	"POST /v1/persons/:id/exports":       scopePerson,
	"GET /v1/exports/signing-key":        scopeNone, // the service's public key: nothing of a record
	"GET /v1/exports/:id":                scopeExport,
	"GET /v1/exports/:id/content":        scopeExport,
	"GET /v1/note-types":                 scopeNone,
	"POST /v1/persons/:id/notes":         scopePerson,
	"GET /v1/persons/:id/notes":          scopePersonRead,
	"GET /v1/persons/:id/search":         scopePerson,
	"GET /v1/notes/:id":                  scopeNote,
	"PUT /v1/notes/:id":                  scopeNote,
	"PATCH /v1/notes/:id":                scopeNote,
	"DELETE /v1/notes/:id":               scopeNote,
	"GET /v1/notes/:id/versions":         scopeNote,
	"POST /v1/notes/:id/amendments":      scopeNote,
	"POST /v1/notes/scan":                scopeNone, // ICT's scan raises tickets; it shows no record
	// Notes that name another person: the handler leaves out notes on
	// records, and named persons, the caller may not see.
	"GET /v1/notes/third-party-candidates":                 scopeFiltered,
	"POST /v1/persons/:id/documents":                       scopePersonUpload,
	"GET /v1/documents/:id":                                scopeDocument,
	"GET /v1/documents/:id/content":                        scopeDocument,
	"POST /v1/documents/:id/links":                         scopeDocument, // and the handler checks the record it is filed on
	"POST /v1/tickets":                                     scopeBody,
	"GET /v1/tickets":                                      scopeFiltered,
	"GET /v1/tickets/:id":                                  scopeTicket,
	"POST /v1/tickets/:id/approve":                         scopeTicket,
	"POST /v1/tickets/:id/reject":                          scopeTicket,
	"POST /v1/tickets/:id/retry":                           scopeTicket,
	"POST /v1/tickets/:id/close":                           scopeTicket,
	"GET /v1/retention/schedule":                           scopeNone,
	"GET /v1/persons/:id/retention":                        scopePerson,
	"POST /v1/holds":                                       scopeNone, // a hold names ids; it must never be blocked
	"GET /v1/holds":                                        scopeNone,
	"POST /v1/holds/:id/release":                           scopeNone,
	"POST /v1/retention/runs":                              scopeNone,
	"GET /v1/retention/runs/:id":                           scopeNone,
	"GET /v1/retention/runs/:id/items":                     scopeNone, // item ids, classes, dates: no names or content
	"GET /v1/audit":                                        scopeFiltered,
	"GET /v1/audit/verify":                                 scopeNone,
	"GET /v1/me":                                           scopeNone,
	"GET /v1/users":                                        scopeNone,
	"PATCH /v1/users/:id":                                  scopeNone,
	"GET /v1/tokens":                                       scopeNone,
	"DELETE /v1/tokens/:id":                                scopeNone,
	"POST /v1/persons/:id/disclosures":                     scopePerson,
	"GET /v1/persons/:id/disclosures":                      scopePerson,
	"GET /v1/disclosures/:id":                              scopeDisclosure,
	"POST /v1/disclosures/:id/redactions":                  scopeDisclosure,
	"DELETE /v1/disclosures/:id/redactions/:redaction_id":  scopeDisclosure,
	"POST /v1/disclosures/:id/withholdings":                scopeDisclosure,
	"DELETE /v1/disclosures/:id/withholdings/:document_id": scopeDisclosure,
	"GET /v1/disclosures/:id/suggestions":                  scopeDisclosure,
	"POST /v1/disclosures/:id/suggestions/decisions":       scopeDisclosure,
	"POST /v1/disclosures/:id/finalise":                    scopeDisclosure,
	"POST /v1/disclosures/:id/approve":                     scopeDisclosure,
	"POST /v1/disclosures/:id/return":                      scopeDisclosure,
	"GET /v1/disclosures/:id/content":                      scopeDisclosure,
	"GET /v1/persons/:id/documents":                        scopePersonRead,
	// Disposal decisions act on a list of ids and dates, and a records
	// officer must be able to decide every record on it (a restricted one
	// included) without seeing it; the review queue shows ids and dates only.
	"POST /v1/retention/runs/:id/exclusions": scopeNone,
	"POST /v1/retention/runs/:id/approve":    scopeNone,
	"POST /v1/retention/runs/:id/reject":     scopeNone,
	"GET /v1/retention/review":               scopeNone,
	// Keep or return a record in the review queue: a decision on an id, like
	// the disposal list's; a restricted record must be decidable too.
	"POST /v1/retention/review/:id/keep":   scopeNone,
	"POST /v1/retention/review/:id/return": scopeNone,
	"GET /v1/retention/runs":               scopeNone, // runs' counts; no certificate items
	// Reports count staff's notes, refusals, tickets and access by team and
	// name: ids, dates and counts, nothing of any person's record.
	"GET /v1/reports/:name": scopeNone,
}

// restrict is the middleware that applies a route's decision before its
// handler runs, after authorize has put the actor in the context.
func (s *Server) restrict(sc scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		var persons []string
		switch sc {
		case scopePersonRead, scopePersonUpload:
			ctx, check := casefile.WithAccessCheck(c.Request.Context(), strings.ToLower(c.Param("id")))
			c.Request = c.Request.WithContext(ctx)
			c.Next()
			if !check.Made() && c.Writer.Status() < 300 {
				// A handler that answered without reading through the
				// storage: the check was never made. Tests catch it
				// (TestRestrictedRecordOnEveryRoute); say so if one ships.
				s.log.Error("a read answered without its access check", "route", c.FullPath())
			}
			return
		case scopePerson:
			persons = []string{strings.ToLower(c.Param("id"))}
		case scopeNote, scopeDocument, scopeTicket, scopeExport, scopeDisclosure, scopeInvolvement:
			if s.cfg.Access == nil {
				s.unwired(c, "access")
				return
			}
			ids, err := s.cfg.Access.PersonsOf(c.Request.Context(), string(sc), strings.ToLower(c.Param("id")))
			if casefile.ErrorKind(err) == casefile.ENotFound {
				c.Next() // the handler answers 404 in its own words
				return
			}
			if err != nil {
				s.respondError(c, err)
				return
			}
			persons = ids
		case scopeFiltered:
			if id := c.Query("person_id"); id != "" {
				persons = []string{strings.ToLower(id)}
			}
		}
		if len(persons) > 0 {
			if err := s.canAccess(c, persons...); err != nil {
				s.respondError(c, err)
				return
			}
		}
		c.Next()
	}
}

// refuseFirst answers err, unless the access check the route left to the
// storage (scopePersonUpload) was not made yet and refuses: then that
// refusal is the answer, as it would have been before the handler ran.
func (s *Server) refuseFirst(c *gin.Context, err error) {
	if aerr := s.checkAccessNow(c); aerr != nil {
		err = aerr
	}
	s.respondError(c, err)
}

// checkAccessNow makes the access check the route left to the storage
// (scopePersonUpload), if it is not made yet.
func (s *Server) checkAccessNow(c *gin.Context) error {
	if chk := casefile.TakeAccessCheck(c.Request.Context()); chk != nil {
		return s.canAccess(c, chk.PersonID)
	}
	return nil
}

// canAccess checks each person with the access service.
func (s *Server) canAccess(c *gin.Context, persons ...string) error {
	if s.cfg.Access == nil {
		return casefile.Unavailable("access control", nil)
	}
	for _, id := range persons {
		if err := s.cfg.Access.CanAccessPerson(c.Request.Context(), id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) unwired(c *gin.Context, what string) {
	s.respondError(c, casefile.Unavailable(what, nil))
}

// visible returns which of the persons the caller may see.
func (s *Server) visible(c *gin.Context, persons []string) (map[string]bool, error) {
	if s.cfg.Access == nil {
		return nil, casefile.Unavailable("access control", nil)
	}
	return s.cfg.Access.VisiblePersons(c.Request.Context(), persons)
}

// visibleTickets leaves out tickets on records the caller may not see.
func (s *Server) visibleTickets(c *gin.Context, ts []*casefile.Ticket) ([]*casefile.Ticket, error) {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.PersonID)
		if t.ToPersonID != nil {
			ids = append(ids, *t.ToPersonID)
		}
	}
	vis, err := s.visible(c, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ts, func(t *casefile.Ticket) bool {
		return !vis[t.PersonID] || (t.ToPersonID != nil && !vis[*t.ToPersonID])
	}), nil
}

// visibleEvents leaves out audit events of records the caller may not see,
// except the access events themselves (access.*: restrictions, refusals and
// break-glass), which carry no record content and let auditors oversee
// access to restricted records.
func (s *Server) visibleEvents(c *gin.Context, evs []*casefile.AuditEvent) ([]*casefile.AuditEvent, error) {
	var ids []string
	for _, e := range evs {
		if e.PersonID != "" {
			ids = append(ids, e.PersonID)
		}
	}
	vis, err := s.visible(c, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(evs, func(e *casefile.AuditEvent) bool {
		return e.PersonID != "" && !vis[e.PersonID] && !strings.HasPrefix(e.Action, "access.")
	}), nil
}

// checkTicketPersons checks the records a new ticket would reach: its
// target's person and, for a re-index, the person it moves to.
func (s *Server) checkTicketPersons(c *gin.Context, t *casefile.Ticket) error {
	if s.cfg.Access == nil {
		return casefile.Unavailable("access control", nil)
	}
	persons, err := s.cfg.Access.PersonsOf(c.Request.Context(), t.TargetType, t.TargetID)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		persons, err = nil, nil // CreateTicket answers 404 in its own words
	}
	if err != nil {
		return err
	}
	if t.ToPersonID != nil {
		persons = append(persons, strings.ToLower(*t.ToPersonID))
	}
	return s.canAccess(c, persons...)
}

// restrictedPlaceholder is how a list shows a record the caller may not see.
type restrictedPlaceholder struct {
	ID         string `json:"id"`
	Restricted bool   `json:"restricted"`
}

func personItems(ps []*casefile.Person) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		if p.Restricted && p.ExternalRef == "" { // a stand-in from FindPersons
			out[i] = restrictedPlaceholder{ID: p.ID, Restricted: true}
		} else {
			out[i] = p
		}
	}
	return out
}

func (s *Server) registerAccess(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/teams", permTeamsManage, s.createTeam)
	s.handle(g, http.MethodGet, "/teams", permTeamsRead, s.listTeams)
	s.handle(g, http.MethodPut, "/persons/:id/restriction", permRestrictionsManage, s.restrictPerson)
	s.handle(g, http.MethodDelete, "/persons/:id/restriction", permRestrictionsManage, s.liftRestriction)
	s.handle(g, http.MethodGet, "/persons/:id/restriction", permRestrictionsManage, s.getRestriction)
	s.handle(g, http.MethodPost, "/persons/:id/access", permPersonsRead, s.breakGlass)
}

type teamRequest struct {
	Name string `json:"name"`
}

func (s *Server) createTeam(c *gin.Context) {
	if s.cfg.Teams == nil {
		s.unwired(c, "teams")
		return
	}
	var req teamRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("name", req.Name, 200); err != nil {
		s.respondError(c, err)
		return
	}
	t, err := s.cfg.Teams.CreateTeam(c.Request.Context(), req.Name)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (s *Server) listTeams(c *gin.Context) {
	if s.cfg.Teams == nil {
		s.unwired(c, "teams")
		return
	}
	ts, err := s.cfg.Teams.Teams(c.Request.Context())
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ts, ""))
}

type restrictionRequest struct {
	Reason  string   `json:"reason"`
	TeamIDs []string `json:"team_ids"`
	UserIDs []string `json:"user_ids"`
}

func (s *Server) restrictPerson(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req restrictionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	if len(req.TeamIDs)+len(req.UserIDs) > 200 {
		s.respondError(c, unprocessable("too_many", "A restriction names at most 200 teams and users together."))
		return
	}
	if s.cfg.Access == nil {
		s.unwired(c, "access control")
		return
	}
	r, err := s.cfg.Access.Restrict(c.Request.Context(), id, casefile.RestrictionInput{Reason: strings.TrimSpace(req.Reason),
		TeamIDs: nonNil(req.TeamIDs), UserIDs: nonNil(req.UserIDs)})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) decodeReason(c *gin.Context) (string, string, bool) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return "", "", false
	}
	var req reasonRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return "", "", false
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return "", "", false
	}
	if s.cfg.Access == nil {
		s.unwired(c, "access control")
		return "", "", false
	}
	return id, strings.TrimSpace(req.Reason), true
}

func (s *Server) liftRestriction(c *gin.Context) {
	id, reason, ok := s.decodeReason(c)
	if !ok {
		return
	}
	if err := s.cfg.Access.LiftRestriction(c.Request.Context(), id, reason); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) getRestriction(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	if s.cfg.Access == nil {
		s.unwired(c, "access control")
		return
	}
	r, err := s.cfg.Access.Restriction(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) breakGlass(c *gin.Context) {
	id, reason, ok := s.decodeReason(c)
	if !ok {
		return
	}
	b, err := s.cfg.Access.BreakGlass(c.Request.Context(), id, reason)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, b)
}
