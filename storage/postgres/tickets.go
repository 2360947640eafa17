package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.TicketService = (*DB)(nil)

const ticketColumns = `id, kind, state, target_type, target_id, person_id, to_person_id, reason, replacement_note_id,
	replacement_document_id, raised_by, raised_at, coalesce(decided_by, ''), decided_at, coalesce(decision_reason, ''),
	completed_at, coalesce(error, ''), source`

func scanTicket(row pgx.Row) (*casefile.Ticket, error) {
	var t casefile.Ticket
	if err := row.Scan(&t.ID, &t.Kind, &t.State, &t.TargetType, &t.TargetID, &t.PersonID, &t.ToPersonID, &t.Reason,
		&t.ReplacementNoteID, &t.ReplacementDocumentID, &t.RaisedBy, &t.RaisedAt, &t.DecidedBy, &t.DecidedAt,
		&t.DecisionReason, &t.CompletedAt, &t.Error, &t.Source); err != nil {
		return nil, err
	}
	t.RaisedAt = t.RaisedAt.UTC()
	for _, p := range []**time.Time{&t.DecidedAt, &t.CompletedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return &t, nil
}

func ticketAudit(t *casefile.Ticket, action string, extra map[string]any) auditEntry {
	d := map[string]any{"kind": t.Kind, "target_type": t.TargetType, "target_id": t.TargetID, "state": t.State}
	for k, v := range extra {
		d[k] = v
	}
	return auditEntry{Action: action, TargetType: "ticket", TargetID: t.ID, PersonID: t.PersonID, Details: d}
}

// targetOf returns the person and status of a ticket's target. With lock,
// the target's row is locked until tx ends: raising a ticket, retrying one
// and every step of the worker lock it, so that they see where the target
// is now and no two of them interleave on it.
func targetOf(ctx context.Context, tx pgx.Tx, targetType, id string, lock bool) (personID, status, noteType string, parent *string, err error) {
	if !validUUID(id) {
		return "", "", "", nil, notFound("Target")
	}
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE"
	}
	switch targetType {
	case "note":
		// parent is the note it corrects, if it is a correction.
		err = tx.QueryRow(ctx, "SELECT person_id, status, type, corrects_note_id FROM notes WHERE id = $1"+forUpdate, id).
			Scan(&personID, &status, &noteType, &parent)
	case "document":
		err = tx.QueryRow(ctx, "SELECT person_id, status, parent_id FROM documents WHERE id = $1"+forUpdate, id).Scan(&personID, &status, &parent)
	default:
		return "", "", "", nil, casefile.Errorf(casefile.EUnprocessable, "invalid_target_type", "target_type must be note or document.")
	}
	if err == pgx.ErrNoRows {
		err = casefile.Errorf(casefile.ENotFound, "target_not_found", "No %s with id %s.", targetType, id)
	}
	return
}

