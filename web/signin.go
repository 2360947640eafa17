package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// SignInForm is what the token sign-in form shows (used when no identity
// provider is configured).
type SignInForm struct {
	Next  string
	Error string
	// Action is where the form posts; CSRF a token for it, if any.
	Action string
	CSRF   string
}

// SignInPage renders the sign-in form in the pages' layout; the sign-in
// handler (package auth) calls it, so that signing in looks like the rest.
func (s *Server) SignInPage(w http.ResponseWriter, r *http.Request, status int, f SignInForm) {
	p := &page{Title: "Sign in", Data: f}
	if f.Error != "" {
		p.Errors = []fieldError{{"token", f.Error}}
	}
	s.render(w, r, nil, status, "signin", p)
}

type noRoleData struct {
	Name    string // who signed in, when known
	Contact string // whom to ask; empty: the service desk, through their manager
}

// NoRolePage tells a signed-in person without a role what to do: whom to
// ask (Config.AccessContact), in the pages' layout.
func (s *Server) NoRolePage(w http.ResponseWriter, r *http.Request, name string) {
	s.render(w, r, nil, http.StatusForbidden, "norole", &page{Title: "You do not have access yet",
		Data: noRoleData{Name: name, Contact: s.cfg.AccessContact}})
}

func itoa(n int) string { return strconv.Itoa(n) }

// encodeQuery writes a query string, leaving out empty values.
func encodeQuery(v map[string][]string) string {
	q := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			if x != "" {
				q.Add(k, x)
			}
		}
	}
	return q.Encode()
}
