package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

func mustNote(t *testing.T, db *postgres.DB, personID, typ string, at time.Time, body string) *casefile.Note {
	t.Helper()
	n := &casefile.Note{PersonID: personID, Type: typ, OccurredAt: at}
	if err := db.CreateNote(actorCtx(), n, body); err != nil {
		t.Fatalf("create note: %v", err)
	}
	return n
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func actions(t *testing.T, db *postgres.DB, personID string) []string {
	t.Helper()
	evs, _, err := db.AuditEvents(actorCtx(), casefile.AuditFilter{PersonID: personID, Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

// The database itself refuses every change to a note except the two
// controlled paths: an amendment of a reopened visit note, and removal.
func TestNoteTriggersRefuseChanges(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "T1")
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	n := mustNote(t, db, p.ID, "contact", at, "Spoke to mum at the door.")
	visit := mustNote(t, db, p.ID, "cin_visit", at, "Seen alone in his room.")
	exec := func(sql string, args ...any) error {
		_, err := db.Pool().Exec(ctx, sql, args...)
		return err
	}

	refused := []struct{ name, sql string }{
		{"edit body", "UPDATE note_versions SET body = 'edited' WHERE note_id = $1"},
		{"blank body of an active note", "UPDATE note_versions SET body = NULL WHERE note_id = $1"},
		{"change body hash", "UPDATE note_versions SET body_sha256 = 'x' WHERE note_id = $1"},
		{"change version author", "UPDATE note_versions SET created_by = 'someone' WHERE note_id = $1"},
		{"delete version", "DELETE FROM note_versions WHERE note_id = $1"},
		{"delete note", "DELETE FROM notes WHERE id = $1"},
		{"change occurred_at", "UPDATE notes SET occurred_at = occurred_at - interval '1 day' WHERE id = $1"},
		{"change recorded_at", "UPDATE notes SET recorded_at = now() - interval '1 year' WHERE id = $1"},
		{"change author", "UPDATE notes SET author = 'someone else' WHERE id = $1"},
		{"change type", "UPDATE notes SET type = 'meeting' WHERE id = $1"},
		{"mark imported", "UPDATE notes SET imported = true WHERE id = $1"},
		{"add a version without reopen", "INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason) VALUES ($1, 2, 'b', 'x', 'x', 'r')"},
		{"move version without reopen", "UPDATE notes SET current_version = 2 WHERE id = $1"},
	}
	for _, id := range []string{n.ID, visit.ID} {
		for _, r := range refused {
			if err := exec(r.sql, id); err == nil || (pgCode(err) != "42501" && pgCode(err) != "23514") {
				t.Errorf("%s on %s: err = %v, want a refusal", r.name, id, err)
			}
		}
	}
	// TRUNCATE is not a row change; it must not be a way round either.
	if err := exec("TRUNCATE note_versions"); err == nil {
		t.Error("TRUNCATE note_versions succeeded")
	}

	// recorded_at is the server's clock, whatever an INSERT says.
	id := "0190a0c0-0000-7000-8000-00000000aa01"
	if err := exec(`INSERT INTO notes (id, person_id, type, occurred_at, recorded_at, author) VALUES ($1,$2,'contact',$3,'2001-01-01T00:00:00Z','x')`,
		id, p.ID, at); err != nil {
		t.Fatal(err)
	}
	var rec time.Time
	if err := db.Pool().QueryRow(ctx, "SELECT recorded_at FROM notes WHERE id = $1", id).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	if time.Since(rec) > time.Minute {
		t.Errorf("recorded_at taken from the INSERT: %v", rec)
	}
	if err := exec(`INSERT INTO notes (id, person_id, type, occurred_at, recorded_at, author, imported) VALUES (gen_random_uuid(),$1,'contact',$2,$2,'x',true)`,
		p.ID, at); err == nil {
		t.Error("an imported note without legacy_ref was accepted")
	}

	// Path 1: amendment while reopened — next version only, with a reason,
	// recording the reopen ticket.
	ticket := "0190a0c0-0000-7000-8000-0000000000t1"
	ticket = strings.Replace(ticket, "t1", "71", 1)
	if err := exec("UPDATE notes SET reopened_by_ticket = $2 WHERE id = $1", n.ID, ticket); err == nil {
		t.Error("a non-visit note was reopened")
	}
	if err := exec("UPDATE notes SET reopened_by_ticket = $2 WHERE id = $1", visit.ID, ticket); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	for name, sql := range map[string]string{
		"skip a version": "INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason) VALUES ($1, 3, 'b', 'x', 'x', 'r')",
		"no reason":      "INSERT INTO note_versions (note_id, version, body, body_sha256, created_by) VALUES ($1, 2, 'b', 'x', 'x')",
		"other ticket":   "INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason, ticket_id) VALUES ($1, 2, 'b', 'x', 'x', 'r', gen_random_uuid())",
	} {
		if err := exec(sql, visit.ID); err == nil {
			t.Errorf("amendment with %s was accepted", name)
		}
	}
	if err := exec("INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason) VALUES ($1, 2, 'amended', 'x', 'ict', 'r')", visit.ID); err != nil {
		t.Fatalf("amendment while reopened: %v", err)
	}
	var got string
	if err := db.Pool().QueryRow(ctx, "SELECT ticket_id::text FROM note_versions WHERE note_id = $1 AND version = 2", visit.ID).Scan(&got); err != nil || got != ticket {
		t.Errorf("amendment's ticket = %q, %v; want %s", got, err, ticket)
	}
	if err := exec("UPDATE notes SET current_version = 3 WHERE id = $1", visit.ID); err == nil {
		t.Error("current_version moved to a version that does not exist")
	}
	if err := exec("UPDATE notes SET current_version = 2, reopened_by_ticket = NULL WHERE id = $1", visit.ID); err != nil {
		t.Fatalf("close the window: %v", err)
	}
	if err := exec("UPDATE notes SET current_version = 1 WHERE id = $1", visit.ID); err == nil {
		t.Error("current_version moved back")
	}

	// Path 2: removal — status and tombstone first, then the bodies go.
	if err := exec("UPDATE notes SET status = 'removed' WHERE id = $1", n.ID); pgCode(err) != "23514" {
		t.Errorf("removal without a tombstone: %v", err)
	}
	if err := exec("UPDATE notes SET status = 'destroyed' WHERE id = $1", n.ID); pgCode(err) != "23514" {
		t.Errorf("destruction without a date: %v", err)
	}
	if err := exec("UPDATE notes SET status = 'removed', removed_at = now(), removal_ticket_id = gen_random_uuid() WHERE id = $1", n.ID); err != nil {
		t.Fatalf("removal: %v", err)
	}
	if err := exec("UPDATE note_versions SET body = 'x' WHERE note_id = $1", n.ID); err == nil {
		t.Error("a removed note's body was rewritten")
	}
	if err := exec("UPDATE note_versions SET body = NULL WHERE note_id = $1", n.ID); err != nil {
		t.Fatalf("destroy removed body: %v", err)
	}
	if err := exec("UPDATE notes SET status = 'active' WHERE id = $1", n.ID); err == nil {
		t.Error("a removed note was restored")
	}
	if err := exec("DELETE FROM notes WHERE id = $1", n.ID); err == nil {
		t.Error("a removed note was deleted")
	}
	removed, err := db.Note(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if removed.Body != nil || removed.Status != "removed" || removed.Tombstone == nil || removed.Tombstone.TicketID == "" {
		t.Errorf("removed note = %+v", removed)
	}
}

func TestCreateNoteCorrectionsAndAudit(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "C1")
	other := mustPerson(t, db, "C2")
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	before := time.Now()
	orig := mustNote(t, db, p.ID, "telephone_call", at, "School said attendance is 80%.")
	if orig.RecordedAt.Before(before.Add(-time.Second)) || orig.Author != "tester" || orig.Versions != 1 || *orig.Body != "School said attendance is 80%." {
		t.Fatalf("note = %+v", orig)
	}
	corr := &casefile.Note{PersonID: p.ID, Type: "correction", OccurredAt: at.Add(time.Hour), CorrectsNoteID: &orig.ID, CorrectionReason: "Misheard"}
	if err := db.CreateNote(ctx, corr, "Attendance is 90%, not 80%."); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		person, corrects, code string
	}{
		"other person": {other.ID, orig.ID, "correction_on_other_person"},
		"missing note": {p.ID, "0190a0c0-0000-7000-8000-000000000999", "corrected_note_not_found"},
		"not a uuid":   {p.ID, "L-17", "corrected_note_not_found"},
	} {
		c := tc.corrects
		err := db.CreateNote(ctx, &casefile.Note{PersonID: tc.person, Type: "correction", OccurredAt: at, CorrectsNoteID: &c, CorrectionReason: "r"}, "x")
		if casefile.ErrorCode(err) != tc.code || casefile.ErrorKind(err) != casefile.EUnprocessable {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if err := db.CreateNote(ctx, &casefile.Note{PersonID: "0190a0c0-0000-7000-8000-000000000998", Type: "contact", OccurredAt: at}, "x"); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Errorf("note on a missing person: %v", err)
	}
	got, err := db.Note(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Body != *orig.Body || len(got.Corrections) != 1 || got.Corrections[0].ID != corr.ID || got.Corrections[0].CorrectionReason != "Misheard" {
		t.Fatalf("note with corrections = %+v", got)
	}
	if _, err := db.Note(ctx, "0190a0c0-0000-7000-8000-000000000997"); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Errorf("missing note: %v", err)
	}
	want := []string{"person.create", "note.create", "note.create", "note.read"}
	if diff := cmp.Diff(want, actions(t, db, p.ID)); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

func TestNotesChronologicalPagedAndSearched(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "L1")
	base := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	// Created out of order; two share an occurred_at (then recorded_at decides).
	c := mustNote(t, db, p.ID, "meeting", base.Add(48*time.Hour), "Core group meeting; school present.")
	a := mustNote(t, db, p.ID, "cla_placement_visit", base, "Visited at the placement; bedroom checked.")
	b1 := mustNote(t, db, p.ID, "telephone_call", base.Add(24*time.Hour), "Rang the school about attendance.")
	b2 := mustNote(t, db, p.ID, "contact", base.Add(24*time.Hour), "Mum rang back about attendance.")
	d := mustNote(t, db, p.ID, "other", base.Add(72*time.Hour), "Placements panel date set.")
	want := []string{a.ID, b1.ID, b2.ID, c.ID, d.ID}

	var got []string
	cursor := ""
	pages := 0
	for {
		ns, next, err := db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID, Page: casefile.Page{Limit: 2, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range ns {
			got = append(got, n.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Fatalf("chronological pages (%d) (-want +got):\n%s", pages, diff)
	}

	search := func(q string) []string {
		ns, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID, Query: q})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		ids := []string{}
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		return ids
	}
	for q, want := range map[string][]string{
		"attendance":           {b1.ID, b2.ID},
		"placement":            {a.ID, d.ID}, // stemmed: placements
		"school -attendance":   {c.ID},
		`"bedroom checked"`:    {a.ID},
		"nothing-like-this":    {},
		"& | ! ( ) : * ' \\ <": {},
	} {
		if diff := cmp.Diff(want, search(q)); diff != "" {
			t.Errorf("search %q (-want +got):\n%s", q, diff)
		}
	}
	if _, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: p.ID, Page: casefile.Page{Cursor: "garbage"}}); casefile.ErrorCode(err) != "invalid_cursor" {
		t.Errorf("bad cursor: %v", err)
	}
	if _, _, err := db.Notes(ctx, casefile.NoteFilter{PersonID: "0190a0c0-0000-7000-8000-000000000996"}); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Errorf("missing person: %v", err)
	}
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	reads, searches := 0, 0
	for _, e := range evs {
		switch e.Action {
		case "note.read":
			reads++
			if !strings.Contains(string(e.Details), `"via":"list"`) {
				t.Errorf("list read details = %s", e.Details)
			}
		case "note.search":
			searches++
			if strings.Contains(string(e.Details), "attendance") {
				t.Errorf("the search terms are in the audit log: %s", e.Details)
			}
		}
	}
	if reads != 3 || searches != 6 {
		t.Errorf("audited %d list reads and %d searches, want 3 and 6", reads, searches)
	}
}

func TestAmendNoteOnlyWhileReopened(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "A1")
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	visit := mustNote(t, db, p.ID, "cp_plan_visit", at, "Seen with mum.")
	call := mustNote(t, db, p.ID, "telephone_call", at, "Rang GP.")
	if _, err := db.AmendNote(ctx, call.ID, "x", "r"); casefile.ErrorCode(err) != "not_a_visit_note" {
		t.Errorf("amend a call: %v", err)
	}
	if _, err := db.AmendNote(ctx, visit.ID, "x", "r"); casefile.ErrorCode(err) != "not_reopened" || casefile.ErrorKind(err) != casefile.EConflict {
		t.Errorf("amend without reopen: %v", err)
	}
	ticket := "0190a0c0-0000-7000-8000-0000000000c1"
	if _, err := db.Pool().Exec(ctx, "UPDATE notes SET reopened_by_ticket = $2 WHERE id = $1", visit.ID, ticket); err != nil {
		t.Fatal(err)
	}
	n, err := db.AmendNote(ctx, visit.ID, "Seen with mum; then seen alone.", "Omitted that he was seen alone")
	if err != nil {
		t.Fatal(err)
	}
	if n.Versions != 2 || *n.Body != "Seen with mum; then seen alone." || n.ReopenedBy != nil {
		t.Fatalf("amended = %+v", n)
	}
	if _, err := db.AmendNote(ctx, visit.ID, "again", "r"); casefile.ErrorCode(err) != "not_reopened" {
		t.Errorf("second amendment in one window: %v", err)
	}
	vs, err := db.NoteVersions(ctx, visit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || *vs[0].Body != "Seen with mum." || vs[0].Version != 1 || vs[1].Version != 2 ||
		vs[1].Reason != "Omitted that he was seen alone" || vs[1].TicketID == nil || *vs[1].TicketID != ticket || vs[1].CreatedBy != "tester" {
		t.Fatalf("versions = %+v", vs)
	}
	got, err := db.Note(ctx, visit.ID)
	if err != nil || *got.Body != "Seen with mum; then seen alone." || got.Versions != 2 {
		t.Fatalf("read after amendment = %+v, %v", got, err)
	}
	if _, err := db.NoteVersions(ctx, "0190a0c0-0000-7000-8000-000000000995"); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Errorf("versions of a missing note: %v", err)
	}
	want := []string{"person.create", "note.create", "note.create", "note.amend", "note.read", "note.read"}
	if diff := cmp.Diff(want, actions(t, db, p.ID)); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

func TestImportNotesAllOrNothing(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "LCS-1")
	mustPerson(t, db, "LCS-2")
	day := func(d int) time.Time { return time.Date(2019, 1, d, 10, 0, 0, 0, time.UTC) }
	row := func(line int, id, ref, typ string, d int, body, corrects, reason string) *casefile.NoteImport {
		return &casefile.NoteImport{Line: line, LegacyID: id, PersonRef: ref, Type: typ, OccurredAt: day(d), RecordedAt: day(d).Add(2 * time.Hour),
			Author: "old.user", Body: body, CorrectsLegacyID: corrects, CorrectionReason: reason}
	}
	countNotes := func() int {
		var n int
		if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Every problem that needs the database is reported, and nothing is stored.
	bad := []*casefile.NoteImport{
		row(2, "L1", "LCS-1", "contact", 1, "Fine", "", ""),
		row(3, "L2", "LCS-404", "contact", 2, "Unknown person", "", ""),
		row(4, "L3", "LCS-2", "correction", 3, "Corrects a note on another record", "L1", "Wrong"),
		row(5, "L4", "LCS-1", "correction", 4, "Corrects nothing", "L999", "Wrong"),
		row(6, "L5", "LCS-1", "correction", 4, "Corrects itself", "L5", "Wrong"),
	}
	res, err := db.ImportNotes(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, pr := range res.Problems {
		lines = append(lines, pr.Line)
	}
	if diff := cmp.Diff([]int{3, 4, 5, 6}, lines); diff != "" || res.Imported != 0 || countNotes() != 0 {
		t.Fatalf("problems %+v (-want +got lines):\n%s; imported %d, stored %d", res.Problems, diff, res.Imported, countNotes())
	}

	// A correction may come before the note it corrects in the file.
	good := []*casefile.NoteImport{
		row(2, "L3", "LCS-1", "correction", 3, "Correction: it was the 2nd", "L1", "Wrong day"),
		row(3, "L1", "LCS-1", "contact", 1, "Home visit, nobody in", "", ""),
		row(4, "L2", "LCS-2", "contact", 2, "Rang school", "", ""),
	}
	res, err = db.ImportNotes(ctx, good)
	if err != nil || len(res.Problems) != 0 || res.Imported != 3 || res.AlreadyImported != 0 || len(res.NoteIDs) != 3 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	orig, err := db.Note(ctx, res.NoteIDs[3])
	if err != nil {
		t.Fatal(err)
	}
	if !orig.Imported || !orig.RecordedAt.Equal(day(1).Add(2*time.Hour)) || orig.Author != "old.user" || len(orig.Corrections) != 1 ||
		orig.Corrections[0].ID != res.NoteIDs[2] || orig.PersonID != p.ID {
		t.Fatalf("imported note = %+v", orig)
	}
	vs, err := db.NoteVersions(ctx, orig.ID)
	if err != nil || !vs[0].CreatedAt.Equal(orig.RecordedAt) {
		t.Fatalf("imported version = %+v, %v", vs, err)
	}

	// Importing again adds nothing; a later file may correct an earlier one.
	again := append(good, row(5, "L9", "LCS-1", "correction", 5, "Later correction", "L1", "Another"))
	res, err = db.ImportNotes(ctx, again)
	if err != nil || res.Imported != 1 || res.AlreadyImported != 3 || countNotes() != 4 {
		t.Fatalf("re-import = %+v, %v, %d notes", res, err, countNotes())
	}
	// A legacy note cannot come back changed.
	changed := []*casefile.NoteImport{row(2, "L1", "LCS-1", "contact", 1, "Home visit, nobody in (edited)", "", "")}
	res, err = db.ImportNotes(ctx, changed)
	if err != nil || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "imported before") || countNotes() != 4 {
		t.Fatalf("changed re-import = %+v, %v", res, err)
	}
	if n := strings.Count(strings.Join(actions(t, db, p.ID), ","), "note.create"); n != 3 {
		t.Errorf("note.create events for LCS-1 = %d, want 3", n)
	}
}

// ScanNotes walks every active note exactly once, in batches, across batch
// boundaries, and skips notes whose content is gone.
func TestScanNotesStreamsEveryActiveNote(t *testing.T) {
	ctx := actorCtx()
	db := testenv.Postgres(t)
	p := mustPerson(t, db, "S1")
	const total = 1203
	if _, err := db.Pool().Exec(ctx, `INSERT INTO notes (id, person_id, type, occurred_at, author)
		SELECT gen_random_uuid(), $1, 'contact', now() - (g || ' minutes')::interval, 'bulk' FROM generate_series(1, $2) g`, p.ID, total); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO note_versions (note_id, version, body, body_sha256, created_by)
		SELECT id, 1, 'Note ' || id, 'x', 'bulk' FROM notes`); err != nil {
		t.Fatal(err)
	}
	removed := mustNote(t, db, p.ID, "contact", time.Now().Add(-time.Hour), "to be removed")
	if _, err := db.Pool().Exec(ctx, "UPDATE notes SET status = 'removed', removed_at = now(), removal_ticket_id = gen_random_uuid() WHERE id = $1", removed.ID); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err := db.ScanNotes(ctx, func(sn *casefile.StoredNote) error {
		seen[sn.ID]++
		if sn.PersonID != p.ID || sn.Body != "Note "+sn.ID {
			return fmt.Errorf("stored note %+v", sn)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != total || seen[removed.ID] != 0 {
		t.Fatalf("scanned %d distinct notes, want %d (removed seen %d times)", len(seen), total, seen[removed.ID])
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("note %s scanned %d times", id, n)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := db.ScanNotes(ctx, func(*casefile.StoredNote) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("scan did not stop on the callback's error: %v after %d calls", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.ScanNotes(cctx, func(*casefile.StoredNote) error { return nil }); err == nil {
		t.Fatal("scan ignored a cancelled context")
	}
}
