package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
	"github.com/council/casefile/web"
)

// govEnv serves the pages with every governance service wired, signed in
// with a token of role.
func govEnv(t *testing.T, role casefile.Role) *env {
	e := newEnv(t, role)
	loc, _ := time.LoadLocation("Europe/London")
	pages, err := web.New(web.Config{Auth: tokenAuth{e.db}, Persons: e.db, Tickets: e.db, Access: e.db, Location: loc,
		Retention: e.db, Audit: e.db, Users: e.db, Teams: e.db, Tokens: e.db, Exports: e.db, AuditChecks: e.db.AuditChecks})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = pages
	return e
}

// Each governance page answers 403 to a role the permission matrix does not
// let in, and renders for one it does.
func TestGovernancePagesByRole(t *testing.T) {
	pages := []struct {
		path    string
		allowed []casefile.Role
		refused []casefile.Role
	}{
		{"/retention/runs", []casefile.Role{casefile.RoleRecordsOfficer, casefile.RoleAuditor}, nil},
		{"/retention/review", []casefile.Role{casefile.RoleRecordsOfficer}, nil},
		{"/holds", []casefile.Role{casefile.RoleRecordsOfficer}, nil},
		{"/exports", []casefile.Role{casefile.RoleRecordsOfficer, casefile.RoleAdmin}, []casefile.Role{casefile.RoleAuditor, casefile.RolePractitioner}},
		{"/audit", []casefile.Role{casefile.RoleAuditor, casefile.RoleAdmin}, []casefile.Role{casefile.RoleRecordsOfficer, casefile.RolePractitioner}},
		{"/audit/verification", []casefile.Role{casefile.RoleAuditor}, []casefile.Role{casefile.RoleICT}},
		{"/admin/users", []casefile.Role{casefile.RoleAdmin}, []casefile.Role{casefile.RoleAuditor, casefile.RoleRecordsOfficer}},
		{"/admin/teams", []casefile.Role{casefile.RoleAdmin}, []casefile.Role{casefile.RoleManager}},
		{"/admin/tokens", []casefile.Role{casefile.RoleAdmin}, []casefile.Role{casefile.RoleRecordsOfficer}},
	}
	envs := map[casefile.Role]*env{}
	get := func(role casefile.Role) *env {
		if envs[role] == nil {
			envs[role] = govEnv(t, role)
		}
		return envs[role]
	}
	for _, p := range pages {
		for _, role := range p.allowed {
			if resp, body := get(role).do("GET", p.path, "", nil); resp.StatusCode != 200 {
				t.Errorf("%s as %s = %d, want 200: %.300s", p.path, role, resp.StatusCode, body)
			}
		}
		for _, role := range p.refused {
			if resp, body := get(role).do("GET", p.path, "", nil); resp.StatusCode != 403 || !strings.Contains(body, "does not let you") {
				t.Errorf("%s as %s = %d, want 403", p.path, role, resp.StatusCode)
			}
		}
	}
}

