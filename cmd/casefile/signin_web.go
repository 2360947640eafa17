package main

import (
	"net/http"
	"net/url"

	"github.com/council/casefile/auth"
	"github.com/council/casefile/web"
)

// webAuth is package auth as the pages see it: the same sessions, cookie and
// CSRF tokens as the API, and sign-in at /auth/login.
type webAuth struct{ a *auth.Authenticator }

var _ web.Auth = webAuth{}

func (w webAuth) Authenticate(r *http.Request) (*web.Caller, error) {
	c, err := w.a.Authenticate(r)
	if err != nil {
		return nil, err
	}
	wc := &web.Caller{Actor: c.Actor, Request: c}
	if c.Session != nil {
		wc.CSRFToken = c.Session.CSRFToken
	}
	return wc, nil
}

func (w webAuth) CheckCSRF(r *http.Request, c *web.Caller) error {
	var ac *auth.Caller
	if c != nil {
		ac, _ = c.Request.(*auth.Caller)
	}
	if ac == nil {
		return auth.ErrCSRF()
	}
	return auth.CheckCSRF(r, ac)
}

func (webAuth) LoginURL(next string) string {
	return "/auth/login?next=" + url.QueryEscape(auth.LocalPath(next))
}

func (webAuth) LogoutURL() string { return "/auth/logout" }

// pagesRender shows the sign-in form and the no-role page (naming
// CASEFILE_ACCESS_CONTACT when set) in the pages' layout; the other sign-in
// pages keep package auth's plain ones.
func pagesRender(pages *web.Server) func(w http.ResponseWriter, r *http.Request, name string, p *auth.Page) bool {
	return func(w http.ResponseWriter, r *http.Request, name string, p *auth.Page) bool {
		switch name {
		case auth.PageLogin:
			pages.SignInPage(w, r, p.Status, web.SignInForm{Action: "/auth/login", Next: p.Next, Error: p.Error, CSRF: p.FormToken})
			return true
		case auth.PageNoRole:
			pages.NoRolePage(w, r, p.Name)
			return true
		}
		return false
	}
}
