package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

func TestSignInMakesAndUpdatesUsers(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	in := casefile.SignIn{Issuer: "https://login.microsoftonline.com/t/v2.0", Subject: "abc", Name: "Jo Bloggs", Email: "jo@council.test"}
	u, err := db.SignInUser(ctx, in)
	if err != nil || u.Role != "" || u.Name != "Jo Bloggs" || u.ID == "" {
		t.Fatalf("first sign-in: %+v %v", u, err)
	}
	// An admin gives a role; a sign-in without the role claim keeps it,
	// while name and email follow the provider.
	mgr := casefile.RoleManager
	if _, err := db.UpdateUser(actorCtx(), u.ID, casefile.UserUpdate{Role: &mgr}); err != nil {
		t.Fatal(err)
	}
	in.Name, in.Email = "Jo Smith", "jo.smith@council.test"
	again, err := db.SignInUser(ctx, in)
	if err != nil || again.ID != u.ID || again.Role != casefile.RoleManager || again.Name != "Jo Smith" || again.Email != "jo.smith@council.test" {
		t.Fatalf("second sign-in: %+v %v", again, err)
	}
	// The role claim, when present, wins.
	aud := casefile.RoleAuditor
	in.Role = &aud
	if again, err = db.SignInUser(ctx, in); err != nil || again.Role != casefile.RoleAuditor {
		t.Fatalf("claimed role: %+v %v", again, err)
	}
	// Another issuer with the same subject is another person.
	other, err := db.SignInUser(ctx, casefile.SignIn{Issuer: "https://idp.other", Subject: "abc", Name: "Not Jo"})
	if err != nil || other.ID == u.ID {
		t.Fatalf("other issuer: %+v %v", other, err)
	}
	users, _, err := db.Users(ctx, casefile.Page{})
	if err != nil || len(users) != 2 {
		t.Fatalf("users: %v %v", users, err)
	}
	evs, _, _ := db.AuditEvents(actorCtx(), casefile.AuditFilter{TargetID: u.ID})
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+"/"+e.Actor+"/"+e.ActorID)
	}
	want := []string{"user.create/Jo Bloggs/" + u.ID, "user.sign_in/Jo Bloggs/" + u.ID, "user.update/tester/",
		"user.sign_in/Jo Smith/" + u.ID, "user.role/Jo Smith/" + u.ID, "user.sign_in/Jo Smith/" + u.ID}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
	// Bad input changes nothing.
	bad := casefile.Role("boss")
	if _, err := db.UpdateUser(actorCtx(), u.ID, casefile.UserUpdate{Role: &bad}); casefile.ErrorKind(err) != casefile.EUnprocessable {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := db.UpdateUser(actorCtx(), "0190a0c0-0000-7000-8000-000000000000", casefile.UserUpdate{Role: &mgr}); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := db.SignInUser(ctx, casefile.SignIn{Issuer: "x"}); casefile.ErrorKind(err) != casefile.EInvalid {
		t.Fatalf("no subject: %v", err)
	}
}

func TestAuditEventsCarryTheActorsID(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{ID: "0190a0c0-0000-7000-8000-00000000000a", Kind: casefile.ActorUser, Name: "Jo Bloggs", Role: casefile.RolePractitioner})
	p := &casefile.Person{ExternalRef: "X-1", GivenName: "A", FamilyName: "B", DateOfBirth: &casefile.Date{Year: 2010, Month: 1, Day: 1}}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID})
	if len(evs) == 0 || evs[0].ActorID != "0190a0c0-0000-7000-8000-00000000000a" || evs[0].Actor != "Jo Bloggs" {
		t.Fatalf("events = %+v", evs)
	}
	// Changing the id afterwards breaks the event's hash.
	testenv.Tamper(t, db, "UPDATE audit_events SET actor_id = '0190a0c0-0000-7000-8000-00000000000b' WHERE seq = "+strconv.FormatInt(evs[0].Seq, 10))
	if v, err := db.VerifyAudit(ctx); err != nil || v.OK || *v.FirstBadSeq != evs[0].Seq {
		t.Fatalf("verify after changing actor_id: %+v %v", v, err)
	}
}
