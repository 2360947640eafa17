package retention_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
)

// scheduleWith is the shipped schedule with early help kept for period.
func scheduleWith(t *testing.T, period string) *retention.Schedule {
	t.Helper()
	b, err := os.ReadFile("schedule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const from = "record_class: early_help\n    period: 30y"
	if !strings.Contains(string(b), from) {
		t.Fatal("schedule.yaml no longer has the early help rule this test edits")
	}
	s, err := retention.ParseSchedule([]byte(strings.Replace(string(b), from, "record_class: early_help\n    period: "+period, 1)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A changed schedule that would make more than 1% of the records due at once
// is refused at start, naming CASEFILE_RETENTION_SCHEDULE_CONFIRM and the
// schedule's sha256; started with that confirmation it is accepted, and the
// records it brought forward are held for review, not listed for disposal.
func TestScheduleChangeMakingManyDueIsRefusedUntilConfirmed(t *testing.T) {
	e := newEnv(t)
	shipped := retention.DefaultSchedule()
	e.db.SetRetentionPolicy(retention.Policy{S: shipped})
	today := casefile.Today()
	// On a fresh database the shipped schedule is simply recorded.
	if err := retention.GuardScheduleChange(e.ctx, e.db, shipped, "", today); err != nil {
		t.Fatal(err)
	}
	var persons []*casefile.Person
	for i := range 5 {
		dob := casefile.DateOf(today.Time().AddDate(-20, 0, -i))
		p := &casefile.Person{ExternalRef: fmt.Sprintf("EH-%d", i), GivenName: "G", FamilyName: "F", DateOfBirth: &dob}
		if err := e.db.CreatePerson(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		ended := casefile.DateOf(today.Time().AddDate(-15, 0, 0))
		if err := e.db.AddInvolvement(e.ctx, &casefile.Involvement{PersonID: p.ID, Kind: "early_help",
			StartedOn: casefile.DateOf(today.Time().AddDate(-16, 0, 0)), EndedOn: &ended}); err != nil {
			t.Fatal(err)
		}
		persons = append(persons, p)
	}
	settled(t, e.db)
	// Unchanged: nothing to check.
	if err := retention.GuardScheduleChange(e.ctx, e.db, shipped, "", today); err != nil {
		t.Fatal(err)
	}
	// Keeping records longer makes nobody due: accepted without confirming.
	longer := scheduleWith(t, "40y")
	if err := retention.GuardScheduleChange(e.ctx, e.db, longer, "", today); err != nil {
		t.Fatalf("a schedule that makes nobody due: %v", err)
	}
	// Early help for 10 years makes all five due at once: refused.
	shorter := scheduleWith(t, "10y")
	err := retention.GuardScheduleChange(e.ctx, e.db, shorter, "", today)
	var refused *retention.ScheduleRefused
	if !errors.As(err, &refused) || refused.NewlyDue != 5 || refused.Persons != 5 ||
		!strings.Contains(err.Error(), "CASEFILE_RETENTION_SCHEDULE_CONFIRM="+shorter.SHA256()) {
		t.Fatalf("refusal: %v", err)
	}
	if err := retention.GuardScheduleChange(e.ctx, e.db, shorter, "not-the-hash", today); !errors.As(err, &refused) {
		t.Fatalf("a wrong confirmation: %v", err)
	}
	if err := retention.GuardScheduleChange(e.ctx, e.db, shorter, shorter.SHA256(), today); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	if cur, err := e.db.CurrentSchedule(e.ctx); err != nil || cur != shorter.SHA256() {
		t.Fatalf("schedule in force: %q %v", cur, err)
	}
	// The sweep assesses everyone under it; what it brought forward waits
	// in the review queue for the settle period.
	e.db.SetRetentionPolicy(retention.Policy{S: shorter})
	rep, err := e.sweep.Sweep(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := e.review()
	for _, p := range persons {
		if got := reasonCodes(q[p.ID]); got != "schedule_changed" {
			t.Fatalf("review queue for %s: %s", p.ExternalRef, got)
		}
	}
	run, err := e.runner.Execute(e.ctx, rep.RunID)
	if err != nil || run.State != "done" || run.Due != 0 || run.Review != 5 || run.Destroyed != 0 {
		t.Fatalf("run after the schedule change: %+v %v", run, err)
	}
}
