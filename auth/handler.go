package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/council/casefile"
)

var errorCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

// loginCookie binds a sign-in under way (or the token form) to the browser
// that started it, for as long as loginLifetime.
const (
	loginCookie   = "casefile_login"
	loginLifetime = 10 * time.Minute
)

// DefaultContact is whom a user without a role is told to ask.
const DefaultContact = "your manager, who can ask the casefile administrator (ICT service desk) to give you a role"

// Page is what the sign-in pages show. The web pages restyle them through
// Handler.Render; the default renderer uses the minimal templates here.
type Page struct {
	Status  int    // the HTTP status to answer with
	Title   string // the page's heading
	Message string // a sentence or two
	// The token form (no provider configured).
	Next      string // where to go after signing in
	Error     string // why the last attempt failed
	FormToken string // the form's own anti-forgery value (hidden field "form_token")
	// The no-role page.
	Name    string
	Contact string
}

// Page names given to Render.
const (
	PageLogin     = "login"      // the token form
	PageNoRole    = "no_role"    // signed in, but no role
	PageSignedOut = "signed_out" // after sign-out
	PageError     = "error"      // a sign-in that failed, with why
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Handler serves the sign-in routes: GET /auth/login (?next= a local path),
// POST /auth/login (the token form, only without a provider), GET
// /auth/callback and POST /auth/logout.
type Handler struct {
	Auth *Authenticator
	// Provider is the OpenID Connect provider; nil offers the token form.
	Provider *Provider
	// Contact is whom a user without a role should ask (DefaultContact).
	Contact string
	// Render, when set, may write a page (status included) instead of the
	// built-in templates, and says whether it did: the web pages use it to
	// restyle sign-in (the pages they have no design for fall back).
	Render func(w http.ResponseWriter, r *http.Request, name string, p *Page) bool
	Log    *slog.Logger
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// ServeHTTP routes /auth/*.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' "+h.formActions())
	switch {
	case r.URL.Path == "/auth/login" && r.Method == http.MethodGet:
		h.login(w, r)
	case r.URL.Path == "/auth/login" && r.Method == http.MethodPost && h.Provider == nil:
		h.tokenSignIn(w, r)
	case r.URL.Path == "/auth/callback" && r.Method == http.MethodGet:
		h.callback(w, r)
	case r.URL.Path == "/auth/logout" && r.Method == http.MethodPost:
		h.logout(w, r)
	default:
		h.page(w, r, PageError, &Page{Status: http.StatusNotFound, Title: "Page not found",
			Message: "There is no such sign-in page.", Next: "/"})
	}
}

// formActions lets the no-role page's sign-out form and the provider's own
// redirects through the content security policy.
func (h *Handler) formActions() string {
	if h.Provider == nil {
		return ""
	}
	if u, err := url.Parse(h.Provider.cfg.Issuer); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return ""
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request, name string, p *Page) {
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	if h.Render != nil && h.Render(w, r, name, p) {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(p.Status)
	if err := templates.ExecuteTemplate(w, name+".html", p); err != nil {
		h.log().Error("sign-in page", "page", name, "err", err)
	}
}

// fail shows why a sign-in did not work; internal causes are logged only.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string, cause error) {
	if cause != nil {
		h.log().Warn("sign-in refused", "path", r.URL.Path, "err", cause)
	}
	h.page(w, r, PageError, &Page{Status: status, Title: "You are not signed in", Message: msg})
}

func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	switch casefile.ErrorKind(err) {
	case casefile.EUnauthorized:
		status = http.StatusUnauthorized
	case casefile.EForbidden:
		status = http.StatusForbidden
	case casefile.EUnavailable:
		status = http.StatusServiceUnavailable
	case casefile.EInternal:
		status = http.StatusInternalServerError
	}
	h.fail(w, r, status, casefile.ErrorMessage(err), err)
}

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func (h *Handler) setLoginCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/auth/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.Auth.SecureCookie, SameSite: http.SameSiteLaxMode})
}

// login starts a sign-in: to the provider, or the token form.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	next := LocalPath(r.URL.Query().Get("next"))
	if h.Provider == nil {
		h.tokenForm(w, r, next, "", http.StatusOK)
		return
	}
	state, nonce, browser, verifier := random(), random(), random(), oauth2.GenerateVerifier()
	target, err := h.Provider.AuthCodeURL(r.Context(), state, nonce, verifier)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	lr := &casefile.LoginRequest{StateHash: hash(state), BrowserHash: hash(browser), Nonce: nonce,
		CodeVerifier: verifier, Next: next, ExpiresAt: h.Auth.now().Add(loginLifetime)}
	if err := h.Auth.Sessions.SaveLoginRequest(r.Context(), lr); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.setLoginCookie(w, browser, int(loginLifetime/time.Second))
	http.Redirect(w, r, target, http.StatusFound)
}

