package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/retention"
)

// listed plans a real run as of today and returns it awaiting approval.
func (e *env) listed() *casefile.RetentionRun {
	e.t.Helper()
	r, err := e.db.CreateRun(e.ctx, false, casefile.Today())
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if got.State != casefile.RunAwaitingApproval {
		e.t.Fatalf("run state %s, want awaiting_approval", got.State)
	}
	return got
}

func (e *env) as(a casefile.Actor) context.Context {
	return casefile.WithActor(context.Background(), a)
}

func (e *env) review() map[string]*casefile.ReviewEntry {
	e.t.Helper()
	out := map[string]*casefile.ReviewEntry{}
	cursor := ""
	for {
		es, next, err := e.db.ReviewQueue(e.ctx, casefile.Page{Limit: 1, Cursor: cursor})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, x := range es {
			out[x.PersonID] = x
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

func reasonCodes(x *casefile.ReviewEntry) string {
	if x == nil {
		return "<not in the review queue>"
	}
	var codes []string
	for _, r := range x.Reasons {
		codes = append(codes, r.Code)
	}
	return strings.Join(codes, ",")
}

// A real run stops with its disposal list before anything is destroyed;
// the list names each item's person, class, dates and sha256 and nothing of
// its content; a records officer's approval lets the run destroy exactly it,
// and the certificate names the approver by id and name.
func TestRealRunStopsForApprovalAndDestroysNothing(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-3)
	a := e.person("A", due)
	d := e.document(a, "letter about A")
	got := e.listed()
	if got.Destroyed != 0 || got.Due != 2 || got.Certificate != nil || got.ApprovalsRequired != 1 || got.ExpiresAt == nil ||
		got.ExpiresAt.Sub(*got.AwaitingSince) != 30*24*time.Hour {
		t.Fatalf("real run before approval: %+v", got)
	}
	if st, text, _ := e.docState(d.ID); st != "active" || text == nil || e.versions(d.Key) != 1 {
		t.Fatalf("a document was destroyed without approval: %s", st)
	}
	items := e.items(got.ID)
	it := items[d.ID]
	wantTrigger := casefile.DateOf(due.Time().AddDate(-30, 0, 0))
	if it == nil || it.State != "due" || it.PersonID != a.ID || it.RecordClass != "early_help" || it.SHA256 != d.SHA ||
		it.TriggerDate == nil || *it.TriggerDate != wantTrigger || it.DisposalDueOn == nil || *it.DisposalDueOn != due {
		t.Fatalf("disposal list item: %+v", it)
	}
	b, _ := json.Marshal(items)
	if strings.Contains(string(b), "letter about A") || strings.Contains(string(b), "Given A") {
		t.Fatalf("the disposal list shows content: %s", b)
	}
	// Carrying out the task again (a redelivery) does not destroy.
	if again, err := e.runner.Execute(e.ctx, got.ID); err != nil || again.State != casefile.RunAwaitingApproval || e.versions(d.Key) != 1 {
		t.Fatalf("redelivered before approval: %+v %v", again, err)
	}
	// Nor does storage destroy for a caller that skips the approval.
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_runs SET state = 'running' WHERE id = $1", got.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.DestroyBatch(e.ctx, got.ID, 10, func(context.Context, []string, []string) (map[string]error, error) {
		t.Fatal("destroy called for an unapproved run")
		return nil, nil
	}); casefile.ErrorCode(err) != "run_not_approved" {
		t.Fatalf("destroy batch of an unapproved run: %v", err)
	}
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_runs SET state = 'awaiting_approval' WHERE id = $1", got.ID); err != nil {
		t.Fatal(err)
	}

	approver := officer("Jo Officer")
	approved, err := e.db.ApproveRun(e.as(approver), got.ID)
	if err != nil || approved.State != casefile.RunApproved || len(approved.Approvals) != 1 || approved.Approvals[0].ID != approver.ID {
		t.Fatalf("approve: %+v %v", approved, err)
	}
	done, err := e.runner.Execute(e.ctx, got.ID)
	if err != nil || done.State != "done" || done.Destroyed != 2 || e.versions(d.Key) != 0 {
		t.Fatalf("after approval: %+v %v", done, err)
	}
	c := done.Certificate
	if c == nil || c.ApprovedBy != "Jo Officer" || len(c.Approvers) != 1 || c.Approvers[0].ID != approver.ID || c.Approvers[0].Name != "Jo Officer" {
		t.Fatalf("certificate approvers: %+v", c)
	}
	if _, err := e.db.ApproveRun(e.as(officer("late")), got.ID); casefile.ErrorCode(err) != "run_not_awaiting_approval" {
		t.Fatalf("approving a finished run: %v", err)
	}
}

