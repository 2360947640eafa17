package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
	"github.com/council/casefile/internal/testenv"
)

// credential is how one test caller authenticates a request.
type credential func(r *http.Request)

// TestPermissionMatrixForSessionsAndTokensAlike runs the route-by-route
// matrix against real tokens and real browser sessions (PostgreSQL) of every
// role: each caller kind gets exactly the permissions of its role.
func TestPermissionMatrixForSessionsAndTokensAlike(t *testing.T) {
	db := testenv.Postgres(t)
	authn := &auth.Authenticator{Tokens: db, Sessions: db, Users: db}
	s := New(Config{Tokens: db, Auth: authn, Users: db})
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Kind: casefile.ActorCLI, Name: "cli:test", Role: casefile.RoleAdmin})

	callers := map[string]map[casefile.Role]credential{"token": {}, "session": {}}
	sessionNoCSRF := map[casefile.Role]credential{}
	for _, role := range casefile.Roles {
		_, secret, err := db.CreateToken(ctx, "t-"+string(role), role, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		callers["token"][role] = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }
		role := role
		u, err := db.SignInUser(ctx, casefile.SignIn{Issuer: "https://idp.test", Subject: "s-" + string(role), Name: "U " + string(role), Role: &role})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		sess, err := authn.StartSession(rec, httptest.NewRequest("GET", "/auth/callback", nil), casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: u.Name}, u.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		cookie := rec.Result().Cookies()[0]
		callers["session"][role] = func(r *http.Request) {
			r.AddCookie(cookie)
			r.Header.Set("X-CSRF-Token", sess.CSRFToken)
		}
		sessionNoCSRF[role] = func(r *http.Request) { r.AddCookie(cookie) }
	}

	for _, r := range s.Routes() {
		key := r.Method + " " + r.Path
		want, ok := wantRoles[key]
		if !ok {
			t.Errorf("route %s has no row in wantRoles", key)
			continue
		}
		path := pathParam.ReplaceAllString(r.Path, "0190a0c0-0000-7000-8000-000000000000")
		for kind, byRole := range callers {
			for _, role := range casefile.Roles {
				req := httptest.NewRequest(r.Method, path, strings.NewReader("{"))
				byRole[role](req)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				allowed := strings.Contains(" "+want+" ", " "+string(role)+" ")
				if got403 := rec.Code == http.StatusForbidden; got403 == allowed || rec.Code == http.StatusUnauthorized {
					t.Errorf("%s as %s %s: %d %s, want allowed=%v", key, kind, role, rec.Code, rec.Body.String(), allowed)
				}
			}
		}
		// With the cookie but without the CSRF token, no state-changing
		// route is reached, whatever the role.
		if r.Method != http.MethodGet {
			req := httptest.NewRequest(r.Method, path, strings.NewReader("{}"))
			sessionNoCSRF[casefile.RoleAdmin](req)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"csrf_failed"`) {
				t.Errorf("%s with the cookie and no CSRF token: %d %s", key, rec.Code, rec.Body.String())
			}
		}
	}
}
