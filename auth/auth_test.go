package auth_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func adminCtx() context.Context {
	return casefile.WithActor(context.Background(), casefile.Actor{Kind: casefile.ActorCLI, Name: "cli:tester", Role: casefile.RoleAdmin})
}

// clock is a test's movable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	db    *postgres.DB
	clock *clock
	a     *auth.Authenticator
}

func newFixture(t *testing.T) *fixture {
	db := testenv.Postgres(t)
	c := &clock{t: time.Now()}
	return &fixture{db: db, clock: c, a: &auth.Authenticator{Tokens: db, Sessions: db, Users: db, Now: c.now,
		IdleTimeout: 30 * time.Minute, MaxLifetime: 10 * time.Hour}}
}

func bearer(secret string) *http.Request {
	r := httptest.NewRequest("GET", "/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	return r
}

// signIn makes a user (through the provider's path: SignInUser) and a
// session for them, returning the cookie's value.
func (f *fixture) signIn(t *testing.T, subject string, role casefile.Role) (*casefile.User, string) {
	t.Helper()
	var r *casefile.Role
	if role != "" {
		r = &role
	}
	u, err := f.db.SignInUser(context.Background(), casefile.SignIn{Issuer: "https://idp.test", Subject: subject,
		Name: "Jo Bloggs", Email: subject + "@council.test", Role: r})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/auth/callback", nil)
	if _, err := f.a.StartSession(rec, req, casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: u.Name}, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || c[0].Name != auth.CookieName || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || c[0].Path != "/" || c[0].Secure {
		t.Fatalf("session cookie = %+v", c)
	}
	return u, c[0].Value
}

func withCookie(method, path, value string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, path, body)
	r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: value})
	return r
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if casefile.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestBearerTokensExpireAndRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := adminCtx()
	tok, secret, err := f.db.CreateToken(ctx, "Jo Bloggs", casefile.RolePractitioner, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.a.Authenticate(bearer(secret))
	if err != nil || c.Actor.ID != tok.ID || c.Actor.Kind != casefile.ActorToken || c.Actor.Name != "Jo Bloggs" || c.Session != nil {
		t.Fatalf("caller = %+v, %v", c, err)
	}
	// last_used_at is written once, then not again within the minute.
	ts, _ := f.db.Tokens(ctx)
	first := ts[0].LastUsedAt
	if first == nil {
		t.Fatal("last_used_at not kept")
	}
	if _, err := f.a.Authenticate(bearer(secret)); err != nil {
		t.Fatal(err)
	}
	ts, _ = f.db.Tokens(ctx)
	if !ts[0].LastUsedAt.Equal(*first) {
		t.Fatalf("last_used_at rewritten within a minute: %v then %v", first, ts[0].LastUsedAt)
	}

	// An expired token: 401 at once.
	_, old, err := f.db.CreateToken(ctx, "short-lived", casefile.RoleAuditor, time.Now().Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Tamper(t, f.db, "UPDATE tokens SET expires_at = now() - interval '1 second' WHERE name = 'short-lived'")
	_, err = f.a.Authenticate(bearer(old))
	wantCode(t, err, "unauthorized")

	// Revoked: 401 at once, audited, and revoking again changes nothing.
	if _, err := f.db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.a.Authenticate(bearer(secret))
	wantCode(t, err, "unauthorized")
	again, err := f.db.RevokeToken(ctx, tok.ID)
	if err != nil || again.RevokedAt == nil {
		t.Fatalf("revoke again: %+v %v", again, err)
	}
	evs, _, _ := f.db.AuditEvents(ctx, casefile.AuditFilter{Action: "token.revoke"})
	if len(evs) != 1 || evs[0].TargetID != tok.ID || evs[0].Actor != "cli:tester" {
		t.Fatalf("revoke events = %+v", evs)
	}

	// Malformed headers and unknown secrets.
	for _, h := range []string{"Bearer", "Basic abc", "Bearer cf_nope", "Bearer " + strings.Repeat("x", 100)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		_, err := f.a.Authenticate(r)
		wantCode(t, err, "unauthorized")
	}
}

func TestReservedNamesAndPastExpiryRefused(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"system:retention", "cli:root", " System:x"} {
		_, _, err := f.db.CreateToken(adminCtx(), name, casefile.RoleAdmin, time.Now().Add(time.Hour))
		if casefile.ErrorKind(err) != casefile.EUnprocessable || casefile.ErrorCode(err) != "reserved_name" {
			t.Errorf("%q: %v", name, err)
		}
	}
	_, _, err := f.db.CreateToken(adminCtx(), "late", casefile.RoleAdmin, time.Now().Add(-time.Hour))
	wantCode(t, err, "invalid_expiry")
	if n, _ := f.db.CountTokens(context.Background()); n != 0 {
		t.Fatalf("%d tokens made", n)
	}
}