// A decision form posted by a role that may not decide is refused, and so
// is one without its CSRF token, and nothing is changed.
func TestGovernanceFormsRefuse(t *testing.T) {
	auditor := govEnv(t, casefile.RoleAuditor)
	posts := []string{"/retention/runs", "/holds", "/retention/review/" + auditor.person + "/return", "/admin/teams"}
	for _, path := range posts {
		resp, _ := auditor.form(path, url.Values{"csrf_token": {"csrf-" + auditor.secret}, "name": {"x"}, "kind": {"dry"}})
		if resp.StatusCode != 403 {
			t.Errorf("POST %s as an auditor = %d, want 403", path, resp.StatusCode)
		}
	}
	officer := govEnv(t, casefile.RoleRecordsOfficer)
	resp, body := officer.form("/holds", url.Values{"name": {"Inquiry"}, "reason": {"inquiry"}, "scope": {"all"}})
	if resp.StatusCode != 403 || !strings.Contains(body, "The form had expired") {
		t.Errorf("POST /holds without its CSRF token = %d, want 403", resp.StatusCode)
	}
	admin := govEnv(t, casefile.RoleAdmin)
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor("test"))
	tok, _, err := admin.db.CreateToken(ctx, "robot", casefile.RolePractitioner, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := admin.form("/admin/tokens/"+tok.ID+"/revoke", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("revoke without CSRF = %d, want 403", resp.StatusCode)
	}
	if resp, _ := officer.form("/admin/tokens/"+tok.ID+"/revoke", url.Values{"csrf_token": {"csrf-" + officer.secret}}); resp.StatusCode != 403 {
		t.Errorf("revoke as a records officer = %d, want 403", resp.StatusCode)
	}
	hs, _, err := officer.db.Holds(ctx, casefile.Page{Limit: 10})
	if err != nil || len(hs) != 0 {
		t.Fatalf("a refused form placed a hold: %v %v", hs, err)
	}
	ts, err := admin.db.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if x.ID == tok.ID && x.RevokedAt != nil {
			t.Fatal("a refused form revoked the token")
		}
	}
	// With its token, the admin's revoke goes through (after the confirmation page).
	if resp, body := admin.do("GET", "/admin/tokens/"+tok.ID+"/revoke", "", nil); resp.StatusCode != 200 || !strings.Contains(body, "Yes, revoke it") {
		t.Fatalf("confirmation page = %d", resp.StatusCode)
	}
	if resp, _ := admin.form("/admin/tokens/"+tok.ID+"/revoke", url.Values{"csrf_token": {"csrf-" + admin.secret}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke with CSRF = %d, want 303", resp.StatusCode)
	}
}

