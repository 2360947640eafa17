package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/auth"
)

// TestBuiltInTokenForm: with no provider and no Render hook, /auth/login is
// a minimal, accessible form (label, error announced, no script or style),
// guarded by its own cookie, and a good token makes a session.
func TestBuiltInTokenForm(t *testing.T) {
	f := newFixture(t)
	h := &auth.Handler{Auth: f.a}
	_, secret, err := f.db.CreateToken(adminCtx(), "desk", "ict", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/auth/login?next=//evil.example", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `<label for="token">API token</label>`) || strings.Contains(body, "<script") ||
		strings.Contains(body, "style") || !strings.Contains(body, `name="next" value="/"`) || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("form: %d %s", rec.Code, body)
	}
	ft := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	login := rec.Result().Cookies()[0]
	post := func(form url.Values, withCookie bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/auth/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			r.AddCookie(login)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := post(url.Values{"token": {"cf_wrong"}, "form_token": {ft}}, true); rec.Code != 401 ||
		!strings.Contains(rec.Body.String(), `role="alert"`) || !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
		t.Fatalf("wrong token: %d %s", rec.Code, rec.Body.String())
	}
	if rec := post(url.Values{"token": {secret}, "form_token": {ft}}, false); rec.Code != 403 || hasSession(rec) {
		t.Fatalf("without the form's cookie: %d", rec.Code)
	}
	if rec := post(url.Values{"token": {secret}, "form_token": {"forged"}}, true); rec.Code != 403 || hasSession(rec) {
		t.Fatalf("with a forged form token: %d", rec.Code)
	}
	rec = post(url.Values{"token": {secret}, "form_token": {ft}, "next": {"/persons?q=a"}}, true)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/persons?q=a" || !hasSession(rec) {
		t.Fatalf("good token: %d %v", rec.Code, rec.Header())
	}
}

func hasSession(rec *httptest.ResponseRecorder) bool {
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.CookieName && c.Value != "" {
			return true
		}
	}
	return false
}
