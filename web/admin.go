package web

import (
	"net/http"
	"strings"

	"github.com/council/casefile"
)

// The admin's pages: users (role, teams, disable), teams (list, create)
// and API tokens (list, revoke after a confirmation).

var roles = []casefile.Role{casefile.RolePractitioner, casefile.RoleManager, casefile.RoleICT, casefile.RoleRecordsOfficer,
	casefile.RoleAuditor, casefile.RoleAdmin}

type adminUser struct {
	*casefile.User
	Teams []string // names
}

type usersData struct {
	Users []*adminUser
	Next  string
	Tab   string
}

func (s *Server) adminServices() error {
	if s.cfg.Users == nil || s.cfg.Teams == nil || s.cfg.Tokens == nil {
		return unwired("users and access")
	}
	return nil
}

// teamNames maps team ids to names.
func (s *Server) teamNames(r *http.Request) ([]*casefile.Team, map[string]string, error) {
	ts, err := s.cfg.Teams.Teams(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	return ts, names, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	us, next, err := s.cfg.Users.Users(r.Context(), casefile.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	_, names, err := s.teamNames(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := usersData{Tab: "users"}
	for _, u := range us {
		ids, err := s.cfg.Teams.UserTeams(r.Context(), u.ID)
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		au := &adminUser{User: u}
		for _, id := range ids {
			au.Teams = append(au.Teams, names[id])
		}
		d.Users = append(d.Users, au)
	}
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"cursor": {next}})
	}
	p := &page{Title: "Users", Nav: "admin", Data: d}
	if r.URL.Query().Get("done") == "saved" {
		p.Banner = &banner{Success: true, Heading: "User saved", Text: "The change applies from their next request."}
	}
	s.render(w, r, c, http.StatusOK, "users", p)
}

type userData struct {
	User     *casefile.User
	Roles    []casefile.Role
	Role     string
	Teams    []*casefile.Team
	InTeam   map[string]bool
	Disabled bool
	Self     bool
	Tab      string
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.userView(w, r, c, nil, nil, http.StatusOK)
}

// userView shows a user with the form to set their role, teams and
// whether they are disabled; form, when set, is what was typed.
func (s *Server) userView(w http.ResponseWriter, r *http.Request, c *Caller, form *userData, errs []fieldError, status int) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("user"))
		return
	}
	u, err := s.cfg.Users.User(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	teams, _, err := s.teamNames(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := &userData{User: u, Roles: roles, Role: string(u.Role), Teams: teams, InTeam: map[string]bool{}, Disabled: u.Disabled,
		Self: u.ID == c.Actor.ID, Tab: "users"}
	if form != nil {
		d.Role, d.InTeam, d.Disabled = form.Role, form.InTeam, form.Disabled
	} else {
		ids, err := s.cfg.Teams.UserTeams(r.Context(), id)
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		for _, t := range ids {
			d.InTeam[t] = true
		}
	}
	s.render(w, r, c, status, "user", &page{Title: "User: " + u.Name, Nav: "admin", Errors: errs, Data: d})
}

// updateUser sets a user's role, teams and whether they are disabled.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, c, casefile.Errorf(casefile.EInvalid, "bad_form", "The form could not be read; try again."))
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("user"))
		return
	}
	f := &userData{Role: r.PostFormValue("role"), InTeam: map[string]bool{}, Disabled: r.PostFormValue("disabled") == "true"}
	var teamIDs []string
	for _, t := range r.PostForm["team_id"] {
		if tid, ok := uuidOf(t); ok && !f.InTeam[tid] {
			f.InTeam[tid] = true
			teamIDs = append(teamIDs, tid)
		}
	}
	role := casefile.Role(f.Role)
	var errs []fieldError
	if role != "" && !casefile.ValidRole(role) {
		errs = append(errs, fieldError{"role", "Select a role"})
	}
	if f.Disabled && id == c.Actor.ID {
		errs = append(errs, fieldError{"disabled", "You cannot disable your own account; ask another admin"})
	}
	if len(errs) > 0 {
		s.userView(w, r, c, f, errs, http.StatusUnprocessableEntity)
		return
	}
	ctx := r.Context()
	if teamIDs == nil {
		teamIDs = []string{}
	}
	err := s.cfg.Teams.SetUserTeams(ctx, id, teamIDs)
	if err == nil {
		_, err = s.cfg.Users.UpdateUser(ctx, id, casefile.UserUpdate{Role: &role, Disabled: &f.Disabled})
	}
	if err != nil {
		if !refusal(err) && casefile.ErrorKind(err) != casefile.ENotFound {
			s.errorPage(w, r, c, err)
			return
		}
		s.userView(w, r, c, f, []fieldError{{"", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/admin/users?done=saved", http.StatusSeeOther)
}

type teamsData struct {
	Teams []*casefile.Team
	Name  string
	Tab   string
}

func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	s.teamsView(w, r, c, "", nil, http.StatusOK)
}

func (s *Server) teamsView(w http.ResponseWriter, r *http.Request, c *Caller, name string, errs []fieldError, status int) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ts, _, err := s.teamNames(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	p := &page{Title: "Teams", Nav: "admin", Errors: errs, Data: teamsData{Teams: ts, Name: name, Tab: "teams"}}
	if r.URL.Query().Get("done") == "created" {
		p.Banner = &banner{Success: true, Heading: "Team created", Text: "Add people to it from their page under Users."}
	}
	s.render(w, r, c, status, "teams", p)
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	switch {
	case name == "":
		s.teamsView(w, r, c, name, []fieldError{{"name", "Enter the team's name"}}, http.StatusUnprocessableEntity)
		return
	case len([]rune(name)) > 200:
		s.teamsView(w, r, c, name, []fieldError{{"name", "Enter a name of at most 200 characters"}}, http.StatusUnprocessableEntity)
		return
	}
	if _, err := s.cfg.Teams.CreateTeam(r.Context(), name); err != nil {
		if !refusal(err) {
			s.errorPage(w, r, c, err)
			return
		}
		s.teamsView(w, r, c, name, []fieldError{{"name", pageMessage(err)}}, httpStatus(err))
		return
	}
	http.Redirect(w, r, "/admin/teams?done=created", http.StatusSeeOther)
}

type tokensData struct {
	Tokens []*casefile.Token
	Token  *casefile.Token
	Tab    string
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ts, err := s.cfg.Tokens.Tokens(r.Context())
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	p := &page{Title: "API tokens", Nav: "admin", Data: tokensData{Tokens: ts, Tab: "tokens"}}
	if r.URL.Query().Get("done") == "revoked" {
		p.Banner = &banner{Success: true, Heading: "Token revoked", Text: "It no longer works, and sessions signed in with it have ended."}
	}
	s.render(w, r, c, http.StatusOK, "tokens", p)
}

func (s *Server) findToken(r *http.Request) (*casefile.Token, error) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		return nil, notFound("token")
	}
	ts, err := s.cfg.Tokens.Tokens(r.Context())
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, notFound("token")
}

// revokeConfirm asks whether the admin is sure before a token is revoked.
func (s *Server) revokeConfirm(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	t, err := s.findToken(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "token-revoke", &page{Title: "Revoke the token " + t.Name, Nav: "admin", Data: tokensData{Token: t, Tab: "tokens"}})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *Caller) {
	if err := s.adminServices(); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	t, err := s.findToken(r)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	if _, err := s.cfg.Tokens.RevokeToken(r.Context(), t.ID); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/admin/tokens?done=revoked", http.StatusSeeOther)
}
