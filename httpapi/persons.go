package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

func (s *Server) registerPersons(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/persons", permPersonsWrite, s.createPerson)
	s.handle(g, http.MethodGet, "/persons", permPersonsRead, s.listPersons)
	s.handle(g, http.MethodGet, "/persons/:id", permPersonsRead, s.getPerson)
	s.handle(g, http.MethodPatch, "/persons/:id", permPersonsWrite, s.updatePerson)
	s.handle(g, http.MethodPost, "/persons/:id/involvements", permPersonsWrite, s.addInvolvement)
	s.handle(g, http.MethodPost, "/involvements/:id/close", permPersonsWrite, s.closeInvolvement)
	s.handle(g, http.MethodPost, "/persons/:id/relationships", permPersonsWrite, s.addRelationship)
	s.handle(g, http.MethodGet, "/persons/:id/relationships", permPersonsRead, s.listRelationships)
}

type relationshipRequest struct {
	ToPersonID string `json:"to_person_id"`
	Kind       string `json:"kind"`
}

// addRelationship records that to_person_id is the person's kind; the caller
// must be able to see both records.
func (s *Server) addRelationship(c *gin.Context) {
	if s.cfg.Relationships == nil {
		s.unwired(c, "relationships")
		return
	}
	var req relationshipRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	to := strings.ToLower(strings.TrimSpace(req.ToPersonID))
	if to == "" {
		s.respondError(c, unprocessable("missing_to_person_id", "to_person_id is required: the id of the related person's record."))
		return
	}
	if err := s.canAccess(c, to); err != nil && casefile.ErrorKind(err) != casefile.ENotFound {
		s.respondError(c, err)
		return
	}
	r, err := s.cfg.Relationships.AddRelationship(c.Request.Context(), strings.ToLower(c.Param("id")), to, req.Kind)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) listRelationships(c *gin.Context) {
	if s.cfg.Relationships == nil {
		s.unwired(c, "relationships")
		return
	}
	rs, err := s.cfg.Relationships.Relationships(c.Request.Context(), strings.ToLower(c.Param("id")))
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": rs, "next_cursor": ""})
}

type personRequest struct {
	ExternalRef string         `json:"external_ref"`
	GivenName   string         `json:"given_name"`
	FamilyName  string         `json:"family_name"`
	DateOfBirth *casefile.Date `json:"date_of_birth"`
	DateOfDeath *casefile.Date `json:"date_of_death"`
	NHSNumber   string         `json:"nhs_number"`
}

// nhsNumber checks an NHS number as given (empty: none).
func nhsNumber(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	d, ok := casefile.NHSNumber(s)
	if !ok {
		return "", unprocessable("invalid_nhs_number", "nhs_number must be an NHS number: 10 digits (they may be spaced 3 3 4) whose last digit checks the others; this one does not.")
	}
	return d, nil
}

