package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
)

// roleTokens authenticates "token-<role>" as that role.
type roleTokens struct{}

func (roleTokens) CreateToken(context.Context, string, casefile.Role, time.Time) (*casefile.Token, string, error) {
	return nil, "", nil
}
func (roleTokens) CountTokens(context.Context) (int, error)                     { return 0, nil }
func (roleTokens) Tokens(context.Context) ([]*casefile.Token, error)            { return nil, nil }
func (roleTokens) RevokeToken(context.Context, string) (*casefile.Token, error) { return nil, nil }
func (t roleTokens) TokenActor(ctx context.Context, id string) (casefile.Actor, error) {
	return t.Authenticate(ctx, id)
}
func (roleTokens) Authenticate(_ context.Context, secret string) (casefile.Actor, error) {
	role := casefile.Role(strings.TrimPrefix(secret, "token-"))
	if !casefile.ValidRole(role) {
		return casefile.Actor{}, casefile.Errorf(casefile.EUnauthorized, "unauthorized", "no")
	}
	return casefile.Actor{Name: string(role), Role: role}, nil
}

var pathParam = regexp.MustCompile(`:([a-z_]+)`)

func TestEveryRouteIsInOpenAPI(t *testing.T) {
	s := New(Config{Tokens: roleTokens{}, AuthHandler: &auth.Handler{Auth: &auth.Authenticator{Tokens: roleTokens{}}}})
	doc, _, err := loadOpenAPI()
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, ri := range s.engine.Routes() {
		p := pathParam.ReplaceAllString(ri.Path, "{$1}")
		ops, ok := paths[p].(map[string]any)
		if !ok {
			t.Errorf("route %s %s is missing from the OpenAPI document (as %s)", ri.Method, ri.Path, p)
			continue
		}
		if _, ok := ops[strings.ToLower(ri.Method)]; !ok {
			t.Errorf("route %s %s: OpenAPI path %s has no %s operation", ri.Method, ri.Path, p, strings.ToLower(ri.Method))
		}
	}
	// And the served document is JSON that says it is OpenAPI 3.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"openapi":"3.`) {
		t.Fatalf("GET /v1/openapi.json = %d %.100s", rec.Code, rec.Body.String())
	}
}

// wantRoles is the permission matrix written out route by route: who may
// call each route. A route missing here fails the test.
var wantRoles = map[string]string{
	"POST /v1/persons":                                     "practitioner manager admin",
	"GET /v1/persons":                                      "practitioner manager ict records_officer auditor admin",
	"GET /v1/persons/:id":                                  "practitioner manager ict records_officer auditor admin",
	"POST /v1/persons/:id/relationships":                   "practitioner manager admin",
	"GET /v1/persons/:id/relationships":                    "practitioner manager ict records_officer auditor admin",
	"PATCH /v1/persons/:id":                                "practitioner manager admin",
	"POST /v1/persons/:id/involvements":                    "practitioner manager admin",
	"POST /v1/involvements/:id/close":                      "practitioner manager admin",
	"POST /v1/persons/:id/exports":                         "records_officer admin",
	"GET /v1/exports/signing-key":                          "practitioner manager ict records_officer auditor admin",
	"GET /v1/exports/:id":                                  "records_officer admin",
	"GET /v1/exports/:id/content":                          "records_officer admin",
	"GET /v1/note-types":                                   "practitioner manager ict records_officer auditor admin",
	"POST /v1/persons/:id/notes":                           "practitioner manager admin",
	"GET /v1/persons/:id/notes":                            "practitioner manager ict records_officer auditor admin",
	"GET /v1/persons/:id/search":                           "practitioner manager ict records_officer auditor admin",
	"GET /v1/notes/:id":                                    "practitioner manager ict records_officer auditor admin",
	"PUT /v1/notes/:id":                                    "practitioner manager ict records_officer auditor admin",
	"PATCH /v1/notes/:id":                                  "practitioner manager ict records_officer auditor admin",
	"DELETE /v1/notes/:id":                                 "practitioner manager ict records_officer auditor admin",
	"GET /v1/notes/:id/versions":                           "practitioner manager ict records_officer auditor admin",
	"POST /v1/notes/:id/amendments":                        "ict admin",
	"POST /v1/notes/scan":                                  "ict admin",
	"GET /v1/notes/third-party-candidates":                 "ict admin",
	"POST /v1/persons/:id/documents":                       "practitioner manager admin",
	"GET /v1/persons/:id/documents":                        "practitioner manager ict records_officer auditor admin",
	"GET /v1/documents/:id":                                "practitioner manager ict records_officer auditor admin",
	"GET /v1/documents/:id/content":                        "practitioner manager ict records_officer auditor admin",
	"POST /v1/documents/:id/links":                         "practitioner manager admin",
	"POST /v1/tickets":                                     "practitioner manager ict admin",
	"GET /v1/tickets":                                      "practitioner manager ict records_officer auditor admin",
	"GET /v1/tickets/:id":                                  "practitioner manager ict records_officer auditor admin",
	"POST /v1/tickets/:id/approve":                         "ict admin",
	"POST /v1/tickets/:id/reject":                          "ict admin",
	"POST /v1/tickets/:id/retry":                           "ict admin",
	"POST /v1/tickets/:id/close":                           "ict admin",
	"GET /v1/retention/schedule":                           "practitioner manager ict records_officer auditor admin",
	"GET /v1/persons/:id/retention":                        "practitioner manager ict records_officer auditor admin",
	"POST /v1/holds":                                       "records_officer admin",
	"GET /v1/holds":                                        "practitioner manager ict records_officer auditor admin",
	"POST /v1/holds/:id/release":                           "records_officer admin",
	"POST /v1/retention/runs":                              "records_officer admin",
	"GET /v1/retention/runs/:id":                           "practitioner manager ict records_officer auditor admin",
	"GET /v1/retention/runs/:id/items":                     "practitioner manager ict records_officer auditor admin",
	"GET /v1/audit":                                        "auditor admin",
	"GET /v1/audit/verify":                                 "auditor admin",
	"POST /v1/teams":                                       "admin",
	"GET /v1/teams":                                        "manager admin",
	"PUT /v1/persons/:id/restriction":                      "manager admin",
	"DELETE /v1/persons/:id/restriction":                   "manager admin",
	"GET /v1/persons/:id/restriction":                      "manager admin",
	"POST /v1/persons/:id/access":                          "practitioner manager ict records_officer auditor admin",
	"GET /v1/me":                                           "practitioner manager ict records_officer auditor admin",
	"GET /v1/users":                                        "admin",
	"PATCH /v1/users/:id":                                  "admin",
	"GET /v1/tokens":                                       "admin",
	"DELETE /v1/tokens/:id":                                "admin",
	"POST /v1/retention/runs/:id/exclusions":               "records_officer admin",
	"POST /v1/retention/runs/:id/approve":                  "records_officer admin",
	"POST /v1/retention/runs/:id/reject":                   "records_officer admin",
	"GET /v1/retention/review":                             "practitioner manager ict records_officer auditor admin",
	"POST /v1/retention/review/:id/keep":                   "records_officer admin",
	"POST /v1/retention/review/:id/return":                 "records_officer admin",
	"GET /v1/retention/runs":                               "practitioner manager ict records_officer auditor admin",
	"GET /v1/reports/:name":                                "manager records_officer auditor",
	"POST /v1/persons/:id/disclosures":                     "records_officer admin",
	"GET /v1/persons/:id/disclosures":                      "records_officer admin",
	"GET /v1/disclosures/:id":                              "records_officer admin",
	"POST /v1/disclosures/:id/redactions":                  "records_officer admin",
	"DELETE /v1/disclosures/:id/redactions/:redaction_id":  "records_officer admin",
	"POST /v1/disclosures/:id/withholdings":                "records_officer admin",
	"DELETE /v1/disclosures/:id/withholdings/:document_id": "records_officer admin",
	"GET /v1/disclosures/:id/suggestions":                  "records_officer admin",
	"POST /v1/disclosures/:id/suggestions/decisions":       "records_officer admin",
	"POST /v1/disclosures/:id/finalise":                    "records_officer admin",
	"POST /v1/disclosures/:id/approve":                     "records_officer admin",
	"POST /v1/disclosures/:id/return":                      "records_officer admin",
	"GET /v1/disclosures/:id/content":                      "records_officer admin",
}

