package tickets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/export"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

// fixture is a database and bucket with two persons on them. Tickets are
// raised as ctx (an admin) and approved as ict, a second person.
type fixture struct {
	t        *testing.T
	ctx, ict context.Context
	db       *postgres.DB
	store    *s3.Store
	amy, bob string
}

// raiser and approver are two different people: a ticket is never approved
// by whoever raised it.
var (
	raiser   = casefile.Actor{ID: "tok-tester", Kind: casefile.ActorToken, Name: "tester", Role: casefile.RoleAdmin}
	approver = casefile.Actor{ID: "tok-ict-desk", Kind: casefile.ActorToken, Name: "ict desk", Role: casefile.RoleICT}
)

func newFixture(t *testing.T) *fixture {
	ctx := casefile.WithActor(context.Background(), raiser)
	f := &fixture{t: t, ctx: ctx, ict: casefile.WithActor(context.Background(), approver), db: testenv.Postgres(t), store: testenv.S3(t)}
	for i, id := range []*string{&f.amy, &f.bob} {
		dob := casefile.Date{Year: 2012 + i, Month: 1, Day: 1}
		p := &casefile.Person{ExternalRef: "F-" + string(rune('A'+i)), GivenName: "A", FamilyName: "B", DateOfBirth: &dob}
		if err := f.db.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		*id = p.ID
	}
	return f
}

func (f *fixture) note(person, typ, body string) string {
	f.t.Helper()
	n := &casefile.Note{PersonID: person, Type: typ, OccurredAt: time.Now().Add(-time.Hour)}
	if err := f.db.CreateNote(f.ctx, n, body); err != nil {
		f.t.Fatal(err)
	}
	return n.ID
}

// document stores an email with one attachment, both under Object Lock.
func (f *fixture) document(person string, body []byte) (string, string) {
	f.t.Helper()
	doc := func(kind string, b []byte) *casefile.Document {
		id := uuid.Must(uuid.NewV7()).String()
		sum := sha256.Sum256(b)
		d := &casefile.Document{ID: id, PersonID: person, Kind: kind, Filename: kind + ".bin", Category: "correspondence",
			ContentType: "application/octet-stream", Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), ObjectKey: "documents/" + id,
			Text: "parsed text of " + kind}
		if _, err := f.store.Put(f.ctx, d.ObjectKey, bytes.NewReader(b), int64(len(b)), d.ContentType, time.Now().AddDate(1, 0, 0)); err != nil {
			f.t.Fatal(err)
		}
		return d
	}
	parent, att := doc(casefile.DocumentEmail, body), doc(casefile.DocumentAttachment, append([]byte("att:"), body...))
	att.ParentID = &parent.ID
	parent.Attachments = []*casefile.Document{att}
	if err := f.db.CreateDocument(f.ctx, parent, ""); err != nil {
		f.t.Fatal(err)
	}
	return parent.ID, att.ID
}

// approved raises and approves a ticket.
func (f *fixture) approved(tk *casefile.Ticket) *casefile.Ticket {
	f.t.Helper()
	if err := f.db.CreateTicket(f.ctx, tk); err != nil {
		f.t.Fatalf("raise %s: %v", tk.Kind, err)
	}
	if _, err := f.db.ApproveTicket(f.ict, tk.ID); err != nil {
		f.t.Fatal(err)
	}
	return tk
}

func (f *fixture) ticket(id string) *casefile.Ticket {
	f.t.Helper()
	tk, err := f.db.Ticket(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return tk
}

// actions counts audit events by action.
func (f *fixture) actions() map[string]int {
	f.t.Helper()
	evs, _, err := f.db.AuditEvents(f.ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500}})
	if err != nil {
		f.t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range evs {
		n[e.Action]++
	}
	return n
}

func (f *fixture) processor() *Processor {
	return &Processor{Store: f.db, Blobs: destroyer{f.store}, AfterWithdrawal: f.exports(0).DestroyRetired}
}

