package retention_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/retention"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

var (
	_ retention.RunStore   = (*postgres.DB)(nil)
	_ retention.SweepStore = (*postgres.DB)(nil)
	_ retention.Blobs      = (*s3.Store)(nil)
)

// thirtyYears is a stand-in policy for the engine's tests: every record is
// due on the 30th birthday, and nothing is due while an involvement is open.
// The real schedule is tested on its own.
type thirtyYears struct{}

func (thirtyYears) Assess(p *casefile.Person) casefile.PersonRetention {
	r := casefile.PersonRetention{PersonID: p.ID, RecordClass: "early_help", Trigger: "date_of_birth", TriggerDate: p.DateOfBirth}
	for _, inv := range p.Involvements {
		if inv.EndedOn == nil {
			r.Open = true
		}
	}
	if p.DateOfBirth != nil {
		d := casefile.DateOf(p.DateOfBirth.Time().AddDate(30, 0, 0))
		r.DisposalDueOn = &d
	}
	return r
}

func (thirtyYears) Schedule() []casefile.RetentionRule {
	return []casefile.RetentionRule{{RecordClass: "early_help", Period: "P30Y", Trigger: "date_of_birth", Source: "test"}}
}

type env struct {
	t      *testing.T
	ctx    context.Context
	db     *postgres.DB
	s3     *s3.Store
	runner *retention.Runner
	sweep  *retention.Sweeper
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.Postgres(t)
	db.SetRetentionPolicy(thirtyYears{})
	st := testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), officer("officer"))
	return &env{t: t, ctx: ctx, db: db, s3: st,
		runner: &retention.Runner{Store: db, Blobs: st, BatchSize: 3, Log: testenv.Logger(t)},
		sweep:  &retention.Sweeper{Store: db, Blobs: st, Log: testenv.Logger(t)}}
}

