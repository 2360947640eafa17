package retention_test

import (
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
)

func (e *env) decide(p *casefile.Person, decision string, until *casefile.Date, reason string) error {
	e.t.Helper()
	return e.db.DecideReview(e.ctx, &casefile.ReviewDecision{PersonID: p.ID, Decision: decision, Until: until, Reason: reason})
}

// A record kept by a records officer stays off disposal lists until the
// date decided, shows in the review queue as kept, and is listed again
// once the date has passed. The reason is on the decision, its digest in
// the log.
func TestKeptRecordIsNotListedUntilItsDate(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-2))
	ad := e.document(a, "letter about A")
	b := e.person("B", casefile.Today().AddDays(-2))
	bd := e.document(b, "letter about B")
	later := e.person("L", casefile.Today().AddDays(10))
	until := casefile.Today().AddDays(60)

	today := casefile.Today()
	for _, c := range []struct {
		p      *casefile.Person
		until  *casefile.Date
		reason string
		code   string
	}{
		{a, &today, "x", "keep_until_past"},
		{a, nil, "x", "keep_until_past"},
		{a, &until, "  ", "missing_reason"},
		{later, &until, "x", "not_past_its_date"},
	} {
		if err := e.decide(c.p, casefile.DecisionKeep, c.until, c.reason); casefile.ErrorCode(err) != c.code {
			t.Errorf("keep %s until %v reason %q: %v, want %s", c.p.ExternalRef, c.until, c.reason, err, c.code)
		}
	}
	if err := e.db.DecideReview(e.as(casefile.Actor{Name: "system:sweep", Role: casefile.RoleSystem}),
		&casefile.ReviewDecision{PersonID: a.ID, Decision: casefile.DecisionKeep, Until: &until, Reason: "x"}); casefile.ErrorCode(err) != "system_cannot_decide" {
		t.Errorf("the system deciding: %v", err)
	}

	const reason = "Sibling's care proceedings still cite this record"
	if err := e.decide(a, casefile.DecisionKeep, &until, reason); err != nil {
		t.Fatal(err)
	}
	q := e.review()
	if got := reasonCodes(q[a.ID]); got != "kept" || *q[a.ID].Reasons[0].Until != until {
		t.Fatalf("review queue for the kept record: %s %+v", got, q[a.ID])
	}
	if _, ok := q[b.ID]; ok {
		t.Fatal("a record nobody kept is in the review queue")
	}
	run := e.listed()
	items := e.items(run.ID)
	if it := items[ad.ID]; it.State != "review" || !strings.Contains(it.Why, "kept by a records officer until "+until.String()) {
		t.Fatalf("kept record's item on the next list: %+v", it)
	}
	if it := items[bd.ID]; it.State != "due" {
		t.Fatalf("the other record: %+v", it)
	}
	if _, err := e.db.RejectRun(e.ctx, run.ID, "checking"); err != nil {
		t.Fatal(err)
	}

	// Once its date has passed, the record is listed again.
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_review_decisions SET keep_until = current_date"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.review()[a.ID]; ok {
		t.Fatal("still in the review queue after the date it was kept until")
	}
	if it := e.items(e.listed().ID)[ad.ID]; it.State != "due" {
		t.Fatalf("after the keep date: %+v", it)
	}

	var details string
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT details::text FROM audit_events WHERE action = 'retention.review.keep' AND person_id = $1`,
		a.ID).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(details, "Sibling") || !strings.Contains(details, "reason_sha256") || !strings.Contains(details, until.String()) {
		t.Fatalf("audit of the keep decision: %s", details)
	}
}

// A record returned to the disposal lists is on the next list although an
// exclusion, a recent change of its dates or its "review" class kept it,
// and the run destroys it once approved. An open involvement or a hold
// still keeps it: a return is refused while they stand. A later keep
// decision stands over the return.
func TestReturnedRecordIsOnTheNextList(t *testing.T) {
	e := newEnv(t)
	settledP := e.person("S", casefile.Today().AddDays(-5))
	sd := e.document(settledP, "letter about S")
	excl := e.person("X", casefile.Today().AddDays(-5))
	xd := e.document(excl, "letter about X")

	// X is excluded from a list, which is then rejected.
	run := e.listed()
	if _, err := e.db.ExcludeFromRun(e.ctx, run.ID, casefile.Exclusion{ItemIDs: []string{xd.ID}, Reason: "complaint", ReviewOn: casefile.Today().AddDays(90)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.RejectRun(e.ctx, run.ID, "checking"); err != nil {
		t.Fatal(err)
	}
	// C's dates changed just now: inside the settle period.
	changed := e.person("C", casefile.Today().AddDays(-5))
	cd := e.document(changed, "letter about C")
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE person_retention SET inputs_changed_at = now() WHERE person_id = $1", changed.ID); err != nil {
		t.Fatal(err)
	}
	q := e.review()
	if reasonCodes(q[excl.ID]) != "exclusion" || reasonCodes(q[changed.ID]) != "settle_period" {
		t.Fatalf("review queue before the returns: X %s, C %s", reasonCodes(q[excl.ID]), reasonCodes(q[changed.ID]))
	}

	for _, p := range []*casefile.Person{excl, changed} {
		if err := e.decide(p, casefile.DecisionReturn, nil, "complaint resolved"); err != nil {
			t.Fatal(err)
		}
	}
	q = e.review()
	if _, ok := q[excl.ID]; ok {
		t.Fatalf("returned record still in the review queue: %s", reasonCodes(q[excl.ID]))
	}
	if _, ok := q[changed.ID]; ok {
		t.Fatalf("returned record still in the review queue: %s", reasonCodes(q[changed.ID]))
	}
	next := e.listed()
	items := e.items(next.ID)
	for _, d := range []doc{sd, xd, cd} {
		if items[d.ID].State != "due" {
			t.Fatalf("item %s on the list after the returns: %+v", d.ID, items[d.ID])
		}
	}
	if _, err := e.db.ApproveRun(e.as(officer("approver")), next.ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, next.ID)
	if err != nil || done.State != "done" || e.versions(xd.Key) != 0 || e.versions(cd.Key) != 0 {
		t.Fatalf("the approved run over returned records: %+v %v", done, err)
	}

	// An open involvement or a hold keeps a record whatever is decided.
	open := e.person("O", casefile.Today().AddDays(-5))
	if err := e.db.AddInvolvement(e.ctx, &casefile.Involvement{PersonID: open.ID, Kind: "child_in_need", StartedOn: casefile.Today().AddDays(-100)}); err != nil {
		t.Fatal(err)
	}
	if err := e.decide(open, casefile.DecisionReturn, nil, ""); casefile.ErrorCode(err) != "open_involvement" {
		t.Fatalf("return of an open record: %v", err)
	}
	held := e.person("H", casefile.Today().AddDays(-5))
	if err := e.db.CreateHold(e.ctx, &casefile.Hold{Name: "Inquiry", Reason: "inquiry", PersonIDs: []string{held.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := e.decide(held, casefile.DecisionReturn, nil, ""); casefile.ErrorCode(err) != "under_hold" {
		t.Fatalf("return of a held record: %v", err)
	}

	// Keep after return: the keep stands.
	back := e.person("K", casefile.Today().AddDays(-5))
	kd := e.document(back, "letter about K")
	until := casefile.Today().AddDays(30)
	if err := e.decide(back, casefile.DecisionReturn, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.decide(back, casefile.DecisionKeep, &until, "new information"); err != nil {
		t.Fatal(err)
	}
	if it := e.items(e.run(true, casefile.Today()).ID)[kd.ID]; it.State != "review" {
		t.Fatalf("kept after a return: %+v", it)
	}
}

// A record whose class the schedule says review is never listed, until a
// records officer returns it: then the next run lists and, once approved,
// destroys it.
func TestReturnedReviewClassRecordIsDestroyedOnceApproved(t *testing.T) {
	e := newEnv(t)
	e.db.SetRetentionPolicy(retention.Policy{S: retention.DefaultSchedule()})
	dob := casefile.Date{Year: 2010, Month: 1, Day: 1}
	p := &casefile.Person{ExternalRef: "ANO", GivenName: "A", FamilyName: "N", DateOfBirth: &dob}
	if err := e.db.CreatePerson(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	ended := casefile.Date{Year: 2012, Month: 6, Day: 1}
	if err := e.db.AddInvolvement(e.ctx, &casefile.Involvement{PersonID: p.ID, Kind: "adoption_no_order",
		StartedOn: casefile.Date{Year: 2011, Month: 1, Day: 1}, EndedOn: &ended}); err != nil {
		t.Fatal(err)
	}
	settled(t, e.db)
	d := e.document(p, "assessment")
	if got := reasonCodes(e.review()[p.ID]); got != "review_class" {
		t.Fatalf("review queue: %s", got)
	}
	if err := e.decide(p, casefile.DecisionReturn, nil, "reviewed: nothing to keep"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.review()[p.ID]; ok {
		t.Fatal("returned record still in the review queue")
	}
	run := e.listed()
	if it := e.items(run.ID)[d.ID]; it.State != "due" {
		t.Fatalf("returned review-class record on the list: %+v", it)
	}
	if _, err := e.db.ApproveRun(e.as(officer("approver")), run.ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, run.ID)
	if err != nil || done.Destroyed != 2 || e.versions(d.Key) != 0 {
		t.Fatalf("run: %+v %v", done, err)
	}
}
