package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.NoteService = (*DB)(nil)

func bodyHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// noteSelect reads a note with its current body (NULL once removed).
const noteSelect = `SELECT n.id, n.person_id, n.type, n.occurred_at, n.recorded_at, n.author, n.corrects_note_id,
	coalesce(n.correction_reason, ''), n.status, n.current_version, n.imported, n.reopened_by_ticket,
	n.removed_at, n.removal_ticket_id, n.destroyed_at, n.destruction_run_id, v.body
	FROM notes n JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version`

func scanNote(row pgx.Row) (*casefile.Note, error) {
	var n casefile.Note
	var removedAt, destroyedAt *time.Time
	var removalTicket, runID *string
	if err := row.Scan(&n.ID, &n.PersonID, &n.Type, &n.OccurredAt, &n.RecordedAt, &n.Author, &n.CorrectsNoteID,
		&n.CorrectionReason, &n.Status, &n.Versions, &n.Imported, &n.ReopenedBy,
		&removedAt, &removalTicket, &destroyedAt, &runID, &n.Body); err != nil {
		return nil, err
	}
	n.OccurredAt, n.RecordedAt = n.OccurredAt.UTC(), n.RecordedAt.UTC()
	n.Tombstone = tombstoneFor(n.Status, removedAt, removalTicket, destroyedAt, runID)
	return &n, nil
}