// person makes a person whose record is due on due (their 30th birthday).
func (e *env) person(ref string, due casefile.Date) *casefile.Person {
	e.t.Helper()
	dob := casefile.DateOf(due.Time().AddDate(-30, 0, 0))
	p := &casefile.Person{ExternalRef: ref, GivenName: "Given " + ref, FamilyName: "Family " + ref, DateOfBirth: &dob}
	if err := e.db.CreatePerson(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

type doc struct {
	ID, Key, SHA string
}

// document stores an original in S3 (with a governance lock a year ahead,
// as ingest does) and its row.
func (e *env) document(p *casefile.Person, content string) doc {
	e.t.Helper()
	sum := sha256.Sum256([]byte(content))
	d := &casefile.Document{ID: newID(e.t), PersonID: p.ID, Kind: casefile.DocumentFile, Filename: "letter.txt", Title: "A letter",
		Category: "letter", ContentType: "text/plain", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
		ParseWarnings: []string{}, Text: content}
	d.ObjectKey = "documents/" + d.ID
	until := time.Now().AddDate(1, 0, 0)
	ru := casefile.DateOf(until)
	d.RetainUntil = &ru
	if _, err := e.s3.Put(e.ctx, d.ObjectKey, bytes.NewReader([]byte(content)), int64(len(content)), "text/plain", until); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.CreateDocument(e.ctx, d, ""); err != nil {
		e.t.Fatal(err)
	}
	return doc{d.ID, d.ObjectKey, d.SHA256}
}

func (e *env) note(p *casefile.Person, body string) string {
	e.t.Helper()
	n := &casefile.Note{PersonID: p.ID, Type: "contact", OccurredAt: time.Now().Add(-time.Hour)}
	if err := e.db.CreateNote(e.ctx, n, body); err != nil {
		e.t.Fatal(err)
	}
	return n.ID
}

func newID(t *testing.T) string { return uuid.Must(uuid.NewV7()).String() }

// versions counts the stored versions of key.
func (e *env) versions(key string) int {
	e.t.Helper()
	n := 0
	for o := range e.s3.Client().ListObjects(e.ctx, e.s3.Bucket(), minio.ListObjectsOptions{Prefix: key, WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
		if o.Key == key {
			n++
		}
	}
	return n
}

func (e *env) docState(id string) (status string, text *string, runID *string) {
	e.t.Helper()
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT status, body_text, destruction_run_id::text FROM documents WHERE id = $1", id).
		Scan(&status, &text, &runID); err != nil {
		e.t.Fatal(err)
	}
	return
}

func (e *env) noteBody(id string) (status string, body *string) {
	e.t.Helper()
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT n.status, v.body FROM notes n JOIN note_versions v ON v.note_id = n.id
		AND v.version = n.current_version WHERE n.id = $1`, id).Scan(&status, &body); err != nil {
		e.t.Fatal(err)
	}
	return
}

func (e *env) personState(id string) (status string, given *string, dob *time.Time) {
	e.t.Helper()
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT status, given_name, date_of_birth FROM persons WHERE id = $1", id).
		Scan(&status, &given, &dob); err != nil {
		e.t.Fatal(err)
	}
	return
}

// settled moves every settle clock back beyond the settle period, as if
// the dates and involvements had been recorded long ago.
func settled(t *testing.T, db *postgres.DB) {
	t.Helper()
	if _, err := db.Pool().Exec(context.Background(), `UPDATE person_retention SET inputs_changed_at = inputs_changed_at - interval '400 days'
		WHERE inputs_changed_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
}

// officer is a records officer known by a token id, as the API makes them.
func officer(name string) casefile.Actor {
	return casefile.Actor{ID: uuid.Must(uuid.NewV7()).String(), Kind: casefile.ActorToken, Name: name, Role: casefile.RoleRecordsOfficer}
}

// run creates a run as of asOf and carries it out; a real run's disposal
// list is approved by the env's officer.
func (e *env) run(dry bool, asOf casefile.Date) *casefile.RetentionRun {
	e.t.Helper()
	r, err := e.db.CreateRun(e.ctx, dry, asOf)
	if err != nil {
		e.t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if done.State == casefile.RunAwaitingApproval {
		if _, err := e.db.ApproveRun(e.ctx, r.ID); err != nil {
			e.t.Fatal(err)
		}
		if done, err = e.runner.Execute(e.ctx, r.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	if done.State != "done" {
		e.t.Fatalf("run state %s", done.State)
	}
	return done
}

// approvedRun creates a real run as of asOf, plans it and has the env's
// officer approve its list: the run is then ready to destroy.
func (e *env) approvedRun(asOf casefile.Date) *casefile.RetentionRun {
	e.t.Helper()
	r, err := e.db.CreateRun(e.ctx, false, asOf)
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil || w.State != casefile.RunAwaitingApproval {
		e.t.Fatalf("run before approval: %+v %v", w, err)
	}
	a, err := e.db.ApproveRun(e.ctx, r.ID)
	if err != nil || a.State != casefile.RunApproved {
		e.t.Fatalf("approve: %+v %v", a, err)
	}
	return a
}

func (e *env) items(runID string) map[string]*casefile.RunItem {
	e.t.Helper()
	out := map[string]*casefile.RunItem{}
	cursor := ""
	for {
		its, next, err := e.db.RunItems(e.ctx, runID, casefile.RunItemFilter{Page: casefile.Page{Limit: 2, Cursor: cursor}})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range its {
			out[it.ItemID] = it
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

func certIDs(c *casefile.Certificate) []string {
	var ids []string
	for _, it := range c.Items {
		ids = append(ids, it.ItemType+":"+it.ItemID)
	}
	sort.Strings(ids)
	return ids
}

func sorted(ids ...string) []string {
	sort.Strings(ids)
	return ids
}

func TestNothingDestroyedTheDayBeforeEverythingOnTheDay(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-10)
	a := e.person("A", due)
	aDoc := e.document(a, "letter about A")
	aDoc2 := e.document(a, "second letter about A")
	aNote := e.note(a, "visited A at home")
	later := e.person("L", due.AddDays(1)) // due the day after
	lDoc := e.document(later, "letter about L")
	held := e.person("H", due.AddDays(-400))
	hDoc := e.document(held, "letter about H")
	hold := &casefile.Hold{Name: "Inquiry", Reason: "moratorium", PersonIDs: []string{held.ID}}
	if err := e.db.CreateHold(e.ctx, hold); err != nil {
		t.Fatal(err)
	}

	// The day before A is due: nothing of A's is destroyed.
	before := e.run(false, due.AddDays(-1))
	if before.Destroyed != 0 || before.Due != 0 || before.HeldBack != 2 {
		t.Fatalf("day before: due %d destroyed %d held_back %d, want 0 0 2", before.Due, before.Destroyed, before.HeldBack)
	}
	if st, text, _ := e.docState(aDoc.ID); st != "active" || text == nil || e.versions(aDoc.Key) != 1 {
		t.Fatalf("A's document touched the day before: %s %v", st, text)
	}
	if len(before.Certificate.Items) != 0 {
		t.Fatalf("certificate of a run that destroyed nothing lists %d items", len(before.Certificate.Items))
	}

	// On the day: all of A's record, and nothing else.
	run := e.run(false, due)
	if run.Destroyed != 4 || run.Due != 4 || run.HeldBack != 2 {
		t.Fatalf("on the day: due %d destroyed %d held_back %d, want 4 4 2", run.Due, run.Destroyed, run.HeldBack)
	}
	for _, d := range []doc{aDoc, aDoc2} {
		st, text, rid := e.docState(d.ID)
		if st != "destroyed" || text != nil || rid == nil || *rid != run.ID {
			t.Errorf("A's document %s: status %s text %v run %v", d.ID, st, text, rid)
		}
		if n := e.versions(d.Key); n != 0 {
			t.Errorf("A's object %s still has %d versions", d.Key, n)
		}
	}
	if st, body := e.noteBody(aNote); st != "destroyed" || body != nil {
		t.Errorf("A's note: %s %v", st, body)
	}
	if st, given, dob := e.personState(a.ID); st != "destroyed" || given != nil || dob != nil {
		t.Errorf("A's identity: %s %v %v", st, given, dob)
	}
	var ref string
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT external_ref FROM persons WHERE id = $1", a.ID).Scan(&ref); err != nil || ref != "A" {
		t.Errorf("residual record lost its external reference: %q %v", ref, err)
	}
	// Not yet due, and held: untouched, objects still there.
	for _, d := range []doc{lDoc, hDoc} {
		if st, text, _ := e.docState(d.ID); st != "active" || text == nil || e.versions(d.Key) != 1 {
			t.Errorf("document %s should be untouched: %s", d.ID, st)
		}
	}
	items := e.items(run.ID)
	if it := items[hDoc.ID]; it == nil || it.State != "held_back" || it.Why != "under hold: Inquiry" {
		t.Errorf("held document item: %+v", it)
	}
	if _, ok := items[lDoc.ID]; ok {
		t.Errorf("a record due tomorrow is listed in today's run")
	}

	// The certificate lists exactly what was destroyed, with sha256 and dates.
	c := run.Certificate
	if c == nil {
		t.Fatal("no certificate")
	}
	want := sorted("document:"+aDoc.ID, "document:"+aDoc2.ID, "note:"+aNote, "person:"+a.ID)
	if diff := cmp.Diff(want, certIDs(c)); diff != "" {
		t.Errorf("certificate items (-want +got):\n%s", diff)
	}
	for _, it := range c.Items {
		if it.DisposalDueOn == nil || *it.DisposalDueOn != due || it.DestroyedAt == nil || it.RecordClass != "early_help" {
			t.Errorf("certificate item %+v lacks its class or dates", it)
		}
		if it.ItemID == aDoc.ID && it.SHA256 != aDoc.SHA {
			t.Errorf("certificate sha256 %s, want %s", it.SHA256, aDoc.SHA)
		}
	}
	if c.ApprovedBy != "officer" || c.RunID != run.ID {
		t.Errorf("certificate header: %+v", c)
	}
	// Its hash is the sha256 of its items' canonical JSON, recomputed here.
	canon, err := json.Marshal(c.Items)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(canon); c.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("certificate sha256 %s, but its items hash to %x", c.SHA256, sum)
	}
	// A second run finds nothing more to do.
	again := e.run(false, due)
	if again.Destroyed != 0 {
		t.Errorf("a second run destroyed %d more", again.Destroyed)
	}
	v, err := e.db.VerifyAudit(e.ctx)
	if err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

func TestHoldOnEverythingStopsDestructionUntilReleased(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-1)
	a := e.person("A", due)
	d := e.document(a, "letter")
	hold := &casefile.Hold{Name: "IICSA", Reason: "inquiry moratorium", All: true}
	if err := e.db.CreateHold(e.ctx, hold); err != nil {
		t.Fatal(err)
	}
	if n, err := e.sweep.SyncHolds(e.ctx); err != nil || n != 1 {
		t.Fatalf("sync holds: %d %v", n, err)
	}
	if on := legalHold(t, e, d.Key); !on {
		t.Fatal("no S3 legal hold on a held document")
	}
	run := e.run(false, casefile.Today())
	if run.Destroyed != 0 || run.HeldBack != 2 {
		t.Fatalf("under a hold on everything: destroyed %d held_back %d", run.Destroyed, run.HeldBack)
	}
	if e.versions(d.Key) != 1 {
		t.Fatal("held object destroyed")
	}
	// Even straight against S3 with governance bypass the object is refused.
	err := e.s3.Client().RemoveObject(e.ctx, e.s3.Bucket(), d.Key, minio.RemoveObjectOptions{VersionID: versionID(t, e, d.Key), GovernanceBypass: true})
	if err == nil {
		t.Fatal("S3 deleted an object under legal hold")
	}
	if _, err := e.db.ReleaseHold(e.ctx, hold.ID, "inquiry closed"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ReleaseHold(e.ctx, hold.ID, "again"); casefile.ErrorCode(err) != "hold_released" {
		t.Fatalf("second release: %v", err)
	}
	// The run does not wait for the S3 release: it lifts the hold itself.
	run = e.run(false, casefile.Today())
	if run.Destroyed != 2 || e.versions(d.Key) != 0 {
		t.Fatalf("after release: destroyed %d, versions %d", run.Destroyed, e.versions(d.Key))
	}
}

func TestReleasingOneHoldKeepsLegalHoldsAnotherNeeds(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(100))
	d := e.document(a, "letter")
	h1 := &casefile.Hold{Name: "one", Reason: "r", PersonIDs: []string{a.ID}}
	h2 := &casefile.Hold{Name: "two", Reason: "r", PersonIDs: []string{a.ID, a.ID}}
	for _, h := range []*casefile.Hold{h1, h2} {
		if err := e.db.CreateHold(e.ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if len(h2.PersonIDs) != 1 {
		t.Errorf("duplicate person ids kept: %v", h2.PersonIDs)
	}
	if _, err := e.sweep.SyncHolds(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.db.ReleaseHold(e.ctx, h1.ID, "done") //nolint:errcheck
	if _, err := e.sweep.SyncHolds(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !legalHold(t, e, d.Key) {
		t.Fatal("legal hold lifted while another hold still covers the person")
	}
	e.db.ReleaseHold(e.ctx, h2.ID, "done") //nolint:errcheck
	if _, err := e.sweep.SyncHolds(e.ctx); err != nil {
		t.Fatal(err)
	}
	if legalHold(t, e, d.Key) {
		t.Fatal("legal hold not lifted once no hold covers the person")
	}
	pr, err := e.db.PersonRetention(e.ctx, a.ID)
	if err != nil || len(pr.Holds) != 0 || pr.DisposalDueOn == nil || *pr.DisposalDueOn != casefile.Today().AddDays(100) {
		t.Fatalf("position: %+v %v", pr, err)
	}
	bad := &casefile.Hold{Name: "x", Reason: "r", PersonIDs: []string{"0190a0c0-0000-7000-8000-000000000000"}}
	if err := e.db.CreateHold(e.ctx, bad); casefile.ErrorCode(err) != "unknown_person" {
		t.Fatalf("hold on an unknown person: %v", err)
	}
}

func legalHold(t *testing.T, e *env, key string) bool {
	t.Helper()
	st, err := e.s3.Client().GetObjectLegalHold(e.ctx, e.s3.Bucket(), key, minio.GetObjectLegalHoldOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchObjectLockConfiguration" {
			return false
		}
		t.Fatal(err)
	}
	return st != nil && *st == minio.LegalHoldEnabled
}

func versionID(t *testing.T, e *env, key string) string {
	t.Helper()
	st, err := e.s3.Client().StatObject(e.ctx, e.s3.Bucket(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st.VersionID
}

func TestDryRunReportsAndDestroysNothing(t *testing.T) {
	e := newEnv(t)
	today := casefile.Today()
	a := e.person("A", today.AddDays(5))
	d := e.document(a, "letter")
	n := e.note(a, "note")
	open := e.person("O", today.AddDays(-5))
	inv := &casefile.Involvement{PersonID: open.ID, Kind: casefile.InvolvementEarlyHelp, StartedOn: today.AddDays(-30)}
	if err := e.db.AddInvolvement(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	od := e.document(open, "letter")
	// What-if: as of a week ahead, A is due; O is past its date but open.
	run := e.run(true, today.AddDays(7))
	if run.Due != 3 || run.Review != 2 || run.Destroyed != 0 || run.Certificate != nil {
		t.Fatalf("dry run: due %d review %d destroyed %d cert %v", run.Due, run.Review, run.Destroyed, run.Certificate)
	}
	items := e.items(run.ID)
	if items[d.ID].State != "due" || items[n].State != "due" || items[od.ID].State != "review" || items[od.ID].Why == "" {
		t.Fatalf("items: %+v %+v %+v", items[d.ID], items[n], items[od.ID])
	}
	for _, key := range []string{d.Key, od.Key} {
		if e.versions(key) != 1 {
			t.Fatalf("dry run destroyed %s", key)
		}
	}
	if st, text, _ := e.docState(d.ID); st != "active" || text == nil {
		t.Fatal("dry run changed a document")
	}
	// A real run is refused while another real run is live.
	if _, err := e.db.CreateRun(e.ctx, false, today); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateRun(e.ctx, false, today); casefile.ErrorCode(err) != "run_in_progress" {
		t.Fatalf("second live run: %v", err)
	}
	if _, err := e.db.CreateRun(e.ctx, true, today); err != nil {
		t.Fatalf("a dry run alongside a live one: %v", err)
	}
}

// crashingBlobs destroys objects, then fails before the transaction that
// records it can commit: the worker dying at the worst moment.
type crashingBlobs struct {
	retention.Blobs
	after   int32
	batches atomic.Int32
}

func (c *crashingBlobs) DestroyMany(ctx context.Context, keys []string) (map[string]error, error) {
	failed, err := c.Blobs.DestroyMany(ctx, keys)
	if c.batches.Add(1) > c.after {
		return failed, errors.New("worker killed")
	}
	return failed, err
}

func TestKilledRunResumesWithoutDestroyingTwice(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-1)
	var want []string
	var docs []doc
	var persons []*casefile.Person
	for _, ref := range []string{"A", "B", "C"} {
		p := e.person(ref, due)
		persons = append(persons, p)
		want = append(want, "person:"+p.ID)
		for i := 0; i < 3; i++ {
			d := e.document(p, ref+" letter "+string(rune('0'+i)))
			docs = append(docs, d)
			want = append(want, "document:"+d.ID)
		}
		n := e.note(p, "note on "+ref)
		want = append(want, "note:"+n)
	}
	r := e.approvedRun(casefile.Today())
	// First attempt: one batch commits, the second dies after S3 deleted.
	crash := &retention.Runner{Store: e.db, Blobs: &crashingBlobs{Blobs: e.s3, after: 1}, BatchSize: 3}
	if _, err := crash.Execute(e.ctx, r.ID); err == nil {
		t.Fatal("the crashing run reported success")
	}
	mid, _ := e.db.RetentionRun(e.ctx, r.ID)
	if mid.State != "running" || mid.Destroyed == 0 || mid.Destroyed >= len(want) {
		t.Fatalf("after the crash: state %s destroyed %d", mid.State, mid.Destroyed)
	}
	// Every record is either whole or destroyed: no row says active with
	// its content cleared, and no destroyed row has content.
	var half int
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT count(*) FROM documents WHERE (status = 'active' AND body_text IS NULL)
		OR (status = 'destroyed' AND (body_text IS NOT NULL OR destroyed_at IS NULL))`).Scan(&half); err != nil || half != 0 {
		t.Fatalf("half-destroyed documents: %d %v", half, err)
	}
	// Second attempt: cancelled part way.
	cctx, cancel := context.WithCancel(e.ctx)
	var calls atomic.Int32
	cancelling := &cancelBlobs{Blobs: e.s3, onCall: func() {
		if calls.Add(1) == 2 {
			cancel()
		}
	}}
	(&retention.Runner{Store: e.db, Blobs: cancelling, BatchSize: 3}).Execute(cctx, r.ID) //nolint:errcheck // interrupted on purpose
	cancel()
	// Resumed by the retried task: finishes cleanly.
	done, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != "done" || done.Destroyed != len(want) {
		t.Fatalf("resumed: state %s destroyed %d want %d", done.State, done.Destroyed, len(want))
	}
	if diff := cmp.Diff(sorted(want...), certIDs(done.Certificate)); diff != "" {
		t.Errorf("certificate (-want +got):\n%s", diff)
	}
	for _, d := range docs {
		if e.versions(d.Key) != 0 {
			t.Errorf("object %s survived", d.Key)
		}
	}
	for _, p := range persons {
		if st, _, _ := e.personState(p.ID); st != "destroyed" {
			t.Errorf("person %s: %s", p.ExternalRef, st)
		}
	}
	// Each document was destroyed once: one audit mention each.
	rows, err := e.db.Pool().Query(e.ctx, `SELECT jsonb_array_elements_text(details::jsonb->'documents') FROM audit_events
		WHERE action = 'retention.destroy'`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for rows.Next() {
		var id string
		rows.Scan(&id) //nolint:errcheck
		seen[id]++
	}
	rows.Close()
	for _, d := range docs {
		if seen[d.ID] != 1 {
			t.Errorf("document %s destroyed %d times by the audit log", d.ID, seen[d.ID])
		}
	}
	// Running the finished task again changes nothing.
	again, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil || again.Certificate.SHA256 != done.Certificate.SHA256 {
		t.Fatalf("re-run of a finished run: %v", err)
	}
}

type cancelBlobs struct {
	retention.Blobs
	onCall func()
}

func (c *cancelBlobs) DestroyMany(ctx context.Context, keys []string) (map[string]error, error) {
	c.onCall()
	return c.Blobs.DestroyMany(ctx, keys)
}

func TestHoldPlacedAfterPlanningIsRespected(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-3))
	d := e.document(a, "letter")
	r := e.approvedRun(casefile.Today()) // planned and approved
	if err := e.db.CreateHold(e.ctx, &casefile.Hold{Name: "late", Reason: "r", PersonIDs: []string{a.ID}}); err != nil {
		t.Fatal(err)
	}
	done, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Destroyed != 0 || done.HeldBack != 2 || e.versions(d.Key) != 1 {
		t.Fatalf("late hold: destroyed %d held %d", done.Destroyed, done.HeldBack)
	}
}

func TestSweepLocksToDisposalDateAndStartsOneRun(t *testing.T) {
	e := newEnv(t)
	today := casefile.Today()
	known := e.person("K", today.AddDays(3000))
	kd := e.document(known, "letter")
	opened := e.person("O", today.AddDays(10))
	if err := e.db.AddInvolvement(e.ctx, &casefile.Involvement{PersonID: opened.ID, Kind: casefile.InvolvementChildInNeed,
		StartedOn: today.AddDays(-3)}); err != nil {
		t.Fatal(err)
	}
	od := e.document(opened, "letter")
	// O's lock is close to running out: the sweep rolls it on.
	soon := today.AddDays(20)
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE documents SET retain_until = $2 WHERE id = $1", od.ID, soon.Time()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	reps := make([]*retention.SweepReport, 2)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.sweep.Sweep(e.ctx)
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		}()
	}
	wg.Wait()
	var runs int
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT count(*) FROM retention_runs WHERE NOT dry_run").Scan(&runs); err != nil || runs != 1 {
		t.Fatalf("two sweeps at once started %d runs (%v)", runs, err)
	}
	if got := retainUntil(t, e, kd.Key); got != today.AddDays(3000) {
		t.Errorf("retain-until of a record with a known date: %s, want %s", got, today.AddDays(3000))
	}
	if got := retainUntil(t, e, od.Key); got != today.AddDays(365) {
		t.Errorf("rolling retain-until: %s, want %s", got, today.AddDays(365))
	}
	// Object Lock now refuses deleting it before its date, straight against S3.
	err := e.s3.Client().RemoveObject(e.ctx, e.s3.Bucket(), kd.Key, minio.RemoveObjectOptions{VersionID: versionID(t, e, kd.Key)})
	if err == nil {
		t.Fatal("S3 deleted an object whose disposal date is years away")
	}
	if e.versions(kd.Key) != 1 {
		t.Fatal("object gone")
	}
}

func retainUntil(t *testing.T, e *env, key string) casefile.Date {
	t.Helper()
	st, err := e.s3.Client().StatObject(e.ctx, e.s3.Bucket(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	until, err := time.Parse(time.RFC3339, st.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
	if err != nil {
		t.Fatalf("retain-until of %s: %v (%v)", key, err, st.Metadata)
	}
	return casefile.DateOf(until.UTC())
}

// fortyYears replaces the schedule: the sweep must assess everyone again.
type fortyYears struct{ thirtyYears }

func (fortyYears) Assess(p *casefile.Person) casefile.PersonRetention {
	r := thirtyYears{}.Assess(p)
	d := casefile.DateOf(r.DisposalDueOn.Time().AddDate(10, 0, 0))
	r.DisposalDueOn = &d
	return r
}

func TestSweepAssessesAgainUnderAReplacedSchedule(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-1)
	a := e.person("A", due)
	e.db.SetRetentionPolicy(fortyYears{})
	if _, err := e.sweep.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	pr, err := e.db.PersonRetention(e.ctx, a.ID)
	if err != nil || pr.DisposalDueOn == nil || *pr.DisposalDueOn != casefile.DateOf(due.Time().AddDate(10, 0, 0)) {
		t.Fatalf("position after the schedule changed: %+v %v", pr, err)
	}
}

func TestExportBundlesGoWithTheRecord(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-1))
	e.document(a, "letter")
	key := "exports/" + newID(t) + ".zip"
	if _, err := e.s3.Put(e.ctx, key, bytes.NewReader([]byte("PK bundle")), 9, "application/zip", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(e.ctx, `INSERT INTO exports (id, person_id, state, requested_by, object_key, size, sha256)
		VALUES ($1, $2, 'done', 'officer', $3, 9, 'x')`, newID(t), a.ID, key); err != nil {
		t.Fatal(err)
	}
	run := e.run(false, casefile.Today())
	if run.Destroyed != 2 || e.versions(key) != 0 {
		t.Fatalf("destroyed %d, bundle versions %d", run.Destroyed, e.versions(key))
	}
	var state string
	if err := e.db.Pool().QueryRow(e.ctx, "SELECT state FROM exports WHERE person_id = $1", a.ID).Scan(&state); err != nil || state != "withdrawn" {
		t.Fatalf("export state %q %v", state, err)
	}
}

// Bundles still being built (queued, or running in a worker) when the record
// is destroyed go with it too: a running one finishes withdrawn (its
// download answers 410) and a queued one is never built.
func TestBundlesBeingBuiltGoWithTheRecord(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-1))
	e.document(a, "letter")
	queued, err := e.db.CreateExport(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	running, err := e.db.CreateExport(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.StartExport(e.ctx, running.ID); err != nil {
		t.Fatal(err)
	}
	e.run(false, casefile.Today())
	if st, _, _ := e.personState(a.ID); st != "destroyed" {
		t.Fatalf("person %s", st)
	}
	for _, id := range []string{queued.ID, running.ID} {
		if got, err := e.db.Export(e.ctx, id); err != nil || got.State != "withdrawn" || !strings.Contains(got.Error, "destroyed") {
			t.Fatalf("bundle being built when the record was destroyed: %+v %v", got, err)
		}
	}
	// The worker that was building finishes after the destruction.
	key := "exports/" + running.ID + ".zip"
	if _, err := e.s3.Put(e.ctx, key, bytes.NewReader([]byte("PK bundle")), 9, "application/zip", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.FinishExport(e.ctx, running.ID, key, 9, "x", "y", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.db.ExportObject(e.ctx, running.ID); casefile.ErrorCode(err) != "export_withdrawn" {
		t.Fatalf("download of a bundle finished after its record was destroyed: %v", err)
	}
	if keys, err := e.db.RetiredBundles(e.ctx); err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("bundles left to destroy: %v %v", keys, err)
	}
	if _, err := e.db.StartExport(e.ctx, queued.ID); casefile.ErrorKind(err) != casefile.EConflict {
		t.Fatalf("starting a queued bundle of a destroyed record: %v", err)
	}
}

// crashingObjects fails the batch delete after the first call, as a worker
// killed in the middle of a run would stop.
type crashingObjects struct {
	*s3.Store
	calls, crashAfter int
}

func (c *crashingObjects) DestroyMany(ctx context.Context, keys []string) (map[string]error, error) {
	c.calls++
	if c.crashAfter > 0 && c.calls > c.crashAfter {
		return nil, casefile.Unavailable("worker", errors.New("killed"))
	}
	return c.Store.DestroyMany(ctx, keys)
}

// TestInterruptedRunResumes: a run that stops half-way resumes on the next
// delivery, destroys everything due exactly once, and certifies it once.
func TestInterruptedRunResumes(t *testing.T) {
	ctx := casefile.WithActor(context.Background(), officer("records.officer"))
	db, store := testenv.Postgres(t), testenv.S3(t)
	db.SetRetentionPolicy(retention.Policy{S: retention.DefaultSchedule()})
	dob := casefile.DateOf(time.Now().UTC().AddDate(-31, 0, 0))
	p := &casefile.Person{ExternalRef: "RUN-1", GivenName: "A", FamilyName: "B", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	ended := casefile.Date{Year: 2001, Month: 1, Day: 1}
	if err := db.AddInvolvement(ctx, &casefile.Involvement{PersonID: p.ID, Kind: "early_help", StartedOn: casefile.Date{Year: 2000, Month: 1, Day: 1}, EndedOn: &ended}); err != nil {
		t.Fatal(err)
	}
	const n = 25
	for i := 0; i < n; i++ {
		body := []byte(fmt.Sprintf("document %d", i))
		sum := sha256.Sum256(body)
		id := fmt.Sprintf("0190a0c0-0000-7000-8000-%012d", i)
		key := "documents/" + id
		if _, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "text/plain", time.Now().AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		d := &casefile.Document{ID: id, PersonID: p.ID, Kind: "file", Filename: "d.txt", Category: "other", ContentType: "text/plain",
			Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ObjectKey: key}
		if err := db.CreateDocument(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
	}
	settled(t, db) // the involvement was recorded long ago
	run, err := db.CreateRun(ctx, false, casefile.Today())
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(retention.RunPayload{RunID: run.ID})
	objs := &crashingObjects{Store: store, crashAfter: 1}
	eng := &retention.Runner{Store: db, Blobs: objs, BatchSize: 10}
	if err := eng.Handle(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApproveRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := eng.Handle(ctx, payload); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("interrupted run returned %v", err)
	}
	mid, _ := db.RetentionRun(ctx, run.ID)
	if mid.State != "running" || mid.Certificate != nil {
		t.Fatalf("after the interruption: %+v", mid)
	}
	objs.crashAfter = 0
	if err := eng.Handle(ctx, payload); err != nil {
		t.Fatal(err)
	}
	done, _ := db.RetentionRun(ctx, run.ID)
	if done.State != "done" || done.Destroyed != n+1 || done.Certificate == nil || len(done.Certificate.Items) != n+1 {
		t.Fatalf("after resuming: state %s, destroyed %d, certificate %+v", done.State, done.Destroyed, done.Certificate)
	}
	seen := map[string]bool{}
	for _, it := range done.Certificate.Items {
		if seen[it.ItemID] {
			t.Fatalf("%s certified twice", it.ItemID)
		}
		seen[it.ItemID] = true
	}
	for i := 0; i < n; i++ {
		if _, err := store.Stat(ctx, fmt.Sprintf("documents/0190a0c0-0000-7000-8000-%012d", i)); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Fatalf("object %d survived: %v", i, err)
		}
	}
	// Delivered once more: nothing changes.
	if err := eng.Handle(ctx, payload); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 500}})
	// Each batch audits what it destroyed of the person's record; each
	// document is named exactly once.
	named := map[string]int{}
	for _, e := range evs {
		if e.Action == "retention.destroy" {
			var d struct{ Documents []string }
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			for _, id := range d.Documents {
				named[id]++
			}
		}
	}
	if len(named) != n {
		t.Fatalf("%d documents named in retention.destroy events, want %d", len(named), n)
	}
	for id, c := range named {
		if c != 1 {
			t.Fatalf("document %s named in %d retention.destroy events", id, c)
		}
	}
}

// A run that fails on its last attempt is marked failed, saying why, instead
// of staying running for ever and holding up the next real run; what it
// destroyed stays destroyed. Before the last attempt it stays running, to be
// resumed by the retry.
func TestRunFailedOnItsLastAttemptIsMarkedFailed(t *testing.T) {
	e := newEnv(t)
	p := e.person("F", casefile.Today().AddDays(-5))
	e.document(p, "letter one")
	e.document(p, "letter two")
	r := e.approvedRun(casefile.Today())
	payload := []byte(`{"run_id":"` + r.ID + `"}`)
	failing := &crashingBlobs{Blobs: e.s3, after: 0}
	last := false
	runner := &retention.Runner{Store: e.db, Blobs: failing, BatchSize: 1, FinalAttempt: func(context.Context) bool { return last }}
	if err := runner.Handle(e.ctx, payload); err == nil {
		t.Fatal("a failing attempt reported success")
	}
	if got, _ := e.db.RetentionRun(e.ctx, r.ID); got.State != "running" {
		t.Fatalf("after a failed attempt that will be retried: %s", got.State)
	}
	last = true
	if err := runner.Handle(e.ctx, payload); err != nil {
		t.Fatalf("the last attempt: %v", err)
	}
	got, _ := e.db.RetentionRun(e.ctx, r.ID)
	if got.State != "failed" || !strings.Contains(got.Error, "gave up after repeated attempts") || !strings.Contains(got.Error, "worker killed") {
		t.Fatalf("after the last attempt: %s %q", got.State, got.Error)
	}
	if _, err := e.db.CreateRun(e.ctx, false, casefile.Today()); err != nil {
		t.Fatalf("a new real run after the failed one: %v", err)
	}
}
