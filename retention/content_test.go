package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// Nothing of the content survives a destruction: a destroyed document's
// filename, a correction's and an amendment's reason, the typed reasons of
// the person's tickets and of a released hold that covered only them (kept
// on their rows, never in the append-only log), and the old row versions,
// TOAST chunks and search-index keys PostgreSQL keeps after an UPDATE
// (looked for in the pages with pageinspect). The certificate says how long
// copies outside the service (WAL, backups) keep the content.
func TestDestructionLeavesNothingOfTheContent(t *testing.T) {
	e := newEnv(t)
	e.db.SetResidualCopies("Backups are kept 35 days; archived WAL 14 days.")
	today := casefile.Today()
	p := e.person("DC-1", today)
	other := e.person("DC-2", casefile.DateOf(time.Now().AddDate(20, 0, 0)))
	const bodyWord, reasonWord, fileWord, ticketWord, holdWord = "Zanzibarquux", "Quuxreasonx", "Xyzzyfilename", "Plughheadjo", "Holdwordfrob"
	const decisionWord = "Keepwordgrault"

	// A document whose sender chose a telling filename.
	content := "letter " + fileWord
	sum := sha256.Sum256([]byte(content))
	d := &casefile.Document{ID: newID(t), PersonID: p.ID, Kind: casefile.DocumentEmail, Category: "correspondence",
		Filename: "Referral re Amy Pond – allegation against J Smith " + fileWord + ".eml", Title: fileWord,
		ContentType: "message/rfc822", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), ParseWarnings: []string{},
		Email: &casefile.EmailMeta{Subject: fileWord, From: "head@school.example.org"}, Text: content}
	d.ObjectKey = "documents/" + d.ID
	if _, err := e.s3.Put(e.ctx, d.ObjectKey, strings.NewReader(content), int64(len(content)), "message/rfc822", time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateDocument(e.ctx, d, ""); err != nil {
		t.Fatal(err)
	}
	// A note, a correction with a reason, a visit note amended with a reason.
	orig := e.note(p, bodyWord+" at the door")
	corr := &casefile.Note{PersonID: p.ID, Type: "correction", OccurredAt: time.Now().Add(-time.Hour), CorrectsNoteID: &orig,
		CorrectionReason: reasonWord + " was the partner"}
	if err := e.db.CreateNote(e.ctx, corr, "Correction: the partner."); err != nil {
		t.Fatal(err)
	}
	visit := &casefile.Note{PersonID: p.ID, Type: "cin_visit", OccurredAt: time.Now().Add(-time.Hour)}
	if err := e.db.CreateNote(e.ctx, visit, "Seen alone."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(e.ctx, "UPDATE notes SET reopened_by_ticket = gen_random_uuid() WHERE id = $1", visit.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AmendNote(e.ctx, visit.ID, "Seen alone; bruise.", reasonWord+" disclosed"); err != nil {
		t.Fatal(err)
	}
	// A re-index ticket raised and rejected, with typed reasons.
	tk := &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: orig, ToPersonID: &other.ID,
		Reason: ticketWord + " says this is her brother's"}
	if err := e.db.CreateTicket(e.ctx, tk); err != nil {
		t.Fatal(err)
	}
	ict := casefile.WithActor(context.Background(), casefile.Actor{ID: "ict-2", Name: "ict.desk", Role: casefile.RoleICT})
	if _, err := e.db.RejectTicket(ict, tk.ID, "No: "+ticketWord+" was mistaken"); err != nil {
		t.Fatal(err)
	}
	// A hold on this person alone, placed and released.
	hold := &casefile.Hold{Name: holdWord + " v Council", Reason: holdWord + " complaint", PersonIDs: []string{p.ID}}
	if err := e.db.CreateHold(e.ctx, hold); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ReleaseHold(e.ctx, hold.ID, holdWord+" complaint withdrawn"); err != nil {
		t.Fatal(err)
	}
	// A records officer kept the record a while, then returned it to the
	// disposal lists; both reasons are about the person.
	until := today.AddDays(30)
	if err := e.db.DecideReview(e.ctx, &casefile.ReviewDecision{PersonID: p.ID, Decision: casefile.DecisionKeep, Until: &until,
		Reason: decisionWord + " asked to keep it"}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.DecideReview(e.ctx, &casefile.ReviewDecision{PersonID: p.ID, Decision: casefile.DecisionReturn,
		Reason: decisionWord + " withdrew"}); err != nil {
		t.Fatal(err)
	}
	tables := []string{"notes", "note_versions", "documents", "tickets", "holds", "persons", "retention_review_decisions"}
	needles := []string{bodyWord, strings.ToLower(bodyWord), reasonWord, fileWord, ticketWord, holdWord, "Given DC-1", decisionWord}
	if got := testenv.PagesHolding(t, e.db, tables, needles...); len(got) < len(needles)-1 {
		t.Fatalf("the page check does not find the live content: %v", got)
	}

	run := e.run(false, today)
	if run.Destroyed == 0 || run.Certificate == nil {
		t.Fatalf("run = %+v", run)
	}
	if !strings.Contains(run.Certificate.ResidualCopies, "Backups are kept 35 days") ||
		!strings.Contains(run.Certificate.ResidualCopies, "write-ahead log") {
		t.Errorf("the certificate does not say where copies remain: %q", run.Certificate.ResidualCopies)
	}

	var filename string
	var corrReason, verReason *string
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT (SELECT filename FROM documents WHERE id = $1),
		(SELECT correction_reason FROM notes WHERE id = $2), (SELECT reason FROM note_versions WHERE note_id = $3 AND version = 2)`,
		d.ID, corr.ID, visit.ID).Scan(&filename, &corrReason, &verReason); err != nil {
		t.Fatal(err)
	}
	if filename != "removed-"+d.ID || corrReason != nil || verReason != nil {
		t.Errorf("after destruction: filename %q, correction reason %v, amendment reason %v", filename, corrReason, verReason)
	}
	var ticketTexts, holdTexts, decisionTexts int
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT (SELECT count(*) FROM tickets WHERE reason LIKE '%'||$1||'%' OR decision_reason LIKE '%'||$1||'%'),
		(SELECT count(*) FROM holds WHERE name LIKE '%'||$2||'%' OR reason LIKE '%'||$2||'%' OR release_reason LIKE '%'||$2||'%'),
		(SELECT count(*) FROM retention_review_decisions WHERE reason LIKE '%'||$3||'%')`,
		ticketWord, holdWord, decisionWord).Scan(&ticketTexts, &holdTexts, &decisionTexts); err != nil {
		t.Fatal(err)
	}
	if ticketTexts != 0 || holdTexts != 0 || decisionTexts != 0 {
		t.Errorf("typed text left with the destroyed record: %d tickets, %d holds, %d review decisions", ticketTexts, holdTexts, decisionTexts)
	}
	evs, _, err := e.db.AuditEvents(e.ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		for _, w := range []string{ticketWord, holdWord, decisionWord} {
			if strings.Contains(string(ev.Details), w) {
				t.Errorf("%s keeps typed text in the append-only log: %s", ev.Action, ev.Details)
			}
		}
	}
	if got := testenv.PagesHolding(t, e.db, tables, needles...); len(got) > 0 {
		t.Errorf("content left in PostgreSQL's pages after destruction: %v", got)
	}
}

// A real run's certificate lists what it destroyed, by person: reading the
// run (as the API does) leaves a read on each such person's trail; the
// runner's own reads (a system actor) leave none.
func TestCertificateReadIsAudited(t *testing.T) {
	e := newEnv(t)
	today := casefile.Today()
	p := e.person("CR-1", today)
	e.note(p, "Phoned mum.")
	run := e.run(false, today)
	count := func() int {
		evs, _, err := e.db.AuditEvents(e.ctx, casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 500}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Action == "retention.run.read" && strings.Contains(string(ev.Details), `"via":"certificate"`) {
				n++
			}
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("the runner's own reads were audited as reads of the record: %d", n)
	}
	got, err := e.db.RetentionRun(e.ctx, run.ID)
	if err != nil || got.Certificate == nil {
		t.Fatalf("run: %+v %v", got, err)
	}
	if n := count(); n != 1 {
		t.Errorf("reading the certificate left %d reads on the person's trail, want 1", n)
	}
}