// exports is the export service as the worker has it, keeping bundles for keep (0: for ever).
func (f *fixture) exports(keep time.Duration) *export.Service {
	return &export.Service{Exports: f.db, KeepFor: keep, Destroy: f.store.Destroy}
}

// Deliveries of the same task at once (a queue may deliver twice) carry the
// ticket out once: one effect in the audit log, the same end state as one
// delivery, for every kind of ticket.
func TestConcurrentDeliveriesCarryOutOnce(t *testing.T) {
	f := newFixture(t)
	docID, attID := f.document(f.amy, []byte("an email pasted as a file"))
	moveDoc, _ := f.document(f.amy, []byte("a letter about Bob"))
	tks := []*casefile.Ticket{
		{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: f.note(f.amy, "contact", "From: x\nSent: y\nTo: z\nSubject: pasted"), Reason: "pasted"},
		{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: docID, Reason: "pasted"},
		{Kind: casefile.TicketReindex, TargetType: "note", TargetID: f.note(f.amy, "home_visit", "Visited Bob."), ToPersonID: &f.bob, Reason: "wrong child"},
		{Kind: casefile.TicketReindex, TargetType: "document", TargetID: moveDoc, ToPersonID: &f.bob, Reason: "wrong child"},
		{Kind: casefile.TicketReopen, TargetType: "note", TargetID: f.note(f.amy, "cin_visit", "CIN visit."), Reason: "omitted who was there"},
	}
	p := f.processor()
	for _, tk := range tks {
		f.approved(tk)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- p.Handle(f.ctx, payload(tk.ID)) }()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s %s: %v", tk.Kind, tk.TargetType, err)
			}
		}
		if got := f.ticket(tk.ID); got.State != casefile.TicketDone {
			t.Fatalf("%s %s: state %s %q", tk.Kind, tk.TargetType, got.State, got.Error)
		}
	}
	a := f.actions()
	for action, want := range map[string]int{"note.remove": 1, "document.remove": 1, "note.reindex_out": 1, "note.reindex_in": 1,
		"document.reindex_out": 1, "document.reindex_in": 1, "note.reopen": 1, "ticket.done": 5} {
		if a[action] != want {
			t.Errorf("%d %s events, want %d (all: %v)", a[action], action, want, a)
		}
	}
	// The end state is what one delivery gives.
	for _, key := range []string{"documents/" + docID, "documents/" + attID} {
		if _, err := f.store.Stat(f.ctx, key); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Errorf("%s after removal: %v", key, err)
		}
	}
	if d, err := f.db.Document(f.ctx, moveDoc); err != nil || d.PersonID != f.bob || d.Attachments[0].PersonID != f.bob {
		t.Fatalf("re-indexed document: %v %+v", err, d)
	}
	// The reopened note takes one amendment; a late delivery does not open
	// it again.
	if _, err := f.db.AmendNote(f.ctx, tks[4].TargetID, "CIN visit; aunt present.", "omitted"); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(f.ctx, payload(tks[4].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AmendNote(f.ctx, tks[4].TargetID, "again", "again"); casefile.ErrorCode(err) != "not_reopened" {
		t.Fatalf("second amendment after a late delivery: %v", err)
	}
	// A delivery that read the ticket as approved just before another one
	// finished it runs the steps on a done ticket: they change nothing.
	for _, tk := range tks {
		var err error
		switch {
		case tk.Kind == casefile.TicketReopen:
			err = f.db.OpenReopenWindow(f.ctx, tk)
		case tk.Kind == casefile.TicketReindex:
			err = f.db.Reindex(f.ctx, tk)
		case tk.TargetType == "note":
			err = f.db.RemoveNote(f.ctx, tk)
		default:
			var keys []string
			if keys, err = f.db.MarkDocumentRemoved(f.ctx, tk); len(keys) != 0 {
				t.Errorf("a done removal still lists objects to destroy: %v", keys)
			}
		}
		if err != nil {
			t.Fatalf("late %s step: %v", tk.Kind, err)
		}
	}
	if _, err := f.db.AmendNote(f.ctx, tks[4].TargetID, "again", "again"); casefile.ErrorCode(err) != "not_reopened" {
		t.Fatalf("a late reopen step opened the window again: %v", err)
	}
	if a2 := f.actions(); a2["note.reindex_in"] != 1 || a2["document.reindex_in"] != 1 || a2["ticket.fail"] != 0 {
		t.Fatalf("late steps changed the audit: %v", a2)
	}
}

// When the queue is about to give up on a task (the last retry), the ticket
// is marked failed, saying why, instead of staying approved for ever; ICT's
// retry then finishes the half-done removal.
func TestLastAttemptMarksTicketFailed(t *testing.T) {
	f := newFixture(t)
	docID, attID := f.document(f.amy, []byte("pasted"))
	tk := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: docID, Reason: "pasted"})
	p := f.processor()
	p.SetAfterMark(func() error { return casefile.Unavailable("S3", context.DeadlineExceeded) })
	if err := p.Handle(f.ctx, payload(tk.ID)); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("a middle attempt: %v, want a retryable error", err)
	}
	if got := f.ticket(tk.ID); got.State != casefile.TicketApproved {
		t.Fatalf("after a middle attempt: %s", got.State)
	}
	p.FinalAttempt = func(context.Context) bool { return true }
	if err := p.Handle(f.ctx, payload(tk.ID)); err != nil {
		t.Fatalf("the last attempt: %v", err)
	}
	got := f.ticket(tk.ID)
	if got.State != casefile.TicketFailed || !strings.Contains(got.Error, "service_unavailable") {
		t.Fatalf("after the last attempt: %s %q", got.State, got.Error)
	}
	// Reads already show it removed: nothing half-done is served.
	if _, err := f.db.OpenDocument(f.ctx, attID); casefile.ErrorCode(err) != "removed" {
		t.Fatalf("attachment content after the failure: %v", err)
	}
	if _, err := f.db.RetryTicket(f.ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	p.SetAfterMark(nil)
	if err := p.Handle(f.ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(tk.ID); got.State != casefile.TicketDone {
		t.Fatalf("after retry: %s %q", got.State, got.Error)
	}
	for _, key := range []string{"documents/" + docID, "documents/" + attID} {
		if _, err := f.store.Stat(f.ctx, key); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Fatalf("%s after retry: %v", key, err)
		}
	}
	d, err := f.db.Document(f.ctx, docID)
	if err != nil || d.Status != casefile.StatusRemoved || d.Email != nil || d.Title != "" || d.Attachments[0].Status != casefile.StatusRemoved {
		t.Fatalf("removed document: %v %+v", err, d)
	}
	var texts int
	if err := f.db.Pool().QueryRow(f.ctx, "SELECT count(*) FROM documents WHERE body_text IS NOT NULL OR email IS NOT NULL").Scan(&texts); err != nil || texts != 0 {
		t.Fatalf("parsed text left after removal: %d %v", texts, err)
	}
	if a := f.actions(); a["ticket.fail"] != 1 || a["ticket.retry"] != 1 || a["document.remove"] != 1 {
		t.Fatalf("audit: %v", a)
	}
}

