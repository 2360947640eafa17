package postgres_test

import (
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

func TestOverdueDisclosuresAreOpenOnesPastTheirDate(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	p := mustPerson(t, db, "DISC-OVERDUE")
	date := func(s string) casefile.Date {
		d, err := casefile.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	open := func(received string) *casefile.Disclosure {
		d, err := db.CreateDisclosure(ctx, p.ID, casefile.DisclosureInput{Purpose: "subject_access", Requester: "Mr Requester",
			ReceivedOn: date(received), DueOn: casefile.StatutoryDue(date(received))})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	late, done, notYet := open("2026-01-31"), open("2026-01-15"), open("2026-02-20")
	if _, err := db.Pool().Exec(ctx, "UPDATE disclosures SET state = 'ready' WHERE id = $1", done.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(asOf string) []string {
		ds, err := db.OverdueDisclosures(ctx, date(asOf))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
			if d.Requester != "" {
				t.Errorf("the overdue list carries the requester's name")
			}
		}
		return out
	}
	if got := ids("2026-02-28"); len(got) != 0 {
		t.Errorf("due on 28 February, overdue on that day: %v", got)
	}
	if got := ids("2026-03-01"); len(got) != 1 || got[0] != late.ID {
		t.Errorf("overdue on 1 March: %v, want only %s", got, late.ID)
	}
	if got := ids("2026-03-21"); len(got) != 2 || got[0] != late.ID || got[1] != notYet.ID {
		t.Errorf("overdue on 21 March: %v", got)
	}
	// The audit event keeps the requester's digest, not the name.
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Action: "disclosure.create", TargetID: late.ID})
	if err != nil || len(evs) != 1 || string(evs[0].Details) == "" {
		t.Fatalf("%v %v", evs, err)
	}
	if s := string(evs[0].Details); !strings.Contains(s, "requester_sha256") || strings.Contains(s, "Requester") {
		t.Errorf("disclosure.create details: %s", s)
	}
}