// Forms with missing fields answer 422 with the GOV.UK error summary,
// linking to each field, and keep what was typed.
func TestGovernanceFormErrors(t *testing.T) {
	e := govEnv(t, casefile.RoleRecordsOfficer)
	csrf := "csrf-" + e.secret
	resp, body := e.form("/holds", url.Values{"csrf_token": {csrf}, "name": {"Smith inquiry"}, "scope": {"named"}, "refs": {"NF-1\nNOPE-9"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "govuk-error-summary") || !strings.Contains(body, `href="#reason"`) ||
		!strings.Contains(body, "No record has the reference NOPE-9") || !strings.Contains(body, `value="Smith inquiry"`) {
		t.Errorf("hold without a reason = %d: %.2000s", resp.StatusCode, body)
	}
	resp, body = e.form("/retention/review/"+e.person+"/keep", url.Values{"csrf_token": {csrf}, "until-day": {"31"}, "until-month": {"2"},
		"until-year": {"2030"}, "reason": {"Sibling proceedings"}})
	if resp.StatusCode != 422 || !strings.Contains(body, `href="#until-day"`) || !strings.Contains(body, "must be a real date") ||
		!strings.Contains(body, "Sibling proceedings") {
		t.Errorf("keep until 31 February = %d: %.2000s", resp.StatusCode, body)
	}
	// A record not past its date: the store's refusal, in words.
	resp, body = e.form("/retention/review/"+e.person+"/keep", url.Values{"csrf_token": {csrf}, "until-day": {"1"}, "until-month": {"1"},
		"until-year": {"2040"}, "reason": {"Sibling proceedings"}})
	if resp.StatusCode != 409 || !strings.Contains(body, "not past its disposal date") {
		t.Errorf("keep a record not due = %d: %.2000s", resp.StatusCode, body)
	}
	admin := govEnv(t, casefile.RoleAdmin)
	resp, body = admin.form("/admin/teams", url.Values{"csrf_token": {"csrf-" + admin.secret}, "name": {"  "}})
	if resp.StatusCode != 422 || !strings.Contains(body, `href="#name"`) {
		t.Errorf("team without a name = %d", resp.StatusCode)
	}
}

// listed makes a record due today and a real run's disposal list awaiting
// approval with it, as the runner would.
func (e *env) listed() string {
	e.t.Helper()
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor("test"))
	e.db.SetRetentionPolicy(retention.Policy{S: retention.DefaultSchedule()})
	dob := casefile.Date{Year: 1990, Month: 1, Day: 1}
	p := &casefile.Person{ExternalRef: "DUE-1", GivenName: "Old", FamilyName: "Record", DateOfBirth: &dob}
	if err := e.db.CreatePerson(ctx, p); err != nil {
		e.t.Fatal(err)
	}
	ended := casefile.Date{Year: 1996, Month: 1, Day: 1}
	if err := e.db.AddInvolvement(ctx, &casefile.Involvement{PersonID: p.ID, Kind: "early_help", StartedOn: casefile.Date{Year: 1995, Month: 1, Day: 1}, EndedOn: &ended}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(ctx, "UPDATE person_retention SET inputs_changed_at = now() - interval '400 days'"); err != nil {
		e.t.Fatal(err)
	}
	run, err := e.db.CreateRun(ctx, false, casefile.Today())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.StartRun(ctx, run.ID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.PlanRun(ctx, run.ID); err != nil {
		e.t.Fatal(err)
	}
	r, err := e.db.AwaitApproval(ctx, run.ID)
	if err != nil || r.State != casefile.RunAwaitingApproval {
		e.t.Fatalf("run: %+v %v", r, err)
	}
	return run.ID
}

// A disposal list is approved only through its confirmation page, and a
// rejection or exclusion without what it needs is refused on the page;
// a rejection with a reason closes the list.
func TestDisposalListDecisions(t *testing.T) {
	e := govEnv(t, casefile.RoleRecordsOfficer)
	id := e.listed()
	csrf := "csrf-" + e.secret
	if resp, body := e.do("GET", "/retention/runs/"+id, "", nil); resp.StatusCode != 200 || !strings.Contains(body, "DUE-1") ||
		!strings.Contains(body, "Disposal list awaiting approval") {
		t.Fatalf("disposal list page = %d: %.1500s", resp.StatusCode, body)
	}
	resp, _ := e.form("/retention/runs/"+id+"/approve", url.Values{"csrf_token": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/retention/runs/"+id+"/approve" {
		t.Fatalf("approve without confirming = %d %s, want the confirmation page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := e.do("GET", "/retention/runs/"+id+"/approve", "", nil); resp.StatusCode != 200 || !strings.Contains(body, "Yes, approve destruction") {
		t.Fatalf("confirmation = %d", resp.StatusCode)
	}
	if resp, body := e.form("/retention/runs/"+id+"/exclusions", url.Values{"csrf_token": {csrf}, "reason": {"x"}}); resp.StatusCode != 422 ||
		!strings.Contains(body, `href="#items"`) || !strings.Contains(body, `href="#review_on-day"`) {
		t.Errorf("exclusion without items or date = %d", resp.StatusCode)
	}
	if resp, body := e.form("/retention/runs/"+id+"/reject", url.Values{"csrf_token": {csrf}}); resp.StatusCode != 422 || !strings.Contains(body, `href="#reject_reason"`) {
		t.Errorf("rejection without a reason = %d", resp.StatusCode)
	}
	_, auditor, err := e.db.CreateToken(casefile.WithActor(context.Background(), casefile.SystemActor("test")), "Ana Auditor",
		casefile.RoleAuditor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	officer := e.secret
	e.secret = auditor
	if resp, _ := e.form("/retention/runs/"+id+"/approve", url.Values{"csrf_token": {"csrf-" + auditor}, "confirm": {"yes"}}); resp.StatusCode != 403 {
		t.Errorf("approval by an auditor = %d, want 403", resp.StatusCode)
	}
	e.secret = officer
	if resp, _ := e.form("/retention/runs/"+id+"/reject", url.Values{"csrf_token": {csrf}, "reject_reason": {"The list includes a record under appeal."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rejection = %d", resp.StatusCode)
	}
	run, err := e.db.RetentionRun(context.Background(), id)
	if err != nil || run.State != casefile.RunRejected || run.RejectReason != "The list includes a record under appeal." || len(run.Approvals) != 0 {
		t.Fatalf("after the page's rejection: %+v %v", run, err)
	}
}