// The queue losing a task (Redis restarted without its data) leaves the
// ticket approved; the periodic sweep hands it to the relay again, under the
// same task id, and leaves tickets that are done alone.
func TestSweepRequeuesLostTasks(t *testing.T) {
	f := newFixture(t)
	tk := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note",
		TargetID: f.note(f.amy, "contact", "pasted"), Reason: "pasted"})
	var sent []string
	lose := func(it *casefile.OutboxItem) error { sent = append(sent, it.TaskID); return nil }
	if n, err := f.db.RelayOutbox(f.ctx, 10, lose); err != nil || n != 1 {
		t.Fatalf("relay: %d %v", n, err)
	}
	// Recently queued: left alone.
	if ids, err := f.db.RequeueStuckTickets(f.ctx, time.Hour); err != nil || len(ids) != 0 {
		t.Fatalf("requeue of a fresh task: %v %v", ids, err)
	}
	if ids, err := f.db.RequeueStuckTickets(f.ctx, 0); err != nil || len(ids) != 1 || ids[0] != tk.ID {
		t.Fatalf("requeue of a lost task: %v %v", ids, err)
	}
	if n, err := f.db.RelayOutbox(f.ctx, 10, lose); err != nil || n != 1 || sent[1] != sent[0] {
		t.Fatalf("relay after requeue: %d %v %v", n, err, sent)
	}
	if err := f.processor().Handle(f.ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if ids, err := f.db.RequeueStuckTickets(f.ctx, 0); err != nil || len(ids) != 0 {
		t.Fatalf("requeue of a done ticket: %v %v", ids, err)
	}
	if a := f.actions(); a["ticket.requeue"] != 1 || a["note.remove"] != 1 {
		t.Fatalf("audit: %v", a)
	}
}