// CreateNote stores a note and its first version.
func (db *DB) CreateNote(ctx context.Context, n *casefile.Note, body string) error {
	n.ID = newID()
	n.Status = casefile.StatusActive
	n.Versions = 1
	n.Author = casefile.ActorFrom(ctx).String()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personWritable(ctx, tx, n.PersonID); err != nil {
			return err
		}
		if n.CorrectsNoteID != nil {
			if !validUUID(*n.CorrectsNoteID) {
				return casefile.Errorf(casefile.EUnprocessable, "corrected_note_not_found", "corrects_note_id names no note: ids are UUIDs.")
			}
			var personID string
			err := tx.QueryRow(ctx, "SELECT person_id FROM notes WHERE id = $1", *n.CorrectsNoteID).Scan(&personID)
			if err == pgx.ErrNoRows {
				return casefile.Errorf(casefile.EUnprocessable, "corrected_note_not_found", "corrects_note_id names no note.")
			}
			if err != nil {
				return err
			}
			if personID != n.PersonID {
				return casefile.Errorf(casefile.EUnprocessable, "correction_on_other_person",
					"A correction must be on the same person's record as the note it corrects; if the note is on the wrong record, ask ICT to re-index it.")
			}
		}
		var reason *string
		if n.CorrectsNoteID != nil {
			reason = &n.CorrectionReason
		}
		// The author by id, and their teams now, for the late-notes report.
		a := casefile.ActorFrom(ctx)
		teams := []string{}
		for _, t := range a.Teams {
			if validUUID(t) {
				teams = append(teams, t)
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO notes (id, person_id, type, occurred_at, author, corrects_note_id, correction_reason,
				author_id, author_team_ids)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::uuid[]) RETURNING recorded_at`,
			n.ID, n.PersonID, n.Type, n.OccurredAt, n.Author, n.CorrectsNoteID, reason, a.ID, teams).Scan(&n.RecordedAt); err != nil {
			return err
		}
		n.RecordedAt = n.RecordedAt.UTC()
		if _, err := tx.Exec(ctx, `INSERT INTO note_versions (note_id, version, body, body_sha256, created_by) VALUES ($1, 1, $2, $3, $4)`,
			n.ID, body, bodyHash(body), n.Author); err != nil {
			return err
		}
		n.Body = &body
		details := map[string]any{"type": n.Type, "occurred_at": n.OccurredAt, "body_sha256": bodyHash(body)}
		if n.CorrectsNoteID != nil {
			details["corrects_note_id"] = *n.CorrectsNoteID
		}
		entries := []auditEntry{{Action: "note.create", TargetType: "note", TargetID: n.ID, PersonID: n.PersonID, Details: details}}
		if len(n.Warnings) > 0 {
			// Whom the note names, on each one's trail too; never the words.
			var named []string
			for _, w := range n.Warnings {
				named = append(named, w.PersonID)
				entries = append(entries, auditEntry{Action: "note.names_person", TargetType: "note", TargetID: n.ID, PersonID: w.PersonID,
					Details: map[string]any{"note_person_id": n.PersonID, "code": w.Code}})
			}
			details["third_party_person_ids"] = named
		}
		return db.appendAudits(ctx, tx, entries)
	})
}

// Note returns a note with its corrections, and audits the read.
func (db *DB) Note(ctx context.Context, id string) (*casefile.Note, error) {
	if !validUUID(id) {
		return nil, notFound("Note")
	}
	var n *casefile.Note
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = scanNote(tx.QueryRow(ctx, noteSelect+" WHERE n.id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Note")
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, noteSelect+" WHERE n.corrects_note_id = $1 ORDER BY n.recorded_at, n.id", id)
		if err != nil {
			return err
		}
		n.Corrections, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Note, error) { return scanNote(r) })
		if err != nil {
			return err
		}
		db.enrichTombstone(ctx, n.Tombstone)
		return db.appendAudit(ctx, tx, auditEntry{Action: "note.read", TargetType: "note", TargetID: id, PersonID: n.PersonID,
			Details: map[string]any{"via": "note", "corrections": len(n.Corrections)}})
	})
	return n, err
}

type noteCursor struct {
	OccurredAt time.Time `json:"o"`
	RecordedAt time.Time `json:"r"`
	ID         string    `json:"i"`
}

// Notes lists a person's notes in the order things happened, audited as one
// read of the record (or one search).
func (db *DB) Notes(ctx context.Context, f casefile.NoteFilter) ([]*casefile.Note, string, error) {
	if !validUUID(f.PersonID) {
		return nil, "", notFound("Person")
	}
	limit := clampLimit(f.Limit)
	var cur noteCursor
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || json.Unmarshal(b, &cur) != nil || !validUUID(cur.ID) {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
	}
	var out []*casefile.Note
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		// Only the conditions asked for, so that each shape of the query
		// has a plan that fits it, reused from run to run. Without a search
		// the page is chosen from notes alone, and only its notes are
		// joined to their bodies, however the planner guesses the record's
		// size.
		where, args := "n.person_id = $1", []any{f.PersonID}
		if cur.ID != "" {
			args = append(args, cur.OccurredAt, cur.RecordedAt, cur.ID)
			where += fmt.Sprintf(" AND (n.occurred_at, n.recorded_at, n.id) > ($%d, $%d, $%d::uuid)", len(args)-2, len(args)-1, len(args))
		}
		order := " ORDER BY n.occurred_at, n.recorded_at, n.id"
		q := strings.Replace(noteSelect, "FROM notes n", "FROM (SELECT * FROM notes n WHERE "+where+order+limitClause(limit+1)+") n", 1) + order
		if f.Query != "" {
			args = append(args, f.Query)
			q = noteSelect + " WHERE " + where +
				fmt.Sprintf(" AND v.search @@ websearch_to_tsquery('casefile_search', $%d)", len(args)) +
				order + limitClause(limit+1)
		}
		// Whether the person exists, and their notes: one round trip.
		var b pgx.Batch
		genericPlans(&b, func() {
			b.Queue("SELECT 1 FROM persons WHERE id = $1", f.PersonID)
			b.Queue(q, args...)
		}, f.Query == "")
		br := tx.SendBatch(ctx, &b)
		if f.Query == "" {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		defer br.Close()
		var one int
		if err := br.QueryRow().Scan(&one); err == pgx.ErrNoRows {
			return notFound("Person")
		} else if err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Note, error) { return scanNote(r) })
		if err != nil {
			return err
		}
		if f.Query == "" {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		action, details := "note.read", map[string]any{"via": "list", "count": min(len(out), limit)}
		if f.Query != "" {
			// The query itself may hold personal data: record only that a search was made.
			action, details["via"] = "note.search", "search"
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: action, TargetType: "person", TargetID: f.PersonID, PersonID: f.PersonID, Details: details})
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		b, _ := json.Marshal(noteCursor{last.OccurredAt, last.RecordedAt, last.ID})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, next, nil
}

// NoteVersions lists every version of a note, oldest first.
func (db *DB) NoteVersions(ctx context.Context, id string) ([]*casefile.NoteVersion, error) {
	if !validUUID(id) {
		return nil, notFound("Note")
	}
	var out []*casefile.NoteVersion
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var personID string
		err := tx.QueryRow(ctx, "SELECT person_id FROM notes WHERE id = $1", id).Scan(&personID)
		if err == pgx.ErrNoRows {
			return notFound("Note")
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version, body, created_at, created_by, coalesce(reason, ''), ticket_id
			FROM note_versions WHERE note_id = $1 ORDER BY version`, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.NoteVersion, error) {
			var v casefile.NoteVersion
			err := r.Scan(&v.Version, &v.Body, &v.CreatedAt, &v.CreatedBy, &v.Reason, &v.TicketID)
			v.CreatedAt = v.CreatedAt.UTC()
			return &v, err
		})
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "note.read", TargetType: "note", TargetID: id, PersonID: personID,
			Details: map[string]any{"via": "versions", "count": len(out)}})
	})
	return out, err
}

