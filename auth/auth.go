// Package auth says who is calling: an API token (Authorization: Bearer) or
// a browser session (the casefile_session cookie) made by signing in through
// the council's OpenID Connect provider, or, with no provider configured, by
// entering an API token on the sign-in form. It keeps sessions server-side,
// ends them on idle, on their absolute lifetime, on sign-out and when their
// user is disabled or their token revoked, and guards state-changing
// requests made with the cookie by a per-session CSRF token.
//
// It is plain net/http: the API (gin) and the web pages both call
// Authenticator.Authenticate and CheckCSRF, and mount Handler for /auth/*.
package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/council/casefile"
)

// CookieName is the session cookie.
const CookieName = "casefile_session"

// CSRFHeader and CSRFField carry a session's CSRF token on a state-changing
// request: the header for scripts, the field for HTML forms.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// Defaults of the session timeouts.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxLifetime = 10 * time.Hour
)

// touchEvery is how stale a session's last-seen time may get before a request
// writes it again (one row write a minute per active session, not one per
// request). The idle timeout may so end a session up to this much early.
const touchEvery = time.Minute

// Caller is who is making a request. Session is nil for a bearer token.
type Caller struct {
	Actor   casefile.Actor
	Session *casefile.Session
}

// Authenticator checks the credentials of a request.
type Authenticator struct {
	Tokens casefile.TokenService
	// Sessions and Users: nil leaves only bearer tokens.
	Sessions casefile.SessionService
	Users    casefile.UserService
	// Teams, when set, gives the ids of a user's teams, filled into
	// Actor.Teams on every request (the access layer provides it).
	Teams func(ctx context.Context, userID string) ([]string, error)
	// IdleTimeout ends a session unused this long (default 30 minutes);
	// MaxLifetime ends it this long after sign-in however busy (default 10 hours).
	IdleTimeout time.Duration
	MaxLifetime time.Duration
	// SecureCookie marks cookies Secure (the public URL is https).
	SecureCookie bool
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) idle() time.Duration {
	if a.IdleTimeout > 0 {
		return a.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (a *Authenticator) maxLifetime() time.Duration {
	if a.MaxLifetime > 0 {
		return a.MaxLifetime
	}
	return DefaultMaxLifetime
}

func unauthorized(msg string) error {
	return casefile.Errorf(casefile.EUnauthorized, "unauthorized", "%s", msg)
}

// ErrNoRole is the refusal of a signed-in user whom nobody has given a role.
func ErrNoRole() error {
	return casefile.Errorf(casefile.EForbidden, "no_role",
		"You are signed in, but you have no role in casefile yet: ask a casefile administrator to give you one.")
}

// Authenticate returns the caller of r: the bearer token when the request
// has an Authorization header, else the session cookie. Errors are casefile
// errors: unauthorized (401), no_role (403), or unavailable (503) when the
// database cannot be reached.
func (a *Authenticator) Authenticate(r *http.Request) (*Caller, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		secret = strings.TrimSpace(secret)
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return nil, unauthorized("Send an API token as Authorization: Bearer <token>; `casefile token create` makes one.")
		}
		actor, err := a.Tokens.Authenticate(ctx, secret)
		if err != nil {
			return nil, err
		}
		return &Caller{Actor: actor}, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || a.Sessions == nil {
		return nil, unauthorized("Sign in at /auth/login, or send an API token as Authorization: Bearer <token>; `casefile token create` makes one.")
	}
	return a.session(ctx, c.Value)
}

// sessionEnded is the refusal of a cookie whose session is gone or over.
func sessionEnded() error {
	return unauthorized("Your session has ended; sign in again at /auth/login.")
}

func (a *Authenticator) session(ctx context.Context, secret string) (*Caller, error) {
	s, err := a.Sessions.SessionBySecret(ctx, secret)
	if err != nil {
		if k := casefile.ErrorKind(err); k == casefile.ENotFound || k == casefile.EUnauthorized {
			return nil, sessionEnded()
		}
		return nil, err
	}
	now := a.now()
	end := func(reason string) error {
		if err := a.Sessions.EndSession(casefile.WithActor(ctx, casefile.SystemActor("sessions")), s.ID, reason); err != nil {
			return err
		}
		return sessionEnded()
	}
	switch {
	case !now.Before(s.ExpiresAt):
		return nil, end("expired")
	case now.Sub(s.LastSeenAt) >= a.idle():
		return nil, end("idle")
	}
	var actor casefile.Actor
	if s.UserID != "" {
		if a.Users == nil {
			return nil, sessionEnded()
		}
		u, err := a.Users.User(ctx, s.UserID)
		if casefile.ErrorKind(err) == casefile.ENotFound {
			return nil, end("user gone")
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, end("user disabled")
		}
		if actor, err = a.UserActor(ctx, u); err != nil {
			return nil, err
		}
	} else {
		actor, err = a.Tokens.TokenActor(ctx, s.TokenID)
		if casefile.ErrorKind(err) == casefile.EUnauthorized {
			return nil, end("token revoked or expired")
		}
		if err != nil {
			return nil, err
		}
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		if err := a.Sessions.TouchSession(ctx, s.ID, now); err != nil {
			return nil, err
		}
		s.LastSeenAt = now
	}
	return &Caller{Actor: actor, Session: s}, nil
}

// UserActor is the actor of a signed-in user: no_role when the user has
// none, and the user's teams when Teams is set.
func (a *Authenticator) UserActor(ctx context.Context, u *casefile.User) (casefile.Actor, error) {
	if u.Role == "" || !casefile.ValidRole(u.Role) {
		return casefile.Actor{}, ErrNoRole()
	}
	actor := casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: UserName(u), Role: u.Role}
	if a.Teams != nil {
		teams, err := a.Teams(ctx, u.ID)
		if err != nil {
			return casefile.Actor{}, err
		}
		actor.Teams = teams
	}
	return actor, nil
}

