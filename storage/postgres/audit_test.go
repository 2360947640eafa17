package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

func actorCtx() context.Context {
	return casefile.WithActor(context.Background(), casefile.Actor{Name: "tester", Role: casefile.RoleAdmin})
}

func mustPerson(t *testing.T, db interface {
	CreatePerson(context.Context, *casefile.Person) error
}, ref string) *casefile.Person {
	t.Helper()
	dob := casefile.Date{Year: 2012, Month: 3, Day: 4}
	p := &casefile.Person{ExternalRef: ref, GivenName: "Amy", FamilyName: "Pond", DateOfBirth: &dob}
	if err := db.CreatePerson(actorCtx(), p); err != nil {
		t.Fatalf("create person: %v", err)
	}
	return p
}

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := actorCtx()
	cases := []struct {
		name    string
		tamper  string
		wantBad []int64 // the first bad event reported; for a deleted event, the next one in its chain (any later seq) or the missing head
	}{
		{"edited details", "UPDATE audit_events SET details = '{\"external_ref\":\"X\"}' WHERE seq = 2", []int64{2}},
		{"edited actor", "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3", []int64{3}},
		{"deleted event", "DELETE FROM audit_events WHERE seq = 2", []int64{2, 3, 4}},
		{"deleted newest event", "DELETE FROM audit_events WHERE seq = 4", []int64{4}},
		{"reordered events", "UPDATE audit_events SET seq = -2 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = -2", []int64{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.Postgres(t)
			for _, ref := range []string{"A1", "A2", "A3", "A4"} {
				mustPerson(t, db, ref)
			}
			v, err := db.VerifyAudit(ctx)
			if err != nil || !v.OK || v.Events != 4 {
				t.Fatalf("before tampering: %+v, %v", v, err)
			}
			// The trigger refuses the change for an ordinary session.
			if _, err := db.Pool().Exec(ctx, tc.tamper); err == nil {
				t.Fatal("the database let an audit event be changed")
			}
			// A superuser bypassing triggers is caught by the chain.
			testenv.Tamper(t, db, tc.tamper)
			v, err = db.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.FirstBadSeq == nil || !slices.Contains(tc.wantBad, *v.FirstBadSeq) {
				t.Fatalf("verify after tampering = %+v, want first bad seq %d", v, tc.wantBad)
			}
		})
	}
}

func TestPersonReadsAreAudited(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "R1")
	if _, err := db.Person(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action+"/"+e.Actor)
	}
	want := []string{"person.create/tester", "person.read/tester"}
	if len(actions) != 2 || actions[0] != want[0] || actions[1] != want[1] {
		t.Fatalf("audit actions = %v, want %v", actions, want)
	}
	if err := db.CreatePerson(ctx, &casefile.Person{ExternalRef: "R1", GivenName: "B", FamilyName: "C"}); casefile.ErrorCode(err) != "external_ref_taken" {
		t.Fatalf("duplicate external_ref: %v", err)
	}
}

// Audited writes racing on the same chains keep every chain whole: each
// transaction appends under its chain's head row lock, drawing its sequence
// number after taking it, so sequence numbers rise along each chain and
// VerifyAudit, walking by sequence, finds every link.
func TestAuditChainsStayWholeUnderConcurrentWrites(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				dob := casefile.Date{Year: 2012, Month: 3, Day: 4}
				p := &casefile.Person{ExternalRef: fmt.Sprintf("C-%d-%d", w, i), GivenName: "Amy", FamilyName: "Pond", DateOfBirth: &dob}
				if err := db.CreatePerson(ctx, p); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Events != 64 {
		t.Fatalf("verify = %+v, %v; want 64 events, all linked", v, err)
	}
	var chains int
	if err := db.Pool().QueryRow(ctx, "SELECT count(DISTINCT chain) FROM audit_events").Scan(&chains); err != nil || chains < 2 {
		t.Fatalf("events fell on %d chains (%v); the test needs several", chains, err)
	}
}

// Auditors filter the log by action, by a family of actions and by target.
func TestAuditFilters(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	a, b := mustPerson(t, db, "F1"), mustPerson(t, db, "F2")
	for _, id := range []string{a.ID, a.ID, b.ID} {
		if _, err := db.Person(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	count := func(f casefile.AuditFilter) int {
		t.Helper()
		evs, _, err := db.AuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	for _, c := range []struct {
		f    casefile.AuditFilter
		want int
	}{
		{casefile.AuditFilter{Action: "person.read"}, 3},
		{casefile.AuditFilter{Action: "person.*"}, 5},
		{casefile.AuditFilter{Action: "person.*", TargetID: a.ID}, 3},
		{casefile.AuditFilter{Action: "person.read", PersonID: b.ID}, 1},
		{casefile.AuditFilter{Action: "pers_n.*"}, 0}, // "_" is a letter here, not a wildcard
		{casefile.AuditFilter{Action: "document.*"}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%+v: %d events, want %d", c.f, got, c.want)
		}
	}
}
