package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
)

func (s *Server) registerIdentity(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/me", permAuthenticated, s.me)
	s.handle(g, http.MethodGet, "/users", permUsersManage, s.listUsers)
	s.handle(g, http.MethodPatch, "/users/:id", permUsersManage, s.updateUser)
	s.handle(g, http.MethodGet, "/tokens", permTokensManage, s.listTokens)
	s.handle(g, http.MethodDelete, "/tokens/:id", permTokensManage, s.revokeToken)
}

// callerOf is the caller authorize found.
func callerOf(c *gin.Context) *auth.Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(*auth.Caller)
	return caller
}

type meResponse struct {
	ID    string        `json:"id"`
	Name  string        `json:"name"`
	Email string        `json:"email"`
	Role  casefile.Role `json:"role"`
	Teams []string      `json:"teams"`
	Kind  string        `json:"kind"`
	// CSRFToken is the session's CSRF token, for scripts running in a
	// signed-in browser (absent for bearer tokens, which need none).
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) me(c *gin.Context) {
	caller := callerOf(c)
	a := caller.Actor
	kind := casefile.ActorToken
	if a.Kind == casefile.ActorUser {
		kind = casefile.ActorUser
	}
	out := meResponse{ID: a.ID, Name: a.Name, Role: a.Role, Teams: a.Teams, Kind: kind}
	if out.Teams == nil {
		out.Teams = []string{}
	}
	if caller.Session != nil {
		out.CSRFToken = caller.Session.CSRFToken
	}
	if kind == casefile.ActorUser && s.cfg.Users != nil {
		u, err := s.cfg.Users.User(c.Request.Context(), a.ID)
		if err != nil {
			s.respondError(c, err)
			return
		}
		out.Email = u.Email
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) users() (casefile.UserService, error) {
	if s.cfg.Users == nil {
		return nil, casefile.Errorf(casefile.EUnavailable, "service_unavailable", "Users are not configured in this process.")
	}
	return s.cfg.Users, nil
}

func (s *Server) listUsers(c *gin.Context) {
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	us, err := s.users()
	if err != nil {
		s.respondError(c, err)
		return
	}
	users, next, err := us.Users(c.Request.Context(), page)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(users, next))
}

type userPatch struct {
	Role     *casefile.Role `json:"role"`
	Disabled *bool          `json:"disabled"`
	// TeamIDs replaces the user's teams (the access layer's TeamService).
	TeamIDs *[]string `json:"team_ids"`
}

// userResponse is a user with the ids of their teams.
type userResponse struct {
	*casefile.User
	TeamIDs []string `json:"team_ids"`
}

func (s *Server) updateUser(c *gin.Context) {
	id, err := pathID(c, "id", "User")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req userPatch
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Role == nil && req.Disabled == nil && req.TeamIDs == nil {
		s.respondError(c, unprocessable("nothing_to_change", "Send role, disabled, team_ids, or any of them."))
		return
	}
	if req.Role != nil && *req.Role != "" && !casefile.ValidRole(*req.Role) {
		s.respondError(c, unprocessable("invalid_role",
			"Unknown role %q; use one of practitioner, manager, ict, records_officer, auditor, admin (or \"\" for none).", *req.Role))
		return
	}
	if req.TeamIDs != nil && s.cfg.Teams == nil {
		s.unwired(c, "teams")
		return
	}
	if req.Disabled != nil && *req.Disabled && casefile.ActorFrom(c.Request.Context()).ID == id {
		s.respondError(c, unprocessable("cannot_disable_self", "You cannot disable your own account; ask another admin."))
		return
	}
	us, err := s.users()
	if err != nil {
		s.respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := us.User(ctx, id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if req.TeamIDs != nil {
		if err := s.cfg.Teams.SetUserTeams(ctx, id, *req.TeamIDs); err != nil {
			s.respondError(c, err)
			return
		}
	}
	if req.Role != nil || req.Disabled != nil {
		if u, err = us.UpdateUser(ctx, id, casefile.UserUpdate{Role: req.Role, Disabled: req.Disabled}); err != nil {
			s.respondError(c, err)
			return
		}
	}
	out := userResponse{User: u, TeamIDs: []string{}}
	if s.cfg.Teams != nil {
		if out.TeamIDs, err = s.cfg.Teams.UserTeams(ctx, id); err != nil {
			s.respondError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) listTokens(c *gin.Context) {
	ts, err := s.cfg.Tokens.Tokens(c.Request.Context())
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ts, ""))
}

func (s *Server) revokeToken(c *gin.Context) {
	id, err := pathID(c, "id", "Token")
	if err != nil {
		s.respondError(c, err)
		return
	}
	t, err := s.cfg.Tokens.RevokeToken(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}