// UserName is how a user is named to others: their name, else email, else
// the provider's subject.
func UserName(u *casefile.User) string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.Subject
}

// StartSession makes a session for a user (userID) or a token (tokenID) and
// sets its cookie on w. Any session the browser had is ended first (no
// session fixation).
func (a *Authenticator) StartSession(w http.ResponseWriter, r *http.Request, actor casefile.Actor, userID, tokenID string) (*casefile.Session, error) {
	ctx := casefile.WithActor(r.Context(), actor)
	if old, err := r.Cookie(CookieName); err == nil && old.Value != "" {
		if s, err := a.Sessions.SessionBySecret(ctx, old.Value); err == nil {
			if err := a.Sessions.EndSession(ctx, s.ID, "signed in again"); err != nil {
				return nil, err
			}
		}
	}
	now := a.now()
	s := &casefile.Session{UserID: userID, TokenID: tokenID, CreatedAt: now, ExpiresAt: now.Add(a.maxLifetime())}
	secret, err := a.Sessions.CreateSession(ctx, s)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, Secure: a.SecureCookie, SameSite: http.SameSiteLaxMode})
	return s, nil
}

// clearCookie tells the browser to forget the session cookie.
func (a *Authenticator) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.SecureCookie, SameSite: http.SameSiteLaxMode})
}

// safeMethod reports whether m changes nothing (and so needs no CSRF token).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// ErrCSRF is the refusal of a state-changing request made with the session
// cookie but without the session's CSRF token.
func ErrCSRF() error {
	return casefile.Errorf(casefile.EForbidden, "csrf_failed",
		"This request was made with your session cookie but without its CSRF token: reload the page and try again (scripts send it as X-CSRF-Token).")
}

// CheckCSRF requires, of a session caller making a state-changing request,
// the session's CSRF token in the X-CSRF-Token header or the csrf_token form
// field (URL-encoded, or the first field of a multipart form). Bearer
// callers and safe methods pass.
func CheckCSRF(r *http.Request, c *Caller) error {
	if c == nil || c.Session == nil || safeMethod(r.Method) {
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = formCSRF(r)
	}
	want := c.Session.CSRFToken
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrCSRF()
	}
	return nil
}

// multipartPeek is how much of a multipart body CheckCSRF looks at for the
// csrf_token field; the body is put back whole for the handler.
const multipartPeek = 16 << 10

// formCSRF reads the csrf_token form field without consuming what the
// handler needs: a URL-encoded form is parsed (as handlers of forms do), and
// of a multipart body only the first part is looked at, from a bounded peek,
// so that an upload still streams.
func formCSRF(r *http.Request) string {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || r.Body == nil {
		return ""
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		return r.PostFormValue(CSRFField)
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return ""
		}
		br := bufio.NewReaderSize(r.Body, multipartPeek)
		r.Body = struct {
			io.Reader
			io.Closer
		}{br, r.Body}
		head, _ := br.Peek(multipartPeek)
		p, err := multipart.NewReader(bytes.NewReader(head), boundary).NextPart()
		if err != nil || p.FormName() != CSRFField {
			return ""
		}
		v, err := io.ReadAll(io.LimitReader(p, 256))
		if err != nil && !errors.Is(err, io.EOF) {
			return ""
		}
		return string(v)
	}
	return ""
}