// callback finishes a sign-in at the provider: the state must be one this
// browser started and not used before; the code is exchanged with the PKCE
// verifier and the ID token verified (signature, issuer, audience, expiry,
// nonce).
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	if h.Provider == nil {
		h.fail(w, r, http.StatusNotFound, "Single sign-on is not configured here.", nil)
		return
	}
	q := r.URL.Query()
	again := "Start again from the sign-in page."
	state := q.Get("state")
	if state == "" {
		h.fail(w, r, http.StatusBadRequest, "The answer from the identity provider had no state. "+again, nil)
		return
	}
	lr, err := h.Auth.Sessions.TakeLoginRequest(r.Context(), hash(state))
	if casefile.ErrorKind(err) == casefile.ENotFound {
		h.fail(w, r, http.StatusBadRequest, "This sign-in has been used already or has expired. "+again, nil)
		return
	}
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.setLoginCookie(w, "", -1)
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare(hash(c.Value), lr.BrowserHash) != 1 {
		h.fail(w, r, http.StatusBadRequest, "This sign-in was started in another browser. "+again, nil)
		return
	}
	if e := q.Get("error"); e != "" {
		// Only an OAuth error code is shown (access_denied, ...): the
		// parameter is anyone's to write, so no free text reaches the page.
		if !errorCode.MatchString(e) {
			e = "error"
		}
		h.fail(w, r, http.StatusUnauthorized, "The identity provider did not sign you in ("+e+"). "+again, nil)
		return
	}
	code := q.Get("code")
	if code == "" {
		h.fail(w, r, http.StatusBadRequest, "The answer from the identity provider had no code. "+again, nil)
		return
	}
	id, err := h.Provider.Exchange(r.Context(), code, lr.CodeVerifier, lr.Nonce)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	u, err := h.Auth.Users.SignInUser(r.Context(), casefile.SignIn{Issuer: id.Issuer, Subject: id.Subject,
		Name: id.Name, Email: id.Email, Role: h.Provider.MapRole(id.Roles)})
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if u.Disabled {
		h.fail(w, r, http.StatusForbidden, "Your casefile account is disabled. If you need access, ask "+h.contact()+".", nil)
		return
	}
	actor, err := h.Auth.UserActor(r.Context(), u)
	noRole := casefile.ErrorCode(err) == "no_role"
	if err != nil && !noRole {
		h.failErr(w, r, err)
		return
	}
	if noRole {
		// The session is made all the same: once someone gives the user a
		// role, the next request works without signing in again.
		actor = casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: UserName(u)}
	}
	if _, err := h.Auth.StartSession(w, r, actor, u.ID, ""); err != nil {
		h.failErr(w, r, err)
		return
	}
	if noRole {
		h.NoRole(w, r, UserName(u))
		return
	}
	http.Redirect(w, r, lr.Next, http.StatusSeeOther)
}

func (h *Handler) contact() string {
	if h.Contact != "" {
		return h.Contact
	}
	return DefaultContact
}

// NoRole shows a signed-in user without a role whom to ask (403). The web
// pages call it when Authenticate answers no_role.
func (h *Handler) NoRole(w http.ResponseWriter, r *http.Request, name string) {
	h.page(w, r, PageNoRole, &Page{Status: http.StatusForbidden, Title: "You do not have access to casefile yet",
		Message: "You are signed in, but nobody has given you a role in casefile, so you cannot see or change anything yet.",
		Name:    name, Contact: h.contact()})
}

// tokenForm shows the form that takes an API token (no provider configured).
func (h *Handler) tokenForm(w http.ResponseWriter, r *http.Request, next, msg string, status int) {
	ft := random()
	h.setLoginCookie(w, ft, int(loginLifetime/time.Second))
	h.page(w, r, PageLogin, &Page{Status: status, Title: "Sign in to casefile",
		Message: "Single sign-on is not configured here. Sign in with an API token (casefile token create makes one).",
		Next:    next, Error: msg, FormToken: ft})
}

// tokenSignIn makes a session for the API token entered on the form; the
// session's actor is the token's, and it ends when the token does.
func (h *Handler) tokenSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read; start again.", nil)
		return
	}
	next := LocalPath(r.PostFormValue("next"))
	c, err := r.Cookie(loginCookie)
	ft := r.PostFormValue("form_token")
	if ft == "" {
		ft = r.PostFormValue(CSRFField) // the web pages' forms name it so
	}
	if err != nil || ft == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(ft)) != 1 {
		h.tokenForm(w, r, next, "The form had expired or came from another page; enter the token again.", http.StatusForbidden)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		h.tokenForm(w, r, next, "Enter an API token.", http.StatusBadRequest)
		return
	}
	actor, err := h.Auth.Tokens.Authenticate(r.Context(), token)
	if casefile.ErrorKind(err) == casefile.EUnauthorized {
		h.tokenForm(w, r, next, "That token is not valid: it is unknown, revoked or expired.", http.StatusUnauthorized)
		return
	}
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if _, err := h.Auth.StartSession(w, r, actor, "", actor.TokenID); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.setLoginCookie(w, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session on the server (CSRF-checked) and clears the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	caller, err := h.Auth.Authenticate(r)
	if err != nil || caller.Session == nil {
		if casefile.ErrorKind(err) == casefile.EUnavailable {
			h.failErr(w, r, err)
			return
		}
		// Nothing to end (already over, or not a session): forget the cookie.
		h.Auth.clearCookie(w)
		h.page(w, r, PageSignedOut, &Page{Title: "You are signed out", Message: "You are not signed in to casefile."})
		return
	}
	if err := CheckCSRF(r, caller); err != nil {
		h.failErr(w, r, err)
		return
	}
	ctx := casefile.WithActor(r.Context(), caller.Actor)
	if err := h.Auth.Sessions.EndSession(ctx, caller.Session.ID, "signed out"); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.Auth.clearCookie(w)
	h.page(w, r, PageSignedOut, &Page{Title: "You are signed out", Message: "Your casefile session has ended."})
}
