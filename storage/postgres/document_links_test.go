package postgres_test

import (
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

// linkFixture stores an email with one attachment on amy's record.
func storeEmail(t *testing.T, db *postgres.DB, person, sha string) *casefile.Document {
	t.Helper()
	id, att := newUUID(), newUUID()
	d := &casefile.Document{ID: id, PersonID: person, Kind: casefile.DocumentEmail, Filename: "m.eml", Title: "School", Category: "correspondence",
		ContentType: "message/rfc822", Size: 10, SHA256: sha, ObjectKey: "documents/" + id, Text: "Amy and Rory were absent",
		Email: &casefile.EmailMeta{Subject: "Absence", From: "head@school.example.org"}}
	d.Attachments = []*casefile.Document{{ID: att, PersonID: person, Kind: casefile.DocumentAttachment, ParentID: &d.ID, Filename: "a.pdf",
		Title: "a.pdf", Category: "correspondence", ContentType: "application/pdf", Size: 3, SHA256: sha + "-a", ObjectKey: "documents/" + att}}
	if err := db.CreateDocument(actorCtx(), d, ""); err != nil {
		t.Fatal(err)
	}
	return d
}

// Linking files the email and its attachments on the other record as rows
// of that record naming the same objects, audited on both records; linking
// again gives the same link; the refusals say why.
func TestLinkDocumentFilesOneObjectOnTwoRecords(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	amy, rory, gone := mustPerson(t, db, "L-AMY"), mustPerson(t, db, "L-RORY"), mustPerson(t, db, "L-GONE")
	d := storeEmail(t, db, amy.ID, "sha-l1")

	link, existed, err := db.LinkDocument(ctx, d.ID, rory.ID)
	if err != nil || existed {
		t.Fatalf("link: %v, existed %v", err, existed)
	}
	if link.ID == d.ID || link.PersonID != rory.ID || link.SHA256 != d.SHA256 || link.ObjectKey != d.ObjectKey ||
		link.Email == nil || link.Email.Subject != "Absence" || link.Title != "School" || link.Status != casefile.StatusActive {
		t.Fatalf("the link: %+v", link)
	}
	if len(link.Attachments) != 1 || link.Attachments[0].ObjectKey != d.Attachments[0].ObjectKey ||
		link.Attachments[0].ParentID == nil || *link.Attachments[0].ParentID != link.ID || link.Attachments[0].PersonID != rory.ID {
		t.Fatalf("the link's attachment: %+v", link.Attachments)
	}
	var text string
	if err := db.Pool().QueryRow(ctx, "SELECT body_text FROM documents WHERE id = $1", link.ID).Scan(&text); err != nil || text != "Amy and Rory were absent" {
		t.Fatalf("the link's searchable text: %q, %v", text, err)
	}
	// Where the text stands is copied; an attachment still to be extracted
	// gets its own extraction task.
	var emailState, attState string
	var queued int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT text_state FROM documents WHERE id = $1), (SELECT text_state FROM documents WHERE id = $2),
		(SELECT count(*) FROM outbox WHERE task_type = $3 AND payload->>'document_id' = $2::text)`,
		link.ID, link.Attachments[0].ID, casefile.TaskDocumentExtract).Scan(&emailState, &attState, &queued); err != nil {
		t.Fatal(err)
	}
	if emailState != casefile.TextDone || attState != casefile.TextPending || queued != 1 {
		t.Fatalf("the link's text: email %s, attachment %s with %d extraction tasks", emailState, attState, queued)
	}
	docs, _, err := db.Documents(ctx, rory.ID, casefile.Page{})
	if err != nil || len(docs) != 1 || docs[0].ID != link.ID {
		t.Fatalf("Rory's documents: %v, %v", docs, err)
	}

	again, existed, err := db.LinkDocument(ctx, d.ID, rory.ID)
	if err != nil || !existed || again.ID != link.ID {
		t.Fatalf("linking twice: %+v, existed %v, %v", again, existed, err)
	}
	// From the link back to the first record: the same document is there.
	back, existed, err := db.LinkDocument(ctx, link.ID, amy.ID)
	if err != nil || !existed || back.ID != d.ID {
		t.Fatalf("linking back: %+v, existed %v, %v", back, existed, err)
	}

	destroyPerson(t, db, gone.ID)
	for name, c := range map[string]struct {
		doc, person, code string
	}{
		"to the same person":    {d.ID, amy.ID, "same_person"},
		"to a destroyed person": {d.ID, gone.ID, "person_destroyed"},
		"an attachment alone":   {d.Attachments[0].ID, rory.ID, "attachment_not_linkable"},
		"to no person":          {d.ID, newUUID(), "person_not_found"},
		"no document":           {newUUID(), rory.ID, "not_found"},
	} {
		if _, _, err := db.LinkDocument(ctx, c.doc, c.person); casefile.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	if _, err := db.Pool().Exec(ctx, "UPDATE documents SET status = 'removed' WHERE id = $1", d.ID); err != nil {
		t.Fatal(err)
	}
	third := mustPerson(t, db, "L-THIRD")
	if _, _, err := db.LinkDocument(ctx, d.ID, third.ID); casefile.ErrorKind(err) != casefile.EConflict || casefile.ErrorCode(err) != "document_not_active" {
		t.Errorf("a removed document: %v, want 409 document_not_active", err)
	}

	for person, action := range map[string]string{amy.ID: "document.link_out", rory.ID: "document.link_in"} {
		evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: person, Action: action})
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s on %s: %d events, %v", action, person, len(evs), err)
		}
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}

// An object filed on two records keeps the later retain-until either record
// wants and is held while a hold covers either; the reconciliation sees the
// key once.
func TestLinkedObjectLockFollowsBothRecords(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	amy, rory := mustPerson(t, db, "K-AMY"), mustPerson(t, db, "K-RORY")
	d := storeEmail(t, db, amy.ID, "sha-k1")
	link, _, err := db.LinkDocument(ctx, d.ID, rory.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Amy's record is due in 2030, Rory's in 2040.
	if _, err := db.Pool().Exec(ctx, `INSERT INTO person_retention (person_id, record_class, trigger, trigger_date, disposal_due_on, open, reason)
		VALUES ($1, 'x', 'x', '2000-01-01', '2030-01-01', false, ''), ($2, 'x', 'x', '2000-01-01', '2040-01-01', false, '')
		ON CONFLICT (person_id) DO UPDATE SET disposal_due_on = excluded.disposal_due_on, open = false`, amy.ID, rory.ID); err != nil {
		t.Fatal(err)
	}
	today := casefile.Date{Year: 2026, Month: 1, Day: 1}
	cs, err := db.PendingRetainUntil(ctx, today, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{d.ID: true, d.Attachments[0].ID: true, link.ID: true, link.Attachments[0].ID: true}
	for _, c := range cs {
		if !want[c.DocumentID] {
			continue
		}
		delete(want, c.DocumentID)
		if c.RetainUntil.String() != "2040-01-01" {
			t.Errorf("%s: retain until %s, want the later of the two records' dates, 2040-01-01", c.DocumentID, c.RetainUntil)
		}
	}
	if len(want) != 0 {
		t.Fatalf("not listed: %v (got %v)", want, cs)
	}

	if err := db.CreateHold(ctx, &casefile.Hold{Name: "Inquiry", Reason: "r", PersonIDs: []string{rory.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SyncHoldIntent(ctx); err != nil {
		t.Fatal(err)
	}
	held, err := db.PendingLegalHolds(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	on := map[string]bool{}
	for _, c := range held {
		on[c.DocumentID] = c.LegalHold
	}
	for _, id := range []string{d.ID, d.Attachments[0].ID, link.ID, link.Attachments[0].ID} {
		if !on[id] {
			t.Errorf("%s: legal hold not wanted although Rory's hold covers its object (%v)", id, held)
		}
	}

	refs, err := db.ActiveObjects(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range refs {
		seen[r.Key]++
	}
	if len(refs) != 2 || seen[d.ObjectKey] != 1 || seen[d.Attachments[0].ObjectKey] != 1 {
		t.Fatalf("active objects: %+v", refs)
	}
}