// With two approvers configured, two different people must approve: the
// same id twice is refused (same_person), and the system never approves.
func TestTwoApproversMustBeDifferentPeople(t *testing.T) {
	e := newEnv(t)
	s := casefile.DefaultDisposal()
	s.Approvers = 2
	e.db.SetDisposal(s)
	a := e.person("A", casefile.Today().AddDays(-1))
	d := e.document(a, "letter")
	run := e.listed()
	if run.ApprovalsRequired != 2 {
		t.Fatalf("approvals required %d", run.ApprovalsRequired)
	}
	first := officer("Sam Same")
	r, err := e.db.ApproveRun(e.as(first), run.ID)
	if err != nil || r.State != casefile.RunAwaitingApproval || len(r.Approvals) != 1 {
		t.Fatalf("first approval: %+v %v", r, err)
	}
	// The same person again, under another name: same id, refused.
	again := first
	again.Name = "S. Same"
	if _, err := e.db.ApproveRun(e.as(again), run.ID); casefile.ErrorCode(err) != "same_person" || casefile.ErrorKind(err) != casefile.EConflict {
		t.Fatalf("same person twice: %v", err)
	}
	// Someone with the same name but another id is another person; first
	// the system and an actor with no id are refused.
	for _, who := range []casefile.Actor{casefile.SystemActor("retention"), {Name: "nobody", Role: casefile.RoleRecordsOfficer}} {
		if _, err := e.db.ApproveRun(e.as(who), run.ID); casefile.ErrorCode(err) != "system_cannot_approve" || casefile.ErrorKind(err) != casefile.EForbidden {
			t.Fatalf("approval by %+v: %v", who, err)
		}
	}
	if e.versions(d.Key) != 1 {
		t.Fatal("destroyed on one approval")
	}
	second := officer("Sam Same")
	r, err = e.db.ApproveRun(e.as(second), run.ID)
	if err != nil || r.State != casefile.RunApproved || len(r.Approvals) != 2 {
		t.Fatalf("second approval: %+v %v", r, err)
	}
	done, err := e.runner.Execute(e.ctx, run.ID)
	if err != nil || done.Destroyed != 2 || e.versions(d.Key) != 0 {
		t.Fatalf("after two approvals: %+v %v", done, err)
	}
	ids := map[string]bool{}
	for _, ap := range done.Certificate.Approvers {
		ids[ap.ID] = true
	}
	if len(ids) != 2 || !ids[first.ID] || !ids[second.ID] {
		t.Fatalf("certificate approvers: %+v", done.Certificate.Approvers)
	}
}

