package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

func (s *Server) registerRetention(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/retention/schedule", permRetentionRead, s.retentionSchedule)
	s.handle(g, http.MethodGet, "/persons/:id/retention", permRetentionRead, s.personRetention)
	s.handle(g, http.MethodPost, "/holds", permRetentionManage, s.createHold)
	s.handle(g, http.MethodGet, "/holds", permRetentionRead, s.listHolds)
	s.handle(g, http.MethodPost, "/holds/:id/release", permRetentionManage, s.releaseHold)
	s.handle(g, http.MethodPost, "/retention/runs", permRetentionManage, s.createRun)
	s.handle(g, http.MethodGet, "/retention/runs/:id", permRetentionRead, s.getRun)
	s.handle(g, http.MethodGet, "/retention/runs/:id/items", permRetentionRead, s.runItems)
	s.handle(g, http.MethodPost, "/retention/runs/:id/exclusions", permDisposalDecide, s.excludeFromRun)
	s.handle(g, http.MethodPost, "/retention/runs/:id/approve", permDisposalDecide, s.approveRun)
	s.handle(g, http.MethodPost, "/retention/runs/:id/reject", permDisposalDecide, s.rejectRun)
	s.handle(g, http.MethodGet, "/retention/review", permRetentionRead, s.reviewQueue)
	s.handle(g, http.MethodPost, "/retention/review/:id/keep", permDisposalDecide, s.keepRecord)
	s.handle(g, http.MethodPost, "/retention/review/:id/return", permDisposalDecide, s.returnRecord)
	s.handle(g, http.MethodGet, "/retention/runs", permRetentionRead, s.listRuns)
}

func (s *Server) retentionSchedule(c *gin.Context) {
	c.JSON(http.StatusOK, listOf(s.cfg.Policy.Schedule(), ""))
}

func (s *Server) personRetention(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	r, err := s.cfg.Retention.PersonRetention(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

type holdRequest struct {
	Name      string   `json:"name"`
	Reason    string   `json:"reason"`
	PersonIDs []string `json:"person_ids"`
	All       bool     `json:"all"`
}

func (s *Server) createHold(c *gin.Context) {
	var req holdRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("name", req.Name, 200); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	if req.All == (len(req.PersonIDs) > 0) {
		s.respondError(c, unprocessable("hold_scope", "A hold covers either named persons (person_ids) or every record (all: true), not both or neither."))
		return
	}
	if len(req.PersonIDs) > 10000 {
		s.respondError(c, unprocessable("too_many_persons", "A hold names at most 10,000 persons; use all: true for everything."))
		return
	}
	h := &casefile.Hold{Name: strings.TrimSpace(req.Name), Reason: strings.TrimSpace(req.Reason), All: req.All, PersonIDs: req.PersonIDs}
	if h.PersonIDs == nil {
		h.PersonIDs = []string{}
	}
	if err := s.cfg.Retention.CreateHold(c.Request.Context(), h); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusCreated, h)
}

func (s *Server) listHolds(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	hs, next, err := s.cfg.Retention.Holds(c.Request.Context(), page)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(hs, next))
}

type releaseRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) releaseHold(c *gin.Context) {
	id, err := pathID(c, "id", "Hold")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req releaseRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			s.respondError(c, err)
			return
		}
	}
	h, err := s.cfg.Retention.ReleaseHold(c.Request.Context(), id, strings.TrimSpace(req.Reason))
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, h)
}

type runRequest struct {
	DryRun *bool          `json:"dry_run"`
	AsOf   *casefile.Date `json:"as_of"`
}

func (s *Server) createRun(c *gin.Context) {
	var req runRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.DryRun == nil {
		s.respondError(c, unprocessable("missing_dry_run", "Say dry_run: true to see what is due, or dry_run: false to destroy it."))
		return
	}
	asOf := casefile.Today()
	if req.AsOf != nil {
		if !*req.DryRun {
			s.respondError(c, unprocessable("as_of_needs_dry_run",
				"as_of is for what-if dry runs only; a real run destroys what is due today, never before its date."))
			return
		}
		asOf = *req.AsOf
	}
	r, err := s.cfg.Retention.CreateRun(c.Request.Context(), *req.DryRun, asOf)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Location", "/v1/retention/runs/"+r.ID)
	c.JSON(http.StatusAccepted, r)
}