// AmendNote adds a version to a reopened visit note and closes the window.
func (db *DB) AmendNote(ctx context.Context, id, body, reason string) (*casefile.Note, error) {
	if !validUUID(id) {
		return nil, notFound("Note")
	}
	var n *casefile.Note
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = scanNote(tx.QueryRow(ctx, noteSelect+" WHERE n.id = $1 FOR UPDATE OF n", id))
		if err == pgx.ErrNoRows {
			return notFound("Note")
		}
		if err != nil {
			return err
		}
		if !casefile.IsVisitNoteType(n.Type) {
			return casefile.Errorf(casefile.EUnprocessable, "not_a_visit_note",
				"Only the four visit notes can be amended; record a correction as a new note instead.")
		}
		if n.Status != casefile.StatusActive {
			return casefile.Errorf(casefile.EGone, n.Status, "This note was %s.", n.Status)
		}
		if n.ReopenedBy == nil {
			return casefile.Errorf(casefile.EConflict, "not_reopened",
				"This visit note is not open for amendment; raise an ICT reopen ticket and have it approved first.")
		}
		ticket := *n.ReopenedBy
		author := casefile.ActorFrom(ctx).String()
		next := n.Versions + 1
		if _, err := tx.Exec(ctx, `INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason, ticket_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, id, next, body, bodyHash(body), author, reason, ticket); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42501" {
				return casefile.Errorf(casefile.EConflict, "not_reopened", "This visit note is not open for amendment.")
			}
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE notes SET current_version = $2, reopened_by_ticket = NULL WHERE id = $1", id, next); err != nil {
			return err
		}
		n.Versions, n.Body, n.ReopenedBy = next, &body, nil
		return db.appendAudit(ctx, tx, auditEntry{Action: "note.amend", TargetType: "note", TargetID: id, PersonID: n.PersonID,
			Details: map[string]any{"version": next, "ticket_id": ticket, "body_sha256": bodyHash(body)}}) // the reason may name people: it stays with the version, not in the log
	})
	return n, err
}

// ScanNotes streams every active note's current body in batches of 500.
func (db *DB) ScanNotes(ctx context.Context, fn func(*casefile.StoredNote) error) error {
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := db.pool.Query(ctx, `SELECT n.id, n.person_id, v.body FROM notes n
			JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version
			WHERE n.status = 'active' AND n.id > $1 ORDER BY n.id LIMIT 500`, after)
		if err != nil {
			return mapError(err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.StoredNote, error) {
			var s casefile.StoredNote
			var body *string
			err := r.Scan(&s.ID, &s.PersonID, &body)
			if body != nil {
				s.Body = *body
			}
			return &s, err
		})
		if err != nil {
			return mapError(err)
		}
		for _, s := range batch {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(batch) < 500 {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

// tombstoneFor says why a note's or document's content is gone.
func tombstoneFor(status string, removedAt *time.Time, ticket *string, destroyedAt *time.Time, run *string) *casefile.Tombstone {
	switch status {
	case casefile.StatusRemoved:
		ts := &casefile.Tombstone{Reason: "removed under an approved ICT removal ticket", At: removedAt}
		if ticket != nil {
			ts.TicketID = *ticket
		}
		return ts
	case casefile.StatusDestroyed:
		ts := &casefile.Tombstone{Reason: "destroyed under the retention schedule", At: destroyedAt}
		if run != nil {
			ts.RunID = *run
		}
		return ts
	}
	return nil
}