// An excluded record is not destroyed with the list; it waits in the
// review queue until its review date, and later runs keep it out until
// then. The officer's reason is not in the audit log.
func TestExcludedRecordIsKeptAndReviewedOnItsDate(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-2))
	ad := e.document(a, "letter about A")
	an := e.note(a, "note on A")
	b := e.person("B", casefile.Today().AddDays(-2))
	bd := e.document(b, "letter about B")
	run := e.listed()
	reviewOn := casefile.Today().AddDays(90)
	if _, err := e.db.ExcludeFromRun(e.ctx, run.ID, casefile.Exclusion{ItemIDs: []string{newID(t)}, Reason: "x", ReviewOn: reviewOn}); casefile.ErrorCode(err) != "unknown_item" {
		t.Fatalf("excluding an item not on the list: %v", err)
	}
	if _, err := e.db.ExcludeFromRun(e.ctx, run.ID, casefile.Exclusion{ItemIDs: []string{ad.ID}, Reason: "x", ReviewOn: casefile.Today()}); casefile.ErrorCode(err) != "review_on_past" {
		t.Fatalf("review_on today: %v", err)
	}
	const reason = "Complaint by the mother pending; keep until resolved"
	x, err := e.db.ExcludeFromRun(e.ctx, run.ID, casefile.Exclusion{ItemIDs: []string{ad.ID}, Reason: reason, ReviewOn: reviewOn})
	if err != nil || x.Due != 2 || x.Review != 3 {
		t.Fatalf("exclude: %+v %v", x, err)
	}
	items := e.items(run.ID)
	for _, id := range []string{ad.ID, an, a.ID} { // the whole record, not just the named document
		if items[id].State != "review" || !strings.Contains(items[id].Why, reviewOn.String()) {
			t.Fatalf("excluded record's item %s: %+v", id, items[id])
		}
	}
	if _, err := e.db.ApproveRun(e.as(officer("approver")), run.ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, run.ID)
	if err != nil || done.Destroyed != 2 || e.versions(bd.Key) != 0 || e.versions(ad.Key) != 1 {
		t.Fatalf("after approval: %+v %v", done, err)
	}
	if st, body := e.noteBody(an); st != "active" || body == nil {
		t.Fatalf("excluded note destroyed: %s", st)
	}
	q := e.review()
	if got := reasonCodes(q[a.ID]); got != "exclusion" || q[a.ID].Reasons[0].Until == nil || *q[a.ID].Reasons[0].Until != reviewOn {
		t.Fatalf("review queue for the excluded record: %s %+v", got, q[a.ID])
	}
	// The next run keeps it out until the review date...
	next := e.run(false, casefile.Today())
	if next.Destroyed != 0 || e.items(next.ID)[ad.ID].State != "review" {
		t.Fatalf("a run before the review date: %+v", next)
	}
	// ...after which it is listed again.
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_exclusions SET review_on = current_date - 1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.review()[a.ID]; ok {
		t.Fatal("still in the review queue after its review date")
	}
	later := e.listed()
	if it := e.items(later.ID)[ad.ID]; it.State != "due" {
		t.Fatalf("after the review date: %+v", it)
	}
	var details string
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT string_agg(details::text, ' ') FROM audit_events").Scan(&details); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(details, "Complaint by the mother") {
		t.Fatal("the exclusion reason is in the append-only audit log")
	}
	// What the log keeps of it is typedText's digest, the one shape of a
	// reason everywhere: reason_sha256 and reason_chars beside the details.
	sum := sha256.Sum256([]byte(reason))
	for _, action := range []string{"retention.run.exclude"} {
		var raw string
		if err := e.db.Pool().QueryRow(e.ctx, "SELECT details FROM audit_events WHERE action = $1 LIMIT 1", action).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		if d["reason_sha256"] != hex.EncodeToString(sum[:]) || d["reason_chars"] != float64(len(reason)) || d["reason"] != nil {
			t.Errorf("%s details = %v, want reason_sha256 and reason_chars", action, d)
		}
	}
}

// A list nobody approves in its time expires: nothing on it is destroyed,
// it can no longer be approved, and a new run can be made.
func TestUnapprovedListExpires(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-1))
	d := e.document(a, "letter")
	run := e.listed()
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_runs SET expires_at = now() - interval '1 second' WHERE id = $1", run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ApproveRun(e.as(officer("late")), run.ID); casefile.ErrorCode(err) != "run_expired" {
		t.Fatalf("approving an expired list: %v", err)
	}
	got, err := e.db.RetentionRun(e.ctx, run.ID)
	if err != nil || got.State != casefile.RunExpired || got.FinishedAt == nil {
		t.Fatalf("expired run: %+v %v", got, err)
	}
	if e.versions(d.Key) != 1 {
		t.Fatal("an expired list destroyed something")
	}
	// The task redelivered does nothing; a new run lists it again.
	if r, err := e.runner.Execute(e.ctx, run.ID); err != nil || r.State != casefile.RunExpired {
		t.Fatalf("redelivery of an expired run: %+v %v", r, err)
	}
	if fresh := e.listed(); fresh.Due != 2 {
		t.Fatalf("new run after expiry: %+v", fresh)
	}
}

