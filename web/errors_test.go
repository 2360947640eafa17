package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/council/casefile"
)

type noAuth struct{}

func (noAuth) Authenticate(*http.Request) (*Caller, error) { return nil, errors.New("unused") }
func (noAuth) CheckCSRF(*http.Request, *Caller) error      { return nil }
func (noAuth) LoginURL(string) string                      { return "/auth/login" }
func (noAuth) LogoutURL() string                           { return "/auth/logout" }

// Every kind of refusal is a page in the layout with the API's status and a
// sentence a person can act on; an internal error never shows its cause.
func TestErrorPages(t *testing.T) {
	s, err := New(Config{Auth: noAuth{}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err    error
		status int
		want   string
	}{
		{casefile.Errorf(casefile.ETooLarge, "too_large", "The upload is larger than the 10 bytes allowed; nothing was kept."), 413, "nothing was kept"},
		{casefile.Errorf(casefile.EUnsupported, "unsupported_media_type", "Choose the files with the form."), 415, "Choose the files"},
		{casefile.Errorf(casefile.EConflict, "ticket_exists", "A removal ticket is already open."), 409, "already open"},
		{casefile.Errorf(casefile.EGone, "removed", "This document's content was removed."), 410, "This content has gone"},
		{casefile.ErrRestricted(), 403, "ask its owner to add you, or open it for one hour from the record"},
		{casefile.Unavailable("PostgreSQL", errors.New("dial tcp: connection refused")), 503, "Try again in a few minutes"},
		{errors.New("pq: secret internal detail"), 500, "Try again later"},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		s.errorPage(w, httptest.NewRequest("GET", "/x", nil), nil, c.err)
		body := w.Body.String()
		if w.Code != c.status || !strings.Contains(body, c.want) || !strings.Contains(body, `class="govuk-footer"`) {
			t.Errorf("%v: %d, want %d with %q in the layout", c.err, w.Code, c.status, c.want)
		}
		if strings.Contains(body, "secret internal detail") || strings.Contains(body, "/v1/") || strings.Contains(body, "connection refused") {
			t.Errorf("%v: the page shows internals or API directions", c.err)
		}
	}
	if w := httptest.NewRecorder(); true {
		s.errorPage(w, httptest.NewRequest("GET", "/x", nil), nil, casefile.Unavailable("Redis", errors.New("down")))
		if w.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
}
