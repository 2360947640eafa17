package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func as(id string, role casefile.Role, teams ...string) context.Context {
	return casefile.WithActor(context.Background(), casefile.Actor{ID: id, Kind: casefile.ActorUser, Name: "user-" + id[:8] + "-" + string(role), Role: role, Teams: teams})
}

func uid() string { return uuid.Must(uuid.NewV7()).String() }

// mustUser signs a user in for the first time and returns their id.
func mustUser(t *testing.T, db *postgres.DB) string {
	t.Helper()
	u, err := db.SignInUser(actorCtx(), casefile.SignIn{Issuer: "https://idp.test", Subject: uid(), Name: "A User"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// mustToken makes a token and returns its id.
func mustToken(t *testing.T, db *postgres.DB) string {
	t.Helper()
	tk, _, err := db.CreateToken(actorCtx(), "integration", casefile.RolePractitioner, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

func mustTeam(t *testing.T, db *postgres.DB, name string) *casefile.Team {
	t.Helper()
	tm, err := db.CreateTeam(actorCtx(), name)
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return tm
}

func wantRestricted(t *testing.T, what string, err error) {
	t.Helper()
	if casefile.ErrorCode(err) != "restricted_record" || casefile.ErrorKind(err) != casefile.EForbidden {
		t.Fatalf("%s: got %v, want 403 restricted_record", what, err)
	}
}

// events returns the audit events of an action on a person.
func events(t *testing.T, db *postgres.DB, personID, action string) []*casefile.AuditEvent {
	t.Helper()
	evs, _, err := db.AuditEvents(actorCtx(), casefile.AuditFilter{PersonID: personID, Action: action, Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestRestrictedRecordIsOpenOnlyToNamedTeamsUsersOwnerAndBreakGlass(t *testing.T) {
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "R1")
	open := mustPerson(t, db, "R2")
	fostering, lado := mustTeam(t, db, "Fostering"), mustTeam(t, db, "LADO")
	member, memberByActor, named, owner, outsider, admin, auditor, tok := mustUser(t, db), uid(), mustUser(t, db), uid(), uid(), uid(), uid(), mustToken(t, db)
	if err := db.SetUserTeams(actorCtx(), member, []string{fostering.ID}); err != nil {
		t.Fatal(err)
	}
	reason := "The child's aunt works in the team; keep the record to Fostering."
	r, err := db.Restrict(as(owner, casefile.RoleManager), p.ID, casefile.RestrictionInput{Reason: reason,
		TeamIDs: []string{fostering.ID}, UserIDs: []string{named, tok}})
	if err != nil {
		t.Fatal(err)
	}
	if r.OwnerID != owner || len(r.TeamIDs) != 1 || len(r.UserIDs) != 2 {
		t.Fatalf("restriction %+v", r)
	}
	tokenCtx := casefile.WithActor(context.Background(), casefile.Actor{ID: tok, Kind: casefile.ActorToken, Name: "a token", Role: casefile.RolePractitioner})
	allowed := map[string]context.Context{
		"member (team_members)":  as(member, casefile.RolePractitioner),
		"member (Actor.Teams)":   as(memberByActor, casefile.RolePractitioner, fostering.ID),
		"named user":             as(named, casefile.RolePractitioner),
		"named token":            tokenCtx,
		"owner":                  as(owner, casefile.RoleManager),
		"system work":            casefile.WithActor(context.Background(), casefile.SystemActor("retention")),
		"the command line (cli)": casefile.WithActor(context.Background(), casefile.Actor{Kind: casefile.ActorCLI, Name: "cli:import"}),
	}
	for who, ctx := range allowed {
		if err := db.CanAccessPerson(ctx, p.ID); err != nil {
			t.Errorf("%s: %v", who, err)
		}
	}
	refused := map[string]context.Context{
		"outsider practitioner":  as(outsider, casefile.RolePractitioner),
		"member of another team": as(uid(), casefile.RoleManager, lado.ID),
		"admin":                  as(admin, casefile.RoleAdmin),
		"auditor":                as(auditor, casefile.RoleAuditor),
		"no actor":               context.Background(),
	}
	for who, ctx := range refused {
		wantRestricted(t, who, db.CanAccessPerson(ctx, p.ID))
		if err := db.CanAccessPerson(ctx, open.ID); err != nil {
			t.Errorf("%s on an unrestricted record: %v", who, err)
		}
	}
	if n := len(events(t, db, p.ID, "access.denied")); n != len(refused) {
		t.Errorf("%d access.denied events, want %d", n, len(refused))
	}
	// The reason stays off the audit log: only its length and hash are there.
	ev := events(t, db, p.ID, "access.restrict")
	if len(ev) != 1 || strings.Contains(string(ev[0].Details), "aunt") || !strings.Contains(string(ev[0].Details), "reason_sha256") {
		t.Fatalf("access.restrict events: %+v", ev)
	}

	// Lists: the outsider sees the id and that it is restricted, nothing else.
	list, _, err := db.FindPersons(as(outsider, casefile.RolePractitioner), casefile.PersonFilter{ExternalRef: "R1"})
	if err != nil || len(list) != 1 || !list[0].Restricted || list[0].FamilyName != "" || list[0].ExternalRef != "" || list[0].ID != p.ID {
		t.Fatalf("outsider's list: %+v %v", list, err)
	}
	list, _, err = db.FindPersons(as(member, casefile.RolePractitioner), casefile.PersonFilter{ExternalRef: "R1"})
	if err != nil || len(list) != 1 || list[0].Restricted || list[0].FamilyName != "Pond" {
		t.Fatalf("member's list: %+v %v", list, err)
	}
	if got, err := db.Person(as(member, casefile.RolePractitioner), p.ID); err != nil || !got.Restricted {
		t.Fatalf("member's read does not say the record is restricted: %+v %v", got, err)
	}
	if got, err := db.Person(actorCtx(), open.ID); err != nil || got.Restricted {
		t.Fatalf("an open record reads as restricted: %+v %v", got, err)
	}
	vis, err := db.VisiblePersons(as(outsider, casefile.RolePractitioner), []string{p.ID, open.ID})
	if err != nil || vis[p.ID] || !vis[open.ID] {
		t.Fatalf("VisiblePersons: %v %v", vis, err)
	}

	// Managing the restriction: an outsider manager may not; admins may.
	wantRestricted(t, "outsider lifts", db.LiftRestriction(as(outsider, casefile.RoleManager), p.ID, "no longer needed"))
	_, err = db.Restrict(as(outsider, casefile.RoleManager), p.ID, casefile.RestrictionInput{Reason: "take it over", UserIDs: []string{outsider}})
	wantRestricted(t, "outsider replaces", err)
	if _, err := db.Restriction(as(admin, casefile.RoleAdmin), p.ID); err != nil {
		t.Fatalf("admin reads the restriction: %v", err)
	}
	if _, err := db.Restriction(as(member, casefile.RolePractitioner), p.ID); err != nil {
		t.Fatalf("member reads the restriction: %v", err)
	}
	_, err = db.Restriction(as(outsider, casefile.RoleManager), p.ID)
	wantRestricted(t, "outsider reads the restriction", err)
}

func TestBreakGlassOpensForAnHourAndIsListedForOwners(t *testing.T) {
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "B1")
	owner, outsider := uid(), uid()
	if _, err := db.Restrict(as(owner, casefile.RoleManager), p.ID, casefile.RestrictionInput{Reason: "high-profile case"}); err != nil {
		t.Fatal(err)
	}
	out := as(outsider, casefile.RolePractitioner)
	wantRestricted(t, "before break-glass", db.CanAccessPerson(out, p.ID))
	bg, err := db.BreakGlass(out, p.ID, "Child presented at A&E overnight; duty social worker needs the plan")
	if err != nil {
		t.Fatal(err)
	}
	if d := bg.ExpiresAt.Sub(bg.OpenedAt); d != casefile.BreakGlassFor {
		t.Fatalf("break-glass lasts %v", d)
	}
	if err := db.CanAccessPerson(out, p.ID); err != nil {
		t.Fatalf("after break-glass: %v", err)
	}
	// Someone else is still refused.
	wantRestricted(t, "another outsider", db.CanAccessPerson(as(uid(), casefile.RolePractitioner), p.ID))
	r, err := db.Restriction(as(owner, casefile.RoleManager), p.ID)
	if err != nil || len(r.BreakGlass) != 1 || r.BreakGlass[0].ActorID != outsider || !strings.Contains(r.BreakGlass[0].Reason, "A&E") {
		t.Fatalf("owner's view: %+v %v", r, err)
	}
	ev := events(t, db, p.ID, "access.break_glass")
	if len(ev) != 1 || strings.Contains(string(ev[0].Details), "A&E") {
		t.Fatalf("access.break_glass events: %+v", ev)
	}
	var d map[string]any
	_ = json.Unmarshal(ev[0].Details, &d)
	if d["reason_sha256"] == nil || d["expires_at"] == nil {
		t.Fatalf("details %s", ev[0].Details)
	}
	// The hour passes (moved back as a clock would move on): refused again.
	if _, err := db.Pool().Exec(context.Background(), "UPDATE break_glass SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	wantRestricted(t, "after the hour", db.CanAccessPerson(out, p.ID))
	// Break-glass on a record that is not restricted is refused (nothing to open).
	q := mustPerson(t, db, "B2")
	if _, err := db.BreakGlass(out, q.ID, "why"); casefile.ErrorCode(err) != "not_restricted" {
		t.Fatalf("break-glass on an open record: %v", err)
	}
	// Lifting: by an admin; then everyone may read, the reason kept on the row.
	if err := db.LiftRestriction(as(uid(), casefile.RoleAdmin), p.ID, "Case closed and the relative has left the council"); err != nil {
		t.Fatal(err)
	}
	if err := db.CanAccessPerson(as(uid(), casefile.RolePractitioner), p.ID); err != nil {
		t.Fatalf("after lifting: %v", err)
	}
	var endReason string
	if err := db.Pool().QueryRow(context.Background(), "SELECT end_reason FROM restrictions WHERE person_id = $1", p.ID).Scan(&endReason); err != nil || !strings.Contains(endReason, "relative") {
		t.Fatalf("end reason %q %v", endReason, err)
	}
	if ev := events(t, db, p.ID, "access.lift"); len(ev) != 1 || strings.Contains(string(ev[0].Details), "relative") {
		t.Fatalf("access.lift events %+v", ev)
	}
	if err := db.LiftRestriction(as(uid(), casefile.RoleAdmin), p.ID, "again"); casefile.ErrorCode(err) != "not_restricted" {
		t.Fatalf("lifting twice: %v", err)
	}
}

func TestAdoptionInvolvementRestrictsToTheAdoptionTeam(t *testing.T) {
	db := testenv.Postgres(t)
	adoption := mustTeam(t, db, "Adoption Team")
	member, outsider := mustUser(t, db), uid()
	if err := db.SetUserTeams(actorCtx(), member, []string{adoption.ID}); err != nil {
		t.Fatal(err)
	}
	add := func(p *casefile.Person, kind string) {
		t.Helper()
		if err := db.AddInvolvement(as(uid(), casefile.RolePractitioner), &casefile.Involvement{PersonID: p.ID, Kind: kind,
			StartedOn: casefile.Date{Year: 2020, Month: 1, Day: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	// Not configured: nothing is restricted.
	p0 := mustPerson(t, db, "AD0")
	add(p0, casefile.InvolvementAdoption)
	if err := db.CanAccessPerson(as(outsider, casefile.RolePractitioner), p0.ID); err != nil {
		t.Fatalf("no adoption team configured: %v", err)
	}
	// A name that is no team: nothing is restricted either.
	db.SetAdoptionTeam("No Such Team")
	add(p0, casefile.InvolvementAdoption)
	if err := db.CanAccessPerson(as(outsider, casefile.RolePractitioner), p0.ID); err != nil {
		t.Fatalf("adoption team names no team: %v", err)
	}
	for _, name := range []string{"adoption team", adoption.ID} {
		db.SetAdoptionTeam(name)
		p := mustPerson(t, db, "AD-"+name)
		add(p, casefile.InvolvementChildInNeed)
		if err := db.CanAccessPerson(as(outsider, casefile.RolePractitioner), p.ID); err != nil {
			t.Fatalf("child in need is not restricted: %v", err)
		}
		add(p, casefile.InvolvementAdoption)
		wantRestricted(t, "outsider after adoption ("+name+")", db.CanAccessPerson(as(outsider, casefile.RolePractitioner), p.ID))
		if err := db.CanAccessPerson(as(member, casefile.RolePractitioner), p.ID); err != nil {
			t.Fatalf("adoption team member: %v", err)
		}
		ev := events(t, db, p.ID, "access.restrict")
		if len(ev) != 1 || !strings.Contains(string(ev[0].Details), `"via":"adoption"`) {
			t.Fatalf("access.restrict events %+v", ev)
		}
	}
	// A record already restricted keeps its restriction and gains the team.
	p := mustPerson(t, db, "AD-R")
	named := mustToken(t, db)
	if _, err := db.Restrict(as(uid(), casefile.RoleAdmin), p.ID, casefile.RestrictionInput{Reason: "staff relative", UserIDs: []string{named}}); err != nil {
		t.Fatal(err)
	}
	add(p, casefile.InvolvementAdoption)
	for who, id := range map[string]string{"named": named, "member": member} {
		if err := db.CanAccessPerson(as(id, casefile.RolePractitioner), p.ID); err != nil {
			t.Fatalf("%s after adoption on a restricted record: %v", who, err)
		}
	}
}

func TestTeams(t *testing.T) {
	db := testenv.Postgres(t)
	a := mustTeam(t, db, "Children in Care")
	if _, err := db.CreateTeam(actorCtx(), "children IN care"); casefile.ErrorCode(err) != "team_exists" {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := db.CreateTeam(actorCtx(), "  "); casefile.ErrorKind(err) != casefile.EInvalid {
		t.Fatalf("empty name: %v", err)
	}
	b := mustTeam(t, db, "Adoption")
	ts, err := db.Teams(actorCtx())
	if err != nil || len(ts) != 2 || ts[0].Name != "Adoption" {
		t.Fatalf("teams %+v %v", ts, err)
	}
	u := mustUser(t, db)
	if err := db.SetUserTeams(actorCtx(), uid(), []string{a.ID}); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("teams of a user who does not exist: %v", err)
	}
	if err := db.SetUserTeams(actorCtx(), u, []string{a.ID, uid()}); casefile.ErrorCode(err) != "unknown_team" {
		t.Fatalf("unknown team: %v", err)
	}
	if err := db.SetUserTeams(actorCtx(), u, []string{a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserTeams(actorCtx(), u, []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := db.UserTeams(actorCtx(), u)
	if err != nil || len(got) != 1 || got[0] != b.ID {
		t.Fatalf("user teams %v %v", got, err)
	}
	if _, err := db.Restrict(actorCtx(), mustPerson(t, db, "T1").ID, casefile.RestrictionInput{Reason: "x", TeamIDs: []string{uid()}}); casefile.ErrorCode(err) != "unknown_team" {
		t.Fatalf("restricting to an unknown team: %v", err)
	}
	if _, err := db.Restrict(actorCtx(), mustPerson(t, db, "T2").ID, casefile.RestrictionInput{Reason: "x", UserIDs: []string{uid()}}); casefile.ErrorCode(err) != "unknown_user" {
		t.Fatalf("naming someone who is neither a user nor a token: %v", err)
	}
}