// A rejected list destroys nothing and cannot be approved after.
func TestRejectedListDestroysNothing(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-1))
	d := e.document(a, "letter")
	run := e.listed()
	r, err := e.db.RejectRun(e.ctx, run.ID, "The schedule for early help is under review")
	if err != nil || r.State != casefile.RunRejected || r.RejectReason == "" || r.RejectedBy != "officer" {
		t.Fatalf("reject: %+v %v", r, err)
	}
	if _, err := e.db.ApproveRun(e.as(officer("x")), run.ID); casefile.ErrorCode(err) != "run_not_awaiting_approval" {
		t.Fatalf("approve after reject: %v", err)
	}
	if e.versions(d.Key) != 1 {
		t.Fatal("a rejected list destroyed something")
	}
}

// A date of birth back-dated today makes the record due at once, but it is
// held for review for the settle period, not listed; the change is audited
// with its old and new value. Once the settle period has passed the record
// is listed.
func TestChangedDatesSettleBeforeDisposal(t *testing.T) {
	e := newEnv(t)
	p := e.person("P", casefile.Today().AddDays(4000))
	d := e.document(p, "letter")
	oldDOB := *p.DateOfBirth
	newDOB := casefile.DateOf(casefile.Today().Time().AddDate(-31, 0, 0))
	if _, err := e.db.UpdatePerson(e.ctx, p.ID, casefile.PersonUpdate{DateOfBirth: &newDOB}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := e.db.AuditEvents(e.ctx, casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var upd map[string]any
	for _, ev := range evs {
		if ev.Action == "person.update" {
			json.Unmarshal(ev.Details, &upd) //nolint:errcheck
		}
	}
	dob, _ := upd["date_of_birth"].(map[string]any)
	if dob["old"] != oldDOB.String() || dob["new"] != newDOB.String() {
		t.Fatalf("person.update audit details: %v", upd)
	}
	run := e.run(false, casefile.Today()) // nothing due: finishes with nothing destroyed
	if run.Due != 0 || run.Review != 2 || e.versions(d.Key) != 1 {
		t.Fatalf("run inside the settle period: %+v", run)
	}
	it := e.items(run.ID)[d.ID]
	if it.State != "review" || !strings.Contains(it.Why, "settle period") {
		t.Fatalf("item inside the settle period: %+v", it)
	}
	if got := reasonCodes(e.review()[p.ID]); got != "settle_period" {
		t.Fatalf("review queue: %s", got)
	}
	settled(t, e.db)
	if _, ok := e.review()[p.ID]; ok {
		t.Fatal("still in the review queue after the settle period")
	}
	if after := e.listed(); after.Due != 2 {
		t.Fatalf("after the settle period: %+v", after)
	}
}

// Destruction checks again when it happens: a date changed after the list
// was made (the settle clock restarts) keeps the record, although approved.
func TestDestructionRechecksDatesAtThatMoment(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-5))
	d := e.document(a, "letter")
	run := e.listed()
	earlier := casefile.DateOf(a.DateOfBirth.Time().AddDate(0, 0, -1)) // still due, but changed
	if _, err := e.db.UpdatePerson(e.ctx, a.ID, casefile.PersonUpdate{DateOfBirth: &earlier}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ApproveRun(e.as(officer("approver")), run.ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, run.ID)
	if err != nil || done.Destroyed != 0 || done.Review != 2 || e.versions(d.Key) != 1 {
		t.Fatalf("approved list after a date changed: %+v %v", done, err)
	}
	if it := e.items(run.ID)[d.ID]; !strings.Contains(it.Why, "changed after the disposal list was made") {
		t.Fatalf("item: %+v", it)
	}
}

// Under the shipped schedule an adoption_no_order record of a child never
// looked after is due at closure, but the source says review: it goes to
// the review queue and no run destroys it.
func TestReviewClassGoesToTheReviewQueueNeverToDestruction(t *testing.T) {
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
	run := e.run(false, casefile.Today())
	if run.Due != 0 || run.Destroyed != 0 || run.Review != 2 || e.versions(d.Key) != 1 {
		t.Fatalf("run over a review-class record: %+v", run)
	}
	if it := e.items(run.ID)[d.ID]; it.State != "review" || !strings.Contains(it.Why, "schedule says review") {
		t.Fatalf("item: %+v", it)
	}
	pos, err := e.db.PersonRetention(e.ctx, p.ID)
	if err != nil || pos.Action != "review" {
		t.Fatalf("position: %+v %v", pos, err)
	}
	if got := reasonCodes(e.review()[p.ID]); got != "review_class" {
		t.Fatalf("review queue: %s", got)
	}
}

// The nightly sweep's run stops for approval like any other.
func TestNightlySweepRunAwaitsApproval(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-1))
	d := e.document(a, "letter")
	rep, err := e.sweep.Sweep(e.ctx)
	if err != nil || rep.RunID == "" {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	sys := casefile.WithActor(context.Background(), casefile.SystemActor(casefile.TaskRetentionRun))
	got, err := e.runner.Execute(sys, rep.RunID)
	if err != nil || got.State != casefile.RunAwaitingApproval || got.RequestedBy != "system:retention" || e.versions(d.Key) != 1 {
		t.Fatalf("the sweep's run: %+v %v", got, err)
	}
	if _, err := e.db.ApproveRun(sys, rep.RunID); casefile.ErrorCode(err) != "system_cannot_approve" {
		t.Fatalf("the system approving: %v", err)
	}
	// While it waits, the next sweep starts no second list.
	rep2, err := e.sweep.Sweep(e.ctx)
	if err != nil || rep2.RunID != "" || rep2.LiveRunID != rep.RunID {
		t.Fatalf("second sweep: %+v %v", rep2, err)
	}
	// Once the list has expired, the sweep expires it and makes a new one.
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE retention_runs SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	rep3, err := e.sweep.Sweep(e.ctx)
	if err != nil || rep3.Expired != 1 || rep3.RunID == "" || rep3.RunID == rep.RunID {
		t.Fatalf("sweep after expiry: %+v %v", rep3, err)
	}
}