func TestSessionCallerAndTimeouts(t *testing.T) {
	f := newFixture(t)
	u, cookie := f.signIn(t, "sub-1", casefile.RoleManager)
	c, err := f.a.Authenticate(withCookie("GET", "/v1/me", cookie, nil))
	if err != nil || c.Session == nil || c.Actor.ID != u.ID || c.Actor.Kind != casefile.ActorUser || c.Actor.Role != casefile.RoleManager ||
		c.Actor.Name != "Jo Bloggs" || c.Session.CSRFToken == "" {
		t.Fatalf("caller = %+v, %v", c, err)
	}

	// Used within the idle timeout, again and again, the session lives on.
	for i := 0; i < 3; i++ {
		f.clock.t = f.clock.t.Add(20 * time.Minute)
		if _, err := f.a.Authenticate(withCookie("GET", "/v1/me", cookie, nil)); err != nil {
			t.Fatalf("after %d×20 minutes of use: %v", i+1, err)
		}
	}
	// Idle past the timeout: ended, and it stays ended.
	f.clock.t = f.clock.t.Add(31 * time.Minute)
	_, err = f.a.Authenticate(withCookie("GET", "/v1/me", cookie, nil))
	wantCode(t, err, "unauthorized")
	f.clock.t = f.clock.t.Add(-31 * time.Minute)
	_, err = f.a.Authenticate(withCookie("GET", "/v1/me", cookie, nil))
	wantCode(t, err, "unauthorized")

	// The absolute lifetime ends a busy session.
	f.clock.t = time.Now()
	_, cookie = f.signIn(t, "sub-1", casefile.RoleManager)
	for i := 0; i < 40; i++ { // 10 h in 15-minute steps, in use all along
		f.clock.t = f.clock.t.Add(15 * time.Minute)
		_, err = f.a.Authenticate(withCookie("GET", "/v1/me", cookie, nil))
		if i < 39 && err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	wantCode(t, err, "unauthorized")
	evs, _, _ := f.db.AuditEvents(adminCtx(), casefile.AuditFilter{Action: "session.end"})
	if len(evs) != 2 || !strings.Contains(string(evs[0].Details), "idle") || !strings.Contains(string(evs[1].Details), "expired") {
		t.Fatalf("session.end events = %+v", evs)
	}

	// Unknown and malformed cookies.
	for _, v := range []string{"cfs_nope", "x", strings.Repeat("a", 5000)} {
		_, err := f.a.Authenticate(withCookie("GET", "/", v, nil))
		wantCode(t, err, "unauthorized")
	}
}

func TestDisabledUsersOldCookieEndsAtOnce(t *testing.T) {
	f := newFixture(t)
	u, cookie := f.signIn(t, "leaver", casefile.RolePractitioner)
	if _, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil)); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := f.db.UpdateUser(adminCtx(), u.ID, casefile.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	wantCode(t, err, "unauthorized")

	// Even were the session row still there (disabled by hand in the
	// database), the per-request check refuses it.
	f.clock.t = time.Now()
	no := false
	if _, err := f.db.UpdateUser(adminCtx(), u.ID, casefile.UserUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	_, cookie = f.signIn(t, "leaver", casefile.RolePractitioner)
	testenv.Tamper(t, f.db, "UPDATE users SET disabled = true WHERE subject = 'leaver'")
	_, err = f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	wantCode(t, err, "unauthorized")
}

func TestNoRoleAndTeamsHook(t *testing.T) {
	f := newFixture(t)
	_, cookie := f.signIn(t, "newcomer", "")
	_, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	if casefile.ErrorKind(err) != casefile.EForbidden || casefile.ErrorCode(err) != "no_role" {
		t.Fatalf("no role: %v", err)
	}
	u, cookie := f.signIn(t, "member", casefile.RolePractitioner)
	f.a.Teams = func(_ context.Context, userID string) ([]string, error) {
		if userID != u.ID {
			t.Errorf("teams asked for %s", userID)
		}
		return []string{"team-a", "team-b"}, nil
	}
	c, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	if err != nil || strings.Join(c.Actor.Teams, ",") != "team-a,team-b" {
		t.Fatalf("teams: %+v %v", c, err)
	}
}

func TestSessionFromTokenEndsWithTheToken(t *testing.T) {
	f := newFixture(t)
	tok, _, err := f.db.CreateToken(adminCtx(), "desk", casefile.RoleICT, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := f.a.StartSession(rec, httptest.NewRequest("POST", "/auth/login", nil), casefile.Actor{ID: tok.ID, Kind: casefile.ActorToken, Name: "desk"}, "", tok.ID); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0].Value
	c, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	if err != nil || c.Actor.ID != tok.ID || c.Actor.Kind != casefile.ActorToken || c.Actor.Role != casefile.RoleICT || c.Session == nil {
		t.Fatalf("token session: %+v %v", c, err)
	}
	if _, err := f.db.RevokeToken(adminCtx(), tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	wantCode(t, err, "unauthorized")
}

func TestCheckCSRF(t *testing.T) {
	f := newFixture(t)
	_, cookie := f.signIn(t, "csrf", casefile.RoleAdmin)
	c, err := f.a.Authenticate(withCookie("GET", "/", cookie, nil))
	if err != nil {
		t.Fatal(err)
	}
	good := c.Session.CSRFToken
	form := func(v string) *http.Request {
		r := withCookie("POST", "/x", cookie, strings.NewReader(url.Values{"csrf_token": {v}, "a": {"b"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	multi := func(v string) (*http.Request, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf_token", v)
		fw, _ := mw.CreateFormFile("file", "big.bin")
		fw.Write(bytes.Repeat([]byte("z"), 100<<10))
		mw.Close()
		body := b.Bytes()
		r := withCookie("POST", "/x", cookie, bytes.NewReader(body))
		r.Header.Set("Content-Type", mw.FormDataContentType())
		return r, body
	}
	header := func(v string) *http.Request {
		r := withCookie("DELETE", "/x", cookie, nil)
		r.Header.Set("X-CSRF-Token", v)
		return r
	}
	if err := auth.CheckCSRF(header(good), c); err != nil {
		t.Errorf("header: %v", err)
	}
	if err := auth.CheckCSRF(form(good), c); err != nil {
		t.Errorf("form: %v", err)
	}
	r, body := multi(good)
	if err := auth.CheckCSRF(r, c); err != nil {
		t.Errorf("multipart: %v", err)
	}
	if rest, _ := io.ReadAll(r.Body); !bytes.Equal(rest, body) {
		t.Errorf("multipart body not whole after the check: %d of %d bytes", len(rest), len(body))
	}
	if err := auth.CheckCSRF(withCookie("GET", "/x", cookie, nil), c); err != nil {
		t.Errorf("GET needs no token: %v", err)
	}
	if err := auth.CheckCSRF(withCookie("POST", "/x", cookie, nil), &auth.Caller{Actor: c.Actor}); err != nil {
		t.Errorf("a bearer caller needs no token: %v", err)
	}
	r, _ = multi("wrong")
	for name, r := range map[string]*http.Request{
		"none": withCookie("POST", "/x", cookie, strings.NewReader(`{"a":1}`)), "wrong header": header("wrong"),
		"other session's": header(good[:len(good)-1] + "x"), "wrong form": form("wrong"), "empty form": form(""), "wrong multipart": r,
	} {
		if err := auth.CheckCSRF(r, c); casefile.ErrorCode(err) != "csrf_failed" || casefile.ErrorKind(err) != casefile.EForbidden {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/persons/1?tab=notes": "/persons/1?tab=notes",
		"/":                    "/",
		"":                     "/",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"\\\\evil":             "/",
		"/a\\b":                "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"evil.example/x":       "/",
		"/%2F/evil.example":    "/",
		"/%5Cevil.example":     "/",
		"/ok\r\nSet-Cookie:x":  "/",
		"/\t/evil":             "/",
	} {
		if got := auth.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
