package main

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/council/casefile/auth"
	"github.com/council/casefile/web"
)

// handler is everything the service answers over HTTP: the API under /v1,
// the probes and metrics, sign-in under /auth (served by the API's engine),
// and the pages at /.
func (a *app) handler() (http.Handler, error) {
	authn := a.authenticator()
	pages, err := web.New(web.Config{
		Log:            a.log,
		Auth:           pageAuth{authn},
		Persons:        a.db,
		Notes:          a.notesService(),
		Ingest:         a.ingestService(),
		Tickets:        a.db,
		Access:         a.db,
		DocumentText:   a.db.DocumentText,
		OpenObject:     a.openObject,
		MaxUploadBytes: a.cfg.MaxUploadBytes,
		CouncilName:    a.cfg.CouncilName,
		CouncilColour:  a.cfg.CouncilColour,
		Location:       a.cfg.Timezone,
		Phase:          a.cfg.Phase,
	})
	if err != nil {
		return nil, err
	}
	a.signInPages = signInRenderer(pages)
	api := a.api()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v1" || strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/auth/") ||
			p == "/healthz" || p == "/readyz" || p == "/metrics":
			api.ServeHTTP(w, r)
		default:
			pages.ServeHTTP(w, r)
		}
	}), nil
}

// pageAuth is package auth as the pages use it: the same sessions, cookie
// and CSRF check as the API.
type pageAuth struct{ a *auth.Authenticator }

func (p pageAuth) Authenticate(r *http.Request) (*web.Caller, error) {
	c, err := p.a.Authenticate(r)
	if err != nil {
		return nil, err
	}
	wc := &web.Caller{Actor: c.Actor, Request: c}
	if c.Session != nil {
		wc.CSRFToken = c.Session.CSRFToken
	}
	return wc, nil
}

func (pageAuth) CheckCSRF(r *http.Request, c *web.Caller) error {
	ac, _ := c.Request.(*auth.Caller)
	if ac == nil {
		return auth.ErrCSRF()
	}
	return auth.CheckCSRF(r, ac)
}

func (pageAuth) LoginURL(next string) string {
	return "/auth/login?next=" + url.QueryEscape(auth.LocalPath(next))
}

func (pageAuth) LogoutURL() string { return "/auth/logout" }

// signInRenderer shows the sign-in handler's pages in the pages' layout.
func signInRenderer(pages *web.Server) func(w http.ResponseWriter, r *http.Request, name string, p *auth.Page) {
	return func(w http.ResponseWriter, r *http.Request, name string, p *auth.Page) {
		switch name {
		case auth.PageLogin:
			pages.SignInPage(w, r, p.Status, web.SignInForm{Action: "/auth/login", Next: p.Next, Error: p.Error, FormToken: p.FormToken})
		case auth.PageNoRole:
			pages.NoRolePage(w, r, p.Name, p.Contact)
		default:
			pages.MessagePage(w, r, p.Status, p.Title, p.Message)
		}
	}
}
