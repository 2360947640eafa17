package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func newUUID() string { return uuid.Must(uuid.NewV7()).String() }

// ictCtx is a second person, of the ICT service desk, who approves what the
// tester raised.
func ictCtx() context.Context {
	return casefile.WithActor(context.Background(), casefile.Actor{ID: "ict-1", Kind: casefile.ActorUser, Name: "ict.desk", Role: casefile.RoleICT})
}

// removeByTicket raises, approves and carries out a removal of a note.
func removeByTicket(t *testing.T, db *postgres.DB, noteID, reason string) *casefile.Ticket {
	t.Helper()
	ctx := actorCtx()
	tk := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "note", TargetID: noteID, Reason: reason}
	if err := db.CreateTicket(ctx, tk); err != nil {
		t.Fatalf("raise: %v", err)
	}
	if _, err := db.ApproveTicket(ictCtx(), tk.ID); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if err := db.RemoveNote(ctx, tk); err != nil {
		t.Fatalf("remove: %v", err)
	}
	return tk
}

// Reasons are content: a removal clears a correction's reason and every
// amendment's reason with the bodies, so that they show nowhere after it
// (the note, its versions, the note it corrects, a new export), and the
// database allows exactly that clearing and nothing else.
func TestRemovalClearsReasons(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "R1")
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	orig := mustNote(t, db, p.ID, "contact", at, "Spoke to mum at the door.")
	const corrReason = "Mum's new partner is Jo Bloggs, not J Smith"
	corr := &casefile.Note{PersonID: p.ID, Type: "correction", OccurredAt: at, CorrectsNoteID: &orig.ID, CorrectionReason: corrReason}
	if err := db.CreateNote(ctx, corr, "Correction: the partner's name."); err != nil {
		t.Fatal(err)
	}
	kept := &casefile.Note{PersonID: p.ID, Type: "correction", OccurredAt: at, CorrectsNoteID: &orig.ID, CorrectionReason: "Time was wrong"}
	if err := db.CreateNote(ctx, kept, "Correction: at 10:30."); err != nil {
		t.Fatal(err)
	}
	visit := mustNote(t, db, p.ID, "cin_visit", at, "Seen alone.")
	const amendReason = "Omitted that he disclosed a bruise from Jo Bloggs"
	if _, err := db.Pool().Exec(ctx, "UPDATE notes SET reopened_by_ticket = $2 WHERE id = $1", visit.ID, "0190a0c0-0000-7000-8000-0000000000c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AmendNote(ctx, visit.ID, "Seen alone; disclosed a bruise.", amendReason); err != nil {
		t.Fatal(err)
	}

	// The database refuses to clear or change a reason of an active note.
	for _, sql := range []string{
		"UPDATE notes SET correction_reason = NULL WHERE id = '" + corr.ID + "'",
		"UPDATE notes SET correction_reason = 'other' WHERE id = '" + corr.ID + "'",
		"UPDATE note_versions SET reason = NULL WHERE note_id = '" + visit.ID + "' AND version = 2",
	} {
		if _, err := db.Pool().Exec(ctx, sql); pgCode(err) != "42501" && pgCode(err) != "23514" {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}

	removeByTicket(t, db, corr.ID, "third party named in the reason")
	removeByTicket(t, db, visit.ID, "disclosure recorded on the wrong child")

	got, err := db.Note(ctx, corr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CorrectionReason != "" || got.Body != nil || got.CorrectsNoteID == nil {
		t.Errorf("removed correction = %+v, want its reason and body gone and its link kept", got)
	}
	parent, err := db.Note(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parent.Corrections {
		if c.ID == corr.ID && c.CorrectionReason != "" {
			t.Errorf("the corrected note still shows the removed correction's reason: %q", c.CorrectionReason)
		}
		if c.ID == kept.ID && c.CorrectionReason != "Time was wrong" {
			t.Errorf("an active correction lost its reason: %q", c.CorrectionReason)
		}
	}
	vs, err := db.NoteVersions(ctx, visit.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Reason != "" || v.Body != nil {
			t.Errorf("version %d after removal: reason %q body %v", v.Version, v.Reason, v.Body)
		}
	}
	if err := db.ExportNotes(ctx, p.ID, func(n *casefile.ExportNote) error {
		if n.ID == corr.ID && n.CorrectionReason != "" {
			t.Errorf("a new export's chronology shows the removed correction's reason")
		}
		for _, h := range n.History {
			if n.ID == visit.ID && h.Reason != "" {
				t.Errorf("a new export's chronology shows the removed amendment's reason")
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// In the tables themselves, not only in what is read out.
	var left int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM notes WHERE correction_reason IN ($1, $2))
		+ (SELECT count(*) FROM note_versions WHERE reason IN ($1, $2))`, corrReason, amendReason).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d rows still hold a removed reason", left)
	}
	// Once cleared, a reason cannot be put back.
	for _, sql := range []string{
		"UPDATE notes SET correction_reason = 'back' WHERE id = '" + corr.ID + "'",
		"UPDATE note_versions SET reason = 'back' WHERE note_id = '" + visit.ID + "' AND version = 2",
	} {
		if _, err := db.Pool().Exec(ctx, sql); pgCode(err) != "42501" {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}
	if s := strings.Join(actions(t, db, p.ID), ","); !strings.Contains(s, "note.remove") {
		t.Errorf("no removal audited: %s", s)
	}
}

// destroyPerson puts a person in the state a retention run leaves them in:
// identity destroyed, only the residual record left.
func destroyPerson(t *testing.T, db *postgres.DB, id string) {
	t.Helper()
	if _, err := db.Pool().Exec(actorCtx(), `UPDATE persons SET given_name = NULL, family_name = NULL, date_of_birth = NULL,
		status = 'destroyed', identity_destroyed_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

// A destroyed person's record takes no writes: notes, involvements,
// re-index targets, exports and the legacy import are refused as uploads
// already are (409 person_destroyed), and nothing is stored.
func TestDestroyedPersonTakesNoWrites(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	gone, live := mustPerson(t, db, "D-GONE"), mustPerson(t, db, "D-LIVE")
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	inv := &casefile.Involvement{PersonID: gone.ID, Kind: "child_in_need", StartedOn: casefile.Date{Year: 2020, Month: 1, Day: 1}}
	if err := db.AddInvolvement(ctx, inv); err != nil {
		t.Fatal(err)
	}
	misfiled := mustNote(t, db, live.ID, "contact", at, "Phoned dad.")
	destroyPerson(t, db, gone.ID)

	refusals := map[string]error{}
	refusals["note"] = db.CreateNote(ctx, &casefile.Note{PersonID: gone.ID, Type: "contact", OccurredAt: at}, "Phoned mum.")
	refusals["involvement"] = db.AddInvolvement(ctx, &casefile.Involvement{PersonID: gone.ID, Kind: "looked_after",
		StartedOn: casefile.Date{Year: 2021, Month: 1, Day: 1}})
	_, refusals["close involvement"] = db.CloseInvolvement(ctx, inv.ID, casefile.Date{Year: 2022, Month: 1, Day: 1})
	to := gone.ID
	refusals["reindex target"] = db.CreateTicket(ctx, &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note",
		TargetID: misfiled.ID, ToPersonID: &to, Reason: "wrong child"})
	_, refusals["export"] = db.CreateExport(ctx, gone.ID)
	for what, err := range refusals {
		if casefile.ErrorKind(err) != casefile.EConflict || casefile.ErrorCode(err) != "person_destroyed" {
			t.Errorf("%s on a destroyed person: %v, want 409 person_destroyed", what, err)
		}
	}
	res, err := db.ImportNotes(ctx, []*casefile.NoteImport{{Line: 2, LegacyID: "L-1", PersonRef: "D-GONE", Type: "contact",
		OccurredAt: at, RecordedAt: at, Author: "legacy", Body: "Old note."}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Imported != 0 || !strings.Contains(res.Problems[0].Msg, "person_destroyed") {
		t.Errorf("import onto a destroyed person: %+v", res)
	}
	var notes, invs, tickets, exports int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM notes WHERE person_id = $1), (SELECT count(*) FROM involvements WHERE person_id = $1),
		(SELECT count(*) FROM tickets WHERE to_person_id = $1), (SELECT count(*) FROM exports WHERE person_id = $1)`, gone.ID).
		Scan(&notes, &invs, &tickets, &exports); err != nil {
		t.Fatal(err)
	}
	if notes != 0 || invs != 1 || tickets != 0 || exports != 0 {
		t.Errorf("stored on the destroyed person: %d notes, %d involvements, %d tickets, %d exports", notes, invs, tickets, exports)
	}
	var ended *time.Time
	if err := db.Pool().QueryRow(ctx, "SELECT ended_on FROM involvements WHERE id = $1", inv.ID).Scan(&ended); err != nil || ended != nil {
		t.Errorf("the destroyed person's involvement was closed: %v %v", ended, err)
	}
	// The live person still takes writes.
	if err := db.CreateNote(ctx, &casefile.Note{PersonID: live.ID, Type: "contact", OccurredAt: at}, "Phoned dad again."); err != nil {
		t.Errorf("note on a live person: %v", err)
	}
}

// incompressible returns n random hex characters: stored as they are (no
// compression shortens them), so that their bytes can be looked for on disk.
func incompressible(n int) string {
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Nothing of the content survives a removal: not the filename a sender
// chose, not the typed reasons in the append-only log, and not the old row
// versions, TOAST chunks and search-index keys PostgreSQL keeps after an
// UPDATE (looked for in the pages with pageinspect; fails without the purge).
func TestRemovalLeavesNothingOfTheContent(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "C1")
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	// Words that appear nowhere else, in the body, the reason, the document.
	const bodyWord, reasonWord, fileWord, ticketWord = "Zanzibarquux", "Quuxreasonx", "Xyzzyfilename", "Plughheadjo"
	long := bodyWord + " said " + incompressible(6000) // TOASTed
	orig := mustNote(t, db, p.ID, "contact", at, "Spoke to mum.")
	corr := &casefile.Note{PersonID: p.ID, Type: "correction", OccurredAt: at, CorrectsNoteID: &orig.ID, CorrectionReason: reasonWord + " was named"}
	if err := db.CreateNote(ctx, corr, long); err != nil {
		t.Fatal(err)
	}
	docID, attID := newUUID(), newUUID()
	filename := "Referral re Amy Pond – allegation against J Smith " + fileWord + ".pdf"
	att := &casefile.Document{ID: attID, ParentID: &docID, Kind: casefile.DocumentAttachment, Filename: fileWord + "-statement.pdf",
		Category: "correspondence", ContentType: "application/pdf", Size: 3, SHA256: strings.Repeat("b", 64), ObjectKey: "documents/" + attID,
		Text: fileWord + " statement text"}
	doc := &casefile.Document{ID: docID, PersonID: p.ID, Kind: casefile.DocumentEmail, Filename: filename, Title: fileWord + " title",
		Category: "correspondence", ContentType: "message/rfc822", Size: 3, SHA256: strings.Repeat("a", 64), ObjectKey: "documents/" + docID,
		Email: &casefile.EmailMeta{Subject: "Re: " + fileWord, From: "head@school.example.org"}, Text: fileWord + " body text",
		Attachments: []*casefile.Document{att}}
	if err := db.CreateDocument(ctx, doc, ""); err != nil {
		t.Fatal(err)
	}
	tables := []string{"notes", "note_versions", "documents", "audit_events"}
	needles := []string{bodyWord, strings.ToLower(bodyWord), reasonWord, fileWord, strings.ToLower(fileWord), ticketWord}
	// The check can see them while they are there.
	if got := testenv.PagesHolding(t, db, tables, needles...); len(got[bodyWord]) == 0 || len(got[fileWord]) == 0 || len(got[reasonWord]) == 0 {
		t.Fatalf("the page check does not find live content: %v", got)
	}

	// A rejected ticket's reason and the removal tickets' reasons are typed
	// by people about people.
	rej := &casefile.Ticket{Kind: casefile.TicketReindex, TargetType: "note", TargetID: orig.ID, ToPersonID: &mustPerson(t, db, "C2").ID,
		Reason: ticketWord + " says this is her brother"}
	if err := db.CreateTicket(ctx, rej); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RejectTicket(ctx, rej.ID, "No: "+ticketWord+" was mistaken"); err != nil {
		t.Fatal(err)
	}
	removeByTicket(t, db, corr.ID, "Pasted email from "+ticketWord)
	dt := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: docID, Reason: ticketWord + "'s allegation"}
	if err := db.CreateTicket(ctx, dt); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApproveTicket(ictCtx(), dt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkDocumentRemoved(ctx, dt); err != nil {
		t.Fatal(err)
	}
	if err := db.ClearDocumentContent(ctx, dt); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{docID, attID} {
		d, err := db.Document(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Filename != "removed-"+id || d.Title != "" || d.Email != nil {
			t.Errorf("removed document %s: filename %q title %q email %v", id, d.Filename, d.Title, d.Email)
		}
	}
	// The log keeps a digest and the length of each typed reason, never the text.
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	digests := 0
	for _, e := range evs {
		if strings.Contains(string(e.Details), ticketWord) {
			t.Errorf("%s keeps a typed reason in the log: %s", e.Action, e.Details)
		}
		if strings.Contains(string(e.Details), `"reason_sha256"`) {
			digests++
		}
	}
	if digests != 4 { // three raised, one rejected
		t.Errorf("%d events carry a reason's digest, want 4", digests)
	}
	// The ticket keeps its reason (the tombstone says why), where a
	// destruction of the record can reach it.
	if got, _ := db.Ticket(ctx, dt.ID); got == nil || !strings.Contains(got.Reason, ticketWord) {
		t.Errorf("the ticket lost its reason: %+v", got)
	}
	// Nothing of the note's body, its reason or the document's names is left
	// on disk in the tables, their TOAST or their indexes.
	if got := testenv.PagesHolding(t, db, tables[:3], needles[:5]...); len(got) > 0 {
		t.Errorf("content left on disk after removal: %v", got)
	}
}
