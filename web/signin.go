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
	// Action is where the form posts; FormToken the sign-in's own
	// anti-forgery value, sent back as form_token.
	Action    string
	FormToken string
}

// The sign-in handler (package auth) renders its pages through these, so
// that signing in looks like the rest; it sets its own security headers.

// SignInPage renders the token sign-in form in the pages' layout.
func (s *Server) SignInPage(w http.ResponseWriter, r *http.Request, status int, f SignInForm) {
	p := &page{Title: "Sign in", Data: f}
	if f.Error != "" {
		p.Errors = []fieldError{{"token", f.Error}}
	}
	s.render(w, r, nil, status, "signin", p)
}

// NoRolePage tells a signed-in person without a role whom to ask.
func (s *Server) NoRolePage(w http.ResponseWriter, r *http.Request, name, contact string) {
	s.render(w, r, nil, http.StatusForbidden, "norole", &page{Title: "You do not have access yet",
		Data: noRoleData{Name: name, Contact: contact}})
}

type noRoleData struct{ Name, Contact string }

// MessagePage shows a sign-in outcome (signed out, a sign-in that failed)
// with a link to sign in again.
func (s *Server) MessagePage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, nil, status, "message", &page{Title: title, Data: message})
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
