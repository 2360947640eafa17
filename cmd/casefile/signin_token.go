package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/web"
)

// tokenSignIn lets a person sign in to the pages with an API token: the
// contract's sign-in when no identity provider is configured. It stands in
// until package auth (sessions, the OpenID provider) is wired here: the token
// is kept in an HttpOnly, SameSite=Strict cookie and checked against the
// token store on every request (so a revoked token signs the person out), and
// the CSRF token of its forms is an HMAC of it under a key of this process.
type tokenSignIn struct {
	tokens casefile.TokenService
	key    []byte
	pages  *web.Server
}

const signInCookie = "casefile_session"

func newTokenSignIn(tokens casefile.TokenService) *tokenSignIn {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return &tokenSignIn{tokens: tokens, key: key}
}

var _ web.Auth = (*tokenSignIn)(nil)

func (t *tokenSignIn) csrf(secret string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// Authenticate reads the cookie and checks its token.
func (t *tokenSignIn) Authenticate(r *http.Request) (*web.Caller, error) {
	ck, err := r.Cookie(signInCookie)
	if err != nil || ck.Value == "" {
		return nil, casefile.Errorf(casefile.EUnauthorized, "unauthorized", "Sign in to continue.")
	}
	actor, err := t.tokens.Authenticate(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &web.Caller{Actor: actor, CSRFToken: t.csrf(ck.Value)}, nil
}

// CheckCSRF requires the caller's token in the X-CSRF-Token header or the
// csrf_token form field.
func (t *tokenSignIn) CheckCSRF(r *http.Request, c *web.Caller) error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	if c == nil || c.CSRFToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.CSRFToken)) != 1 {
		return casefile.Errorf(casefile.EForbidden, "csrf_failed", "The form had expired or did not come from this service. Go back, reload the page and try again.")
	}
	return nil
}

func (t *tokenSignIn) LoginURL(next string) string {
	return "/auth/login?next=" + strings.ReplaceAll(localPath(next), "&", "%26")
}

func (t *tokenSignIn) LogoutURL() string { return "/auth/logout" }

// localPath keeps next to a path on this service (no open redirect).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

func (t *tokenSignIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/auth/login" && r.Method == http.MethodGet:
		t.pages.SignInPage(w, r, http.StatusOK, web.SignInForm{Action: "/auth/login", Next: localPath(r.URL.Query().Get("next"))})
	case r.URL.Path == "/auth/login" && r.Method == http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		secret := strings.TrimSpace(r.PostFormValue("token"))
		next := localPath(r.PostFormValue("next"))
		if secret == "" {
			t.pages.SignInPage(w, r, http.StatusUnprocessableEntity, web.SignInForm{Action: "/auth/login", Next: next, Error: "Enter your API token"})
			return
		}
		if _, err := t.tokens.Authenticate(r.Context(), secret); err != nil {
			msg := "That token is not known or has been withdrawn. Check it, or ask the ICT service desk for a new one."
			status := http.StatusUnauthorized
			if casefile.ErrorKind(err) == casefile.EUnavailable {
				msg, status = "Sign-in is unavailable at the moment; try again in a few minutes.", http.StatusServiceUnavailable
			}
			t.pages.SignInPage(w, r, status, web.SignInForm{Action: "/auth/login", Next: next, Error: msg})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: secret, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
			SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, next, http.StatusSeeOther)
	case r.URL.Path == "/auth/logout" && r.Method == http.MethodPost:
		if c, err := t.Authenticate(r); err == nil {
			if err := t.CheckCSRF(r, c); err != nil {
				http.Error(w, casefile.ErrorMessage(err), http.StatusForbidden)
				return
			}
		}
		http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
	default:
		http.NotFound(w, r)
	}
}