func TestPermissionMatrixRouteByRoute(t *testing.T) {
	s := New(Config{Tokens: roleTokens{}})
	seen := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := wantRoles[key]
		if !ok {
			t.Errorf("route %s has no row in wantRoles", key)
			continue
		}
		allowed := strings.Fields(want)
		sort.Strings(allowed)
		for _, role := range casefile.Roles {
			t.Run(key+"/"+string(role), func(t *testing.T) {
				rec := httptest.NewRecorder()
				path := pathParam.ReplaceAllString(r.Path, "0190a0c0-0000-7000-8000-000000000000")
				req := httptest.NewRequest(r.Method, path, strings.NewReader("{"))
				req.Header.Set("Authorization", "Bearer token-"+string(role))
				s.ServeHTTP(rec, req)
				isAllowed := false
				for _, a := range allowed {
					if a == string(role) {
						isAllowed = true
					}
				}
				if got403 := rec.Code == http.StatusForbidden; got403 == isAllowed {
					t.Fatalf("%s as %s: status %d, want allowed=%v", key, role, rec.Code, isAllowed)
				}
				if isAllowed && rec.Code == http.StatusUnauthorized {
					t.Fatalf("%s as %s: 401", key, role)
				}
			})
		}
		// Without a token: 401 in the contract's shape.
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(r.Method, pathParam.ReplaceAllString(r.Path, "x"), nil))
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"unauthorized"`) {
			t.Errorf("%s without a token: %d %s", key, rec.Code, rec.Body.String())
		}
	}
	for key := range wantRoles {
		if !seen[key] {
			t.Errorf("wantRoles names %s, which is not registered", key)
		}
	}
}

// TestEveryRouteHasARestrictionDecision fails when a route is added without
// saying how it reaches a person's record (restrictionDecisions), or when the
// table names a route that is not registered.
func TestEveryRouteHasARestrictionDecision(t *testing.T) {
	s := New(Config{Tokens: roleTokens{}})
	seen := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		if r.Scope == "" {
			t.Errorf("route %s has no restricted-record decision in restrictionDecisions (httpapi/restrictions.go)", key)
		}
		if strings.Contains(r.Path, "/persons/:id") && r.Scope == scopeNone {
			t.Errorf("route %s takes a person id but is decided not person-scoped", key)
		}
	}
	for key := range restrictionDecisions {
		if !seen[key] {
			t.Errorf("restrictionDecisions names %s, which is not registered", key)
		}
	}
}
