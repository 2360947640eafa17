package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
	"github.com/council/casefile/internal/testenv"
)

// TestRestrictedRecordForSignedInUsersByTeam: a signed-in user (browser
// session) is let into a restricted record through their team, taken out of
// it when an admin changes their teams, and an outsider's session is refused
// until break-glass, all against real PostgreSQL through the same
// authenticator and Teams hook that `casefile run` wires.
func TestRestrictedRecordForSignedInUsersByTeam(t *testing.T) {
	db := testenv.Postgres(t)
	authn := &auth.Authenticator{Tokens: db, Sessions: db, Users: db, Teams: db.UserTeams}
	s := New(Config{Tokens: db, Auth: authn, Users: db, Persons: db, Access: db, Teams: db, Audit: db})
	cli := casefile.WithActor(context.Background(), casefile.Actor{Kind: casefile.ActorCLI, Name: "cli:test", Role: casefile.RoleAdmin})

	dob := casefile.Date{Year: 2016, Month: 6, Day: 6}
	p := &casefile.Person{ExternalRef: "LCS-R1", GivenName: "Ada", FamilyName: "Okonkwo", DateOfBirth: &dob}
	if err := db.CreatePerson(cli, p); err != nil {
		t.Fatal(err)
	}
	_, admin, err := db.CreateToken(cli, "admin", casefile.RoleAdmin, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, admin2, err := db.CreateToken(cli, "another admin", casefile.RoleAdmin, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	team, err := db.CreateTeam(cli, "Adoption")
	if err != nil {
		t.Fatal(err)
	}
	type browser struct {
		id     string
		cookie *http.Cookie
		csrf   string
	}
	signIn := func(subject string) browser {
		role := casefile.RolePractitioner
		u, err := db.SignInUser(cli, casefile.SignIn{Issuer: "https://idp.test", Subject: subject, Name: subject, Role: &role})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		sess, err := authn.StartSession(rec, httptest.NewRequest("GET", "/auth/callback", nil),
			casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: u.Name}, u.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return browser{u.ID, rec.Result().Cookies()[0], sess.CSRFToken}
	}
	jo, sam := signIn("jo"), signIn("sam")
	call := func(b *browser, token, method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if b != nil {
			req.AddCookie(b.cookie)
			req.Header.Set("X-CSRF-Token", b.csrf)
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m
	}
	code := func(m map[string]any) string {
		e, _ := m["error"].(map[string]any)
		c, _ := e["code"].(string)
		return c
	}

	// The admin puts Jo in the team and restricts the record to it.
	if st, m := call(nil, admin, "PATCH", "/v1/users/"+jo.id, `{"team_ids":["`+team.ID+`"]}`); st != 200 {
		t.Fatalf("PATCH user: %d %v", st, m)
	}
	if st, m := call(nil, admin, "PUT", "/v1/persons/"+p.ID+"/restriction", `{"reason":"Adoption placement","team_ids":["`+team.ID+`"]}`); st != 200 {
		t.Fatalf("restrict: %d %v", st, m)
	}
	if st, m := call(&jo, "", "GET", "/v1/persons/"+p.ID, ""); st != 200 || m["restricted"] != true || m["family_name"] != "Okonkwo" {
		t.Fatalf("team member's session: %d %v", st, m)
	}
	if st, m := call(&sam, "", "GET", "/v1/persons/"+p.ID, ""); st != 403 || code(m) != "restricted_record" {
		t.Fatalf("outsider's session: %d %v", st, m)
	}
	if st, m := call(&sam, "", "GET", "/v1/persons?external_ref=LCS-R1", ""); st != 200 || !strings.Contains(toJSON(m), `"items":[{"id":"`+p.ID+`","restricted":true}]`) {
		t.Fatalf("outsider's list: %d %v", st, m)
	}
	// Another admin is refused the record too (no silent bypass); the admin
	// who restricted it is its owner and keeps access.
	if st, m := call(nil, admin, "GET", "/v1/persons/"+p.ID, ""); st != 200 {
		t.Fatalf("owner: %d %v", st, m)
	}
	if st, m := call(nil, admin2, "GET", "/v1/persons/"+p.ID, ""); st != 403 || code(m) != "restricted_record" {
		t.Fatalf("admin: %d %v", st, m)
	}
	// Break-glass from the outsider's browser (CSRF token sent): open for the hour.
	if st, m := call(&sam, "", "POST", "/v1/persons/"+p.ID+"/access", `{"reason":"Out of hours: police at the placement"}`); st != 201 || m["actor_id"] != sam.id {
		t.Fatalf("break-glass: %d %v", st, m)
	}
	if st, m := call(&sam, "", "GET", "/v1/persons/"+p.ID, ""); st != 200 {
		t.Fatalf("after break-glass: %d %v", st, m)
	}
	// Jo leaves the team: her very next request is refused.
	if st, m := call(nil, admin, "PATCH", "/v1/users/"+jo.id, `{"team_ids":[]}`); st != 200 {
		t.Fatalf("PATCH user: %d %v", st, m)
	}
	if st, m := call(&jo, "", "GET", "/v1/persons/"+p.ID, ""); st != 403 || code(m) != "restricted_record" {
		t.Fatalf("after leaving the team: %d %v", st, m)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