// CreateTicket raises a ticket.
func (db *DB) CreateTicket(ctx context.Context, t *casefile.Ticket) error {
	actor := casefile.ActorFrom(ctx)
	t.ID, t.State, t.RaisedBy = newID(), casefile.TicketOpen, actor.String()
	if t.Source == "" {
		t.Source = "api"
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		personID, status, noteType, parent, err := targetOf(ctx, tx, t.TargetType, t.TargetID, true)
		if err != nil {
			return err
		}
		t.PersonID = personID
		if status != casefile.StatusActive {
			return casefile.Errorf(casefile.EConflict, "target_not_active", "The %s is %s already.", t.TargetType, status)
		}
		if err := refuseSecondLive(ctx, tx, t); err != nil {
			return err
		}
		if parent != nil && t.TargetType == "document" {
			return casefile.Errorf(casefile.EUnprocessable, "target_is_attachment",
				"This document is an attachment of %s; raise the ticket against that email, which carries its attachments with it.", *parent)
		}
		switch t.Kind {
		case casefile.TicketReopen:
			if t.TargetType != "note" || !casefile.IsVisitNoteType(noteType) {
				return casefile.Errorf(casefile.EUnprocessable, "not_a_visit_note",
					"Only the four visit notes (CLA placement, CP plan, CIN, IRO visit) can be reopened; correct other notes with a new note.")
			}
		case casefile.TicketReindex:
			if t.ToPersonID == nil || !validUUID(*t.ToPersonID) {
				return casefile.Errorf(casefile.EUnprocessable, "missing_to_person_id", "A re-index ticket must name to_person_id, the right person.")
			}
			if *t.ToPersonID == personID {
				return casefile.Errorf(casefile.EUnprocessable, "same_person", "The target is already on that person's record.")
			}
			if err := personWritable(ctx, tx, *t.ToPersonID); casefile.ErrorKind(err) == casefile.ENotFound {
				return casefile.Errorf(casefile.EUnprocessable, "to_person_not_found", "to_person_id names no person.")
			} else if err != nil {
				return err
			}
			if parent != nil && t.TargetType == "note" {
				return casefile.Errorf(casefile.EUnprocessable, "target_is_correction",
					"This note corrects note %s; re-index that note, and its corrections move with it.", *parent)
			}
		case casefile.TicketRemoval:
		default:
			return casefile.Errorf(casefile.EUnprocessable, "invalid_kind", "kind must be removal, reindex or reopen.")
		}
		if t.Kind != casefile.TicketReindex && t.ToPersonID != nil {
			return casefile.Errorf(casefile.EUnprocessable, "to_person_id_not_allowed", "to_person_id goes with re-index tickets only.")
		}
		if t.Kind != casefile.TicketRemoval && (t.ReplacementNoteID != nil || t.ReplacementDocumentID != nil) {
			return casefile.Errorf(casefile.EUnprocessable, "replacement_not_allowed", "Replacements go with removal tickets only.")
		}
		for typ, id := range map[string]*string{"note": t.ReplacementNoteID, "document": t.ReplacementDocumentID} {
			if id == nil {
				continue
			}
			p, _, _, _, err := targetOf(ctx, tx, typ, *id, false)
			if err != nil || p != personID {
				return casefile.Errorf(casefile.EUnprocessable, "invalid_replacement",
					"The replacement %s must exist on the same person's record.", typ)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO tickets (id, kind, target_type, target_id, person_id, to_person_id, reason,
			replacement_note_id, replacement_document_id, raised_by, source, raised_by_id, raised_by_role)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,nullif($12, ''),nullif($13, ''))`,
			t.ID, t.Kind, t.TargetType, t.TargetID, t.PersonID, t.ToPersonID, t.Reason, t.ReplacementNoteID,
			t.ReplacementDocumentID, t.RaisedBy, t.Source, actor.ID, string(actor.Role))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.ConstraintName == "tickets_one_removal" || pgErr.ConstraintName == "tickets_one_live_change") {
			var existing string
			_ = db.pool.QueryRow(context.WithoutCancel(ctx), `SELECT id FROM tickets WHERE target_type = $1 AND target_id = $2
				AND kind = $3 AND state IN ('open','approved','done') ORDER BY state = 'done', id DESC LIMIT 1`,
				t.TargetType, t.TargetID, t.Kind).Scan(&existing)
			return casefile.Errorf(casefile.EConflict, "ticket_exists", "A %s ticket for this %s already exists: %s.", t.Kind, t.TargetType, existing)
		}
		if err != nil {
			return err
		}
		t.RaisedAt = db.now().UTC()
		// The reason is typed about a person: the ticket keeps it, the log its digest.
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.raise", typedText(map[string]any{"source": t.Source}, "reason", t.Reason)))
	})
}

// refuseSecondLive refuses a ticket on a target that another live (open or
// approved) ticket of any kind already names: a removal and a re-index open
// at once would each act on what the other left. The caller holds the
// target's row lock, so two raises (or a raise and a retry) cannot both pass.
func refuseSecondLive(ctx context.Context, tx pgx.Tx, t *casefile.Ticket) error {
	var id, kind, state string
	err := tx.QueryRow(ctx, `SELECT id, kind, state FROM tickets WHERE target_type = $1 AND target_id = $2 AND id <> $3
		AND state IN ('open','approved') ORDER BY id LIMIT 1`, t.TargetType, t.TargetID, t.ID).Scan(&id, &kind, &state)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	return casefile.Errorf(casefile.EConflict, "ticket_exists",
		"A %s ticket for this %s is already %s: %s. One ticket at a time: carry on with that one, or have it rejected first.", kind, t.TargetType, state, id)
}

// Ticket returns a ticket.
func (db *DB) Ticket(ctx context.Context, id string) (*casefile.Ticket, error) {
	if !validUUID(id) {
		return nil, notFound("Ticket")
	}
	var t *casefile.Ticket
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTicket(tx.QueryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Ticket")
		}
		if err != nil {
			return err
		}
		// A ticket shows why someone thinks something is wrong on a
		// person's record (and which other person's it belongs on): a read
		// of both records.
		var s shown
		s.add(ticketPersons(t)...)
		return db.auditShown(ctx, tx, "ticket.read", map[string]any{"via": "ticket", "ticket_id": t.ID}, s.order, s.count)
	})
	return t, err
}

func ticketPersons(t *casefile.Ticket) []string {
	ids := []string{t.PersonID}
	if t.ToPersonID != nil && *t.ToPersonID != t.PersonID {
		ids = append(ids, *t.ToPersonID)
	}
	return ids
}

// Tickets lists tickets oldest first.
func (db *DB) Tickets(ctx context.Context, f casefile.TicketFilter) ([]*casefile.Ticket, string, error) {
	limit := clampLimit(f.Limit)
	if f.Cursor != "" && !validUUID(f.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	var out []*casefile.Ticket
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+ticketColumns+` FROM tickets WHERE ($1 = '' OR state = $1) AND ($2 = '' OR kind = $2)
			AND ($3 = '' OR id > $3::uuid) AND ($5 = '' OR person_id = $5::uuid OR to_person_id = $5::uuid)
			AND ($6 = '' OR target_id = $6::uuid) ORDER BY id LIMIT $4`, f.State, f.Kind, f.Cursor, limit+1, f.PersonID, f.TargetID)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Ticket, error) { return scanTicket(r) }); err != nil {
			return err
		}
		var s shown
		for _, t := range out[:min(len(out), limit)] {
			s.add(ticketPersons(t)...)
		}
		return db.auditShown(ctx, tx, "ticket.read", map[string]any{"via": "list"}, s.order, s.count)
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// lockTicket reads a ticket for update within tx.
func lockTicket(ctx context.Context, tx pgx.Tx, id string) (*casefile.Ticket, error) {
	if !validUUID(id) {
		return nil, notFound("Ticket")
	}
	t, err := scanTicket(tx.QueryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id = $1 FOR UPDATE", id))
	if err == pgx.ErrNoRows {
		return nil, notFound("Ticket")
	}
	return t, err
}

// BlockingTicket returns the id of the ticket that stops a new one on the
// target: one of any kind open or approved, or a removal done.
func (db *DB) BlockingTicket(ctx context.Context, targetType, targetID string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM tickets WHERE target_type = $1 AND target_id = $2
		AND (state IN ('open','approved') OR kind = 'removal' AND state = 'done') ORDER BY state = 'done', id LIMIT 1`,
		targetType, targetID).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", notFound("Ticket")
	}
	return id, mapError(err)
}

// enrichTombstone fills in who asked for a removal, who approved it, and
// the replacements the ticket named.
func (db *DB) enrichTombstone(ctx context.Context, ts *casefile.Tombstone) {
	if ts == nil || ts.TicketID == "" {
		return
	}
	var reason, raisedBy, decidedBy, note, doc string
	if err := db.pool.QueryRow(ctx, `SELECT reason, raised_by, coalesce(decided_by, ''), coalesce(replacement_note_id::text, ''),
		coalesce(replacement_document_id::text, '') FROM tickets WHERE id = $1`, ts.TicketID).
		Scan(&reason, &raisedBy, &decidedBy, &note, &doc); err == nil {
		ts.Reason, ts.RequestedBy, ts.ApprovedBy = reason, raisedBy, decidedBy
		ts.ReplacementNoteID, ts.ReplacementDocumentID = note, doc
	}
}