// The worker checks the record again when it runs: what changed since the
// ticket was raised makes it fail, saying why, rather than do the wrong
// thing or report done having done nothing.
func TestWorkerRefusesWhatChangedSinceRaised(t *testing.T) {
	f := newFixture(t)
	p := f.processor()

	// A re-index of a note destroyed in the meantime (a retention run: no
	// ticket can remove it while the re-index is live).
	n := f.note(f.amy, "contact", "Saw Bob.")
	ri := &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: n, ToPersonID: &f.bob, Reason: "wrong child"}
	if err := f.db.CreateTicket(f.ctx, ri); err != nil {
		t.Fatal(err)
	}
	// One live ticket per target.
	for _, dup := range []*casefile.Ticket{
		{Kind: casefile.TicketReindex, TargetType: "note", TargetID: n, ToPersonID: &f.bob, Reason: "again"},
		{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: n, Reason: "pasted"},
	} {
		if err := f.db.CreateTicket(f.ctx, dup); casefile.ErrorCode(err) != "ticket_exists" {
			t.Fatalf("a %s beside a live re-index: %v", dup.Kind, err)
		}
	}
	if _, err := f.db.ApproveTicket(f.ict, ri.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Pool().Exec(f.ctx, "UPDATE notes SET status = 'destroyed', destroyed_at = now() WHERE id = $1", n); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(f.ctx, payload(ri.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(ri.ID); got.State != casefile.TicketFailed || !strings.Contains(got.Error, "target_not_active") {
		t.Fatalf("re-index of a destroyed note: %s %q", got.State, got.Error)
	}

	// A re-index of a document onto a record that already holds the same file.
	same := []byte("the same letter")
	d1, _ := f.document(f.amy, same)
	f.document(f.bob, same)
	rd := f.approved(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "document", TargetID: d1, ToPersonID: &f.bob, Reason: "wrong child"})
	if err := p.Handle(f.ctx, payload(rd.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rd.ID); got.State != casefile.TicketFailed || !strings.Contains(got.Error, "duplicate_on_person") {
		t.Fatalf("re-index onto a duplicate: %s %q", got.State, got.Error)
	}

	// A second reopen while the first still holds the window open.
	v := f.note(f.amy, "cp_plan_visit", "CP visit.")
	r1 := f.approved(&casefile.Ticket{Kind: casefile.TicketReopen, TargetType: "note", TargetID: v, Reason: "first"})
	if err := p.Handle(f.ctx, payload(r1.ID)); err != nil {
		t.Fatal(err)
	}
	r2 := f.approved(&casefile.Ticket{Kind: casefile.TicketReopen, TargetType: "note", TargetID: v, Reason: "second"})
	if err := p.Handle(f.ctx, payload(r2.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(r2.ID); got.State != casefile.TicketFailed || !strings.Contains(got.Error, "window_held") {
		t.Fatalf("second reopen: %s %q", got.State, got.Error)
	}
	if _, err := f.db.CloseReopenWindow(f.ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RetryTicket(f.ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(f.ctx, payload(r2.ID)); err != nil {
		t.Fatal(err)
	}
	if nt, err := f.db.Note(f.ctx, v); err != nil || nt.ReopenedBy == nil || *nt.ReopenedBy != r2.ID {
		t.Fatalf("note after the second reopen: %v %+v", err, nt)
	}
	if _, err := f.db.CloseReopenWindow(f.ctx, r1.ID); casefile.ErrorCode(err) != "window_not_open" {
		t.Fatalf("closing a window another ticket holds: %v", err)
	}
}

// A note re-indexed to the right child takes its corrections with it (and
// their corrections): nothing of it stays on the wrong child's record. A
// correction on its own cannot be re-indexed: its original is named instead.
func TestReindexMovesCorrectionsWithTheNote(t *testing.T) {
	f := newFixture(t)
	orig := f.note(f.amy, "contact", "Saw the child at school.")
	correct := func(of, body string) string {
		n := &casefile.Note{PersonID: f.amy, Type: "contact", OccurredAt: time.Now().Add(-time.Hour), CorrectsNoteID: &of,
			CorrectionReason: "wrong time"}
		if err := f.db.CreateNote(f.ctx, n, body); err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	c1 := correct(orig, "Saw the child at school at 3pm.")
	c2 := correct(c1, "Saw the child at school at 3.30pm.")
	other := f.note(f.amy, "contact", "Amy's own note stays.")

	err := f.db.CreateTicket(f.ctx, &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: c1, ToPersonID: &f.bob, Reason: "wrong child"})
	if casefile.ErrorCode(err) != "target_is_correction" || !strings.Contains(err.Error(), orig) {
		t.Fatalf("re-index of a correction: %v", err)
	}
	tk := f.approved(&casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: orig, ToPersonID: &f.bob, Reason: "wrong child"})
	if err := f.processor().Handle(f.ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(tk.ID); got.State != casefile.TicketDone {
		t.Fatalf("ticket %s: %s", got.State, got.Error)
	}
	for id, want := range map[string]string{orig: f.bob, c1: f.bob, c2: f.bob, other: f.amy} {
		n, err := f.db.Note(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n.PersonID != want {
			t.Errorf("note %s is on %s, want %s", id, n.PersonID, want)
		}
	}
}

// A removal withdraws the person's export bundles that may hold what it
// removed (built, or being built): their objects are destroyed, downloads
// answer 410 export_withdrawn saying why, and each withdrawal is audited.
// A bundle still being built when the removal ran stays withdrawn when it
// finishes, and the sweep destroys what it wrote. Other people's bundles
// are untouched.
func TestRemovalWithdrawsExportBundles(t *testing.T) {
	f := newFixture(t)
	bundle := func(person string, finish bool) (string, string) {
		e, err := f.db.CreateExport(f.ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.StartExport(f.ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		key := "exports/" + e.ID + ".zip"
		if finish {
			f.finishBundle(e.ID, key)
		}
		return e.ID, key
	}
	built, builtKey := bundle(f.amy, true)
	building, buildingKey := bundle(f.amy, false)
	bobs, bobsKey := bundle(f.bob, true)

	n := f.note(f.amy, "contact", "From: someone\nSent: Monday\nSubject: pasted\n\nThird party's details.")
	rm := f.approved(&casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: n, Reason: "pasted email"})
	if err := f.processor().Handle(f.ctx, payload(rm.ID)); err != nil {
		t.Fatal(err)
	}
	if got := f.ticket(rm.ID); got.State != casefile.TicketDone {
		t.Fatalf("removal: %s %s", got.State, got.Error)
	}
	if _, _, err := f.db.ExportObject(f.ctx, built); casefile.ErrorCode(err) != "export_withdrawn" || !strings.Contains(err.Error(), rm.ID) {
		t.Fatalf("download of a withdrawn bundle: %v", err)
	}
	if _, err := f.store.Stat(f.ctx, builtKey); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("the withdrawn bundle's object: %v, want it destroyed", err)
	}
	// The bundle being built finishes after the removal: it stays withdrawn.
	f.finishBundle(building, buildingKey)
	if e, err := f.db.Export(f.ctx, building); err != nil || e.State != "withdrawn" {
		t.Fatalf("bundle finished after the removal: %+v, %v", e, err)
	}
	if err := f.exports(0).Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Stat(f.ctx, buildingKey); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("the late bundle's object: %v, want it destroyed by the sweep", err)
	}
	if keys, err := f.db.RetiredBundles(f.ctx); err != nil || len(keys) != 0 {
		t.Fatalf("withdrawn bundles left: %v, %v", keys, err)
	}
	if _, key, err := f.db.ExportObject(f.ctx, bobs); err != nil || key != bobsKey {
		t.Fatalf("another person's bundle: %q, %v", key, err)
	}
	if a := f.actions(); a["export.withdraw"] != 2 {
		t.Fatalf("audit: %v", a)
	}
}

// finishBundle stores a bundle's object and records the export finished.
func (f *fixture) finishBundle(id, key string) {
	f.t.Helper()
	body := []byte("PK bundle " + id)
	if _, err := f.store.Put(f.ctx, key, bytes.NewReader(body), int64(len(body)), "application/zip", time.Time{}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.FinishExport(f.ctx, id, key, int64(len(body)), "sha", "audit", ""); err != nil {
		f.t.Fatal(err)
	}
}

// Bundles are kept for a time, not for ever: one older than the keeping
// period expires (audited, download 410 export_expired saying when it was
// made) and the sweep destroys its object; a newer one stays.
func TestOldBundlesExpire(t *testing.T) {
	f := newFixture(t)
	made := func() (string, string) {
		e, err := f.db.CreateExport(f.ctx, f.amy)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.StartExport(f.ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		key := "exports/" + e.ID + ".zip"
		f.finishBundle(e.ID, key)
		return e.ID, key
	}
	old, oldKey := made()
	if _, err := f.db.Pool().Exec(f.ctx, "UPDATE exports SET finished_at = now() - interval '31 days' WHERE id = $1", old); err != nil {
		t.Fatal(err)
	}
	recent, recentKey := made()
	if err := f.exports(30 * 24 * time.Hour).Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.ExportObject(f.ctx, old); casefile.ErrorCode(err) != "export_expired" || !strings.Contains(err.Error(), "made on") {
		t.Fatalf("download of an expired bundle: %v", err)
	}
	if _, err := f.store.Stat(f.ctx, oldKey); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("the expired bundle's object: %v, want it destroyed", err)
	}
	if _, key, err := f.db.ExportObject(f.ctx, recent); err != nil || key != recentKey {
		t.Fatalf("the recent bundle: %q, %v", key, err)
	}
	if a := f.actions(); a["export.expire"] != 1 {
		t.Fatalf("audit: %v", a)
	}
	// Keeping for ever: nothing expires, however old.
	if _, err := f.db.Pool().Exec(f.ctx, "UPDATE exports SET finished_at = now() - interval '400 days' WHERE id = $1", recent); err != nil {
		t.Fatal(err)
	}
	if err := f.exports(0).Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, key, err := f.db.ExportObject(f.ctx, recent); err != nil || key != recentKey {
		t.Fatalf("a bundle kept for ever: %q, %v", key, err)
	}
}