func (s *Server) createPerson(c *gin.Context) {
	var req personRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	req.ExternalRef = strings.TrimSpace(req.ExternalRef)
	if err := validatePerson(&req); err != nil {
		s.respondError(c, err)
		return
	}
	nhs, err := nhsNumber(req.NHSNumber)
	if err != nil {
		s.respondError(c, err)
		return
	}
	p := &casefile.Person{ExternalRef: req.ExternalRef, GivenName: strings.TrimSpace(req.GivenName),
		FamilyName: strings.TrimSpace(req.FamilyName), DateOfBirth: req.DateOfBirth, DateOfDeath: req.DateOfDeath, NHSNumber: nhs}
	if err := s.cfg.Persons.CreatePerson(c.Request.Context(), p); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

func validatePerson(req *personRequest) error {
	if err := requireText("external_ref", req.ExternalRef, 100); err != nil {
		return err
	}
	if err := requireText("given_name", req.GivenName, 200); err != nil {
		return err
	}
	if err := requireText("family_name", req.FamilyName, 200); err != nil {
		return err
	}
	if req.DateOfBirth == nil {
		return unprocessable("missing_date_of_birth", "date_of_birth is required (YYYY-MM-DD): retention is counted from it.")
	}
	today := casefile.Today()
	if req.DateOfBirth.After(today) {
		return unprocessable("date_in_future", "date_of_birth %s is in the future.", req.DateOfBirth)
	}
	if req.DateOfDeath != nil {
		if req.DateOfDeath.After(today) {
			return unprocessable("date_in_future", "date_of_death %s is in the future.", req.DateOfDeath)
		}
		if req.DateOfDeath.Before(*req.DateOfBirth) {
			return unprocessable("death_before_birth", "date_of_death %s is before date_of_birth %s.", req.DateOfDeath, req.DateOfBirth)
		}
	}
	return nil
}

func (s *Server) getPerson(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	p, err := s.cfg.Persons.Person(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) listPersons(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	ps, next, err := s.cfg.Persons.FindPersons(c.Request.Context(), casefile.PersonFilter{ExternalRef: c.Query("external_ref"), Query: c.Query("q"), Page: page})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(personItems(ps), next)) // restricted records the caller may not see: {id, restricted}
}

type involvementRequest struct {
	Kind      string         `json:"kind"`
	StartedOn *casefile.Date `json:"started_on"`
	EndedOn   *casefile.Date `json:"ended_on"`
	Outcome   string         `json:"outcome"`
}

func (s *Server) addInvolvement(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req involvementRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if !casefile.ValidInvolvementKind(req.Kind) {
		s.respondError(c, unprocessable("invalid_kind", "kind %q is not an involvement kind; use one of %s.",
			req.Kind, strings.Join(casefile.InvolvementKinds, ", ")))
		return
	}
	if req.StartedOn == nil {
		s.respondError(c, unprocessable("missing_started_on", "started_on is required (YYYY-MM-DD)."))
		return
	}
	today := casefile.Today()
	if req.StartedOn.After(today) || (req.EndedOn != nil && req.EndedOn.After(today)) {
		s.respondError(c, unprocessable("date_in_future", "Involvement dates cannot be in the future."))
		return
	}
	if req.EndedOn != nil && req.EndedOn.Before(*req.StartedOn) {
		s.respondError(c, unprocessable("ended_before_started", "ended_on %s is before started_on %s.", req.EndedOn, req.StartedOn))
		return
	}
	switch req.Outcome {
	case "":
	case "substantiated", "unsubstantiated", "unfounded":
		if req.Kind != casefile.InvolvementLADO {
			s.respondError(c, unprocessable("outcome_not_allowed", "outcome applies to lado involvements only."))
			return
		}
	default:
		s.respondError(c, unprocessable("invalid_outcome", "outcome must be substantiated, unsubstantiated or unfounded."))
		return
	}
	inv := &casefile.Involvement{PersonID: id, Kind: req.Kind, StartedOn: *req.StartedOn, EndedOn: req.EndedOn, Outcome: req.Outcome}
	if err := s.cfg.Persons.AddInvolvement(c.Request.Context(), inv); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, inv)
}

type closeRequest struct {
	EndedOn *casefile.Date `json:"ended_on"`
}

func (s *Server) closeInvolvement(c *gin.Context) {
	id, err := pathID(c, "id", "Involvement")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req closeRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.EndedOn == nil {
		s.respondError(c, unprocessable("missing_ended_on", "ended_on is required (YYYY-MM-DD)."))
		return
	}
	if req.EndedOn.After(casefile.Today()) {
		s.respondError(c, unprocessable("date_in_future", "ended_on %s is in the future.", req.EndedOn))
		return
	}
	inv, err := s.cfg.Persons.CloseInvolvement(c.Request.Context(), id, *req.EndedOn)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, inv)
}

type personPatch struct {
	GivenName   *string        `json:"given_name"`
	FamilyName  *string        `json:"family_name"`
	DateOfBirth *casefile.Date `json:"date_of_birth"`
	DateOfDeath *casefile.Date `json:"date_of_death"`
	NHSNumber   *string        `json:"nhs_number"` // "" clears it
}

// updatePerson corrects identifying details or records a date of death.
func (s *Server) updatePerson(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req personPatch
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	for field, v := range map[string]*string{"given_name": req.GivenName, "family_name": req.FamilyName} {
		if v != nil {
			if err := requireText(field, *v, 200); err != nil {
				s.respondError(c, err)
				return
			}
		}
	}
	today := casefile.Today()
	for field, d := range map[string]*casefile.Date{"date_of_birth": req.DateOfBirth, "date_of_death": req.DateOfDeath} {
		if d != nil && d.After(today) {
			s.respondError(c, unprocessable("date_in_future", "%s %s is in the future.", field, d))
			return
		}
	}
	if req.NHSNumber != nil {
		nhs, err := nhsNumber(*req.NHSNumber)
		if err != nil {
			s.respondError(c, err)
			return
		}
		req.NHSNumber = &nhs
	}
	p, err := s.cfg.Persons.UpdatePerson(c.Request.Context(), id, casefile.PersonUpdate{NHSNumber: req.NHSNumber,
		GivenName: req.GivenName, FamilyName: req.FamilyName, DateOfBirth: req.DateOfBirth, DateOfDeath: req.DateOfDeath})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