func (s *Server) getRun(c *gin.Context) {
	id, err := pathID(c, "id", "Retention run")
	if err != nil {
		s.respondError(c, err)
		return
	}
	r, err := s.cfg.Retention.RetentionRun(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) runItems(c *gin.Context) {
	id, err := pathID(c, "id", "Retention run")
	if err != nil {
		s.respondError(c, err)
		return
	}
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	state := c.Query("state")
	switch state {
	case "", casefile.ItemDue, casefile.ItemHeldBack, casefile.ItemReview, casefile.ItemDestroyed:
	default:
		s.respondError(c, invalid("invalid_state", "state must be due, held_back, review or destroyed."))
		return
	}
	items, next, err := s.cfg.Retention.RunItems(c.Request.Context(), id, casefile.RunItemFilter{State: state, Page: page})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(items, next))
}

type exclusionRequest struct {
	ItemIDs  []string       `json:"item_ids"`
	Reason   string         `json:"reason"`
	ReviewOn *casefile.Date `json:"review_on"`
}

// excludeFromRun takes records off a disposal list awaiting approval and
// into the review queue until review_on.
func (s *Server) excludeFromRun(c *gin.Context) {
	id, err := pathID(c, "id", "Retention run")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req exclusionRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if len(req.ItemIDs) == 0 || len(req.ItemIDs) > 10000 {
		s.respondError(c, unprocessable("missing_item_ids", "Name 1 to 10,000 items to exclude (item_ids, from GET /v1/retention/runs/{id}/items)."))
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	if req.ReviewOn == nil {
		s.respondError(c, unprocessable("missing_review_on", "Say when the excluded records come back for review (review_on, a date after today)."))
		return
	}
	r, err := s.cfg.Retention.ExcludeFromRun(c.Request.Context(), id, casefile.Exclusion{ItemIDs: req.ItemIDs,
		Reason: strings.TrimSpace(req.Reason), ReviewOn: *req.ReviewOn})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// approveRun records the caller's approval of a disposal list.
func (s *Server) approveRun(c *gin.Context) {
	id, err := pathID(c, "id", "Retention run")
	if err != nil {
		s.respondError(c, err)
		return
	}
	r, err := s.cfg.Retention.ApproveRun(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	status := http.StatusOK
	if r.State == casefile.RunApproved {
		status = http.StatusAccepted // queued to destroy
	}
	c.JSON(status, r)
}

type rejectRunRequest struct {
	Reason string `json:"reason"`
}

// rejectRun closes a disposal list without destroying anything.
func (s *Server) rejectRun(c *gin.Context) {
	id, err := pathID(c, "id", "Retention run")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req rejectRunRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	r, err := s.cfg.Retention.RejectRun(c.Request.Context(), id, strings.TrimSpace(req.Reason))
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// reviewQueue lists records past their date that are kept, with why.
func (s *Server) reviewQueue(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	es, next, err := s.cfg.Retention.ReviewQueue(c.Request.Context(), page)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(es, next))
}

type keepRequest struct {
	Until  *casefile.Date `json:"until"`
	Reason string         `json:"reason"`
}

// keepRecord keeps a record past its date off disposal lists until a date.
func (s *Server) keepRecord(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req keepRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Until == nil {
		s.respondError(c, unprocessable("missing_until", "Say until when the record is kept (until, a date after today)."))
		return
	}
	if err := requireText("reason", req.Reason, 2000); err != nil {
		s.respondError(c, err)
		return
	}
	s.decideReview(c, &casefile.ReviewDecision{PersonID: id, Decision: casefile.DecisionKeep, Until: req.Until, Reason: req.Reason})
}

// returnRecord sends a record past its date to the next disposal list.
func (s *Server) returnRecord(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req releaseRequest // {reason?}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			s.respondError(c, err)
			return
		}
	}
	if len(req.Reason) > 2000 {
		s.respondError(c, unprocessable("reason_too_long", "reason is at most 2,000 characters."))
		return
	}
	s.decideReview(c, &casefile.ReviewDecision{PersonID: id, Decision: casefile.DecisionReturn, Reason: req.Reason})
}

func (s *Server) decideReview(c *gin.Context, d *casefile.ReviewDecision) {
	if err := s.cfg.Retention.DecideReview(c.Request.Context(), d); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// listRuns lists retention runs, newest first (counts and approvals; each
// run's certificate is read on its own).
func (s *Server) listRuns(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	state := c.Query("state")
	switch state {
	case "", casefile.RunQueued, casefile.RunRunning, casefile.RunAwaitingApproval, casefile.RunApproved, casefile.RunRejected,
		casefile.RunExpired, casefile.RunDone, casefile.RunFailed:
	default:
		s.respondError(c, invalid("invalid_state", "state is one of queued, running, awaiting_approval, approved, rejected, expired, done, failed."))
		return
	}
	rs, next, err := s.cfg.Retention.Runs(c.Request.Context(), casefile.RunFilter{State: state, Page: page})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(rs, next))
}