// With approval automatic a run a person asks for carries their approval
// and destroys at once; the nightly sweep's run still waits for a person.
func TestAutomaticApprovalIsThePersonWhoAsked(t *testing.T) {
	e := newEnv(t)
	s := casefile.DefaultDisposal()
	s.Approval = casefile.ApprovalAutomatic
	e.db.SetDisposal(s)
	a := e.person("A", casefile.Today().AddDays(-1))
	d := e.document(a, "letter")
	rep, err := e.sweep.Sweep(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.runner.Execute(e.ctx, rep.RunID); err != nil || got.State != casefile.RunAwaitingApproval {
		t.Fatalf("sweep run under automatic approval: %+v %v", got, err)
	}
	if _, err := e.db.RejectRun(e.ctx, rep.RunID, "run it by hand"); err != nil {
		t.Fatal(err)
	}
	r, err := e.db.CreateRun(e.ctx, false, casefile.Today())
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil || done.State != "done" || done.Destroyed != 2 || e.versions(d.Key) != 0 {
		t.Fatalf("a person's run under automatic approval: %+v %v", done, err)
	}
	me := casefile.ActorFrom(e.ctx)
	if c := done.Certificate; len(c.Approvers) != 1 || c.Approvers[0].ID != me.ID {
		t.Fatalf("certificate: %+v", c)
	}
}
