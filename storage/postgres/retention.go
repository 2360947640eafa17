package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.RetentionStore = (*DB)(nil)

// holdLockKey serialises hold changes against destruction batches: a batch
// holds it shared from its hold check to its commit, a new hold takes it
// exclusively, so no hold can slip in between a batch's check and its
// destruction.
const holdLockKey = 0x686f6c64 // "hold"

// heldBySQL names the active holds covering the person in column pid, or
// NULL when none does. The hold rows are authoritative: S3 legal holds follow.
const heldBySQL = `(SELECT string_agg(h.name, ', ' ORDER BY h.created_at) FROM holds h
	WHERE h.released_at IS NULL AND (h.all_records OR EXISTS (
		SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = %s)))`

func heldBy(col string) string { return fmt.Sprintf(heldBySQL, col) }

// PersonRetention returns the person's position and the holds covering them.
func (db *DB) PersonRetention(ctx context.Context, personID string) (*casefile.PersonRetention, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	var r *casefile.PersonRetention
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		r = &casefile.PersonRetention{PersonID: personID}
		var trig, due casefile.Date
		err := tx.QueryRow(ctx, `SELECT record_class, trigger, trigger_date, disposal_due_on, open, reason, action
			FROM person_retention WHERE person_id = $1`, personID).Scan(&r.RecordClass, &r.Trigger, &trig, &due, &r.Open, &r.Reason, &r.Action)
		switch {
		case err == pgx.ErrNoRows:
			r.Reason = "not yet assessed against the schedule"
		case err != nil:
			return err
		}
		if !trig.IsZero() {
			r.TriggerDate = &trig
		}
		if !due.IsZero() {
			r.DisposalDueOn = &due
		}
		rows, err := tx.Query(ctx, "SELECT "+holdColumns+` FROM holds h WHERE h.released_at IS NULL
			AND (h.all_records OR EXISTS (SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = $1))
			ORDER BY h.created_at, h.id`, personID)
		if err != nil {
			return err
		}
		if r.Holds, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Hold, error) { return scanHold(r) }); err != nil {
			return err
		}
		if r.Holds == nil {
			r.Holds = []*casefile.Hold{}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.read", TargetType: "person", TargetID: personID, PersonID: personID})
	})
	return r, err
}

const holdColumns = `h.id, h.name, h.reason, h.all_records, h.created_by, h.created_at, h.released_at, coalesce(h.released_by, ''),
	coalesce(h.release_reason, ''), array(SELECT hp.person_id::text FROM hold_persons hp WHERE hp.hold_id = h.id ORDER BY hp.person_id)`

func scanHold(row pgx.Row) (*casefile.Hold, error) {
	var h casefile.Hold
	if err := row.Scan(&h.ID, &h.Name, &h.Reason, &h.All, &h.CreatedBy, &h.CreatedAt, &h.ReleasedAt, &h.ReleasedBy,
		&h.ReleaseReason, &h.PersonIDs); err != nil {
		return nil, err
	}
	h.CreatedAt = h.CreatedAt.UTC()
	if h.ReleasedAt != nil {
		t := h.ReleasedAt.UTC()
		h.ReleasedAt = &t
	}
	if h.PersonIDs == nil {
		h.PersonIDs = []string{}
	}
	return &h, nil
}

// holdsTaskID names the legal-hold sync a hold change queues.
func holdsTaskID(holdID, what string) string { return "retention-holds:" + holdID + ":" + what }

// CreateHold stores a hold. The S3 legal holds are applied by a queued task;
// destruction never depends on them, because runs check the hold rows.
func (db *DB) CreateHold(ctx context.Context, h *casefile.Hold) error {
	for _, id := range h.PersonIDs {
		if !validUUID(id) {
			return casefile.Errorf(casefile.EUnprocessable, "unknown_person", "person_ids names %q, which is not a person's id.", id)
		}
	}
	h.ID = newID()
	h.CreatedBy = casefile.ActorFrom(ctx).String()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// Wait for any destruction batch in flight; none starts until we commit.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", holdLockKey); err != nil {
			return err
		}
		if len(h.PersonIDs) > 0 {
			var missing []string
			if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(x::text), '{}') FROM unnest($1::uuid[]) x
				WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = x)`, h.PersonIDs).Scan(&missing); err != nil {
				return err
			}
			if len(missing) > 0 {
				return casefile.Errorf(casefile.EUnprocessable, "unknown_person", "No person has the id %s.", strings.Join(missing, ", "))
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO holds (id, name, reason, all_records, created_by) VALUES ($1,$2,$3,$4,$5)
			RETURNING created_at`, h.ID, h.Name, h.Reason, h.All, h.CreatedBy).Scan(&h.CreatedAt); err != nil {
			return err
		}
		h.CreatedAt = h.CreatedAt.UTC()
		if _, err := tx.Exec(ctx, `INSERT INTO hold_persons (hold_id, person_id) SELECT $1, x FROM unnest($2::uuid[]) x
			ON CONFLICT DO NOTHING`, h.ID, h.PersonIDs); err != nil {
			return err
		}
		// Mark what is now wanted at once for the named persons; the task
		// recomputes it for everything and applies it to the objects.
		if !h.All {
			// An object filed on another record too (a sibling link) is held with it.
			if _, err := tx.Exec(ctx, `UPDATE documents SET legal_hold = true WHERE object_key IN (
				SELECT object_key FROM documents WHERE person_id = ANY($1) AND status = 'active')
				AND status = 'active' AND NOT legal_hold`, h.PersonIDs); err != nil {
				return err
			}
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, holdsTaskID(h.ID, "create"), map[string]string{"hold_id": h.ID}); err != nil {
			return err
		}
		// A hold's name and reason are typed by a person (often naming
		// people): the hold keeps them, the log their digests.
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.create", TargetType: "hold", TargetID: h.ID,
			Details: typedText(typedText(map[string]any{"all": h.All, "persons": len(h.PersonIDs)}, "name", h.Name), "reason", h.Reason)}); err != nil {
			return err
		}
		for _, pid := range dedupe(h.PersonIDs) {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.cover", TargetType: "hold", TargetID: h.ID, PersonID: pid,
				Details: typedText(nil, "name", h.Name)}); err != nil {
				return err
			}
		}
		h.PersonIDs = dedupe(h.PersonIDs)
		return nil
	})
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ReleaseHold lifts a hold and queues the release of the legal holds that no
// other active hold needs.
func (db *DB) ReleaseHold(ctx context.Context, id, reason string) (*casefile.Hold, error) {
	if !validUUID(id) {
		return nil, notFound("Hold")
	}
	var h *casefile.Hold
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		h, err = scanHold(tx.QueryRow(ctx, "SELECT "+holdColumns+" FROM holds h WHERE h.id = $1 FOR UPDATE", id))
		if err == pgx.ErrNoRows {
			return notFound("Hold")
		}
		if err != nil {
			return err
		}
		if h.ReleasedAt != nil {
			return casefile.Errorf(casefile.EConflict, "hold_released", "This hold was already released on %s.", h.ReleasedAt.Format(time.RFC3339))
		}
		who := casefile.ActorFrom(ctx).String()
		var at time.Time
		if err := tx.QueryRow(ctx, `UPDATE holds SET released_at = now(), released_by = $2, release_reason = $3 WHERE id = $1
			RETURNING released_at`, id, who, reason).Scan(&at); err != nil {
			return err
		}
		at = at.UTC()
		h.ReleasedAt, h.ReleasedBy, h.ReleaseReason = &at, who, reason
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, holdsTaskID(id, "release"), map[string]string{"hold_id": id}); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.release", TargetType: "hold", TargetID: id,
			Details: typedText(typedText(nil, "name", h.Name), "reason", reason)}); err != nil {
			return err
		}
		for _, pid := range h.PersonIDs {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.uncover", TargetType: "hold", TargetID: id, PersonID: pid,
				Details: typedText(nil, "name", h.Name)}); err != nil {
				return err
			}
		}
		return nil
	})
	return h, err
}

// Holds lists holds, newest first.
func (db *DB) Holds(ctx context.Context, p casefile.Page) ([]*casefile.Hold, string, error) {
	limit := clampLimit(p.Limit)
	if p.Cursor != "" && !validUUID(p.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	var out []*casefile.Hold
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+holdColumns+` FROM holds h WHERE ($1 = '' OR h.id < $1::uuid)
			ORDER BY h.id DESC LIMIT $2`, p.Cursor, limit+1)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Hold, error) { return scanHold(r) }); err != nil {
			return err
		}
		// That a person's record is under a hold (an inquiry, litigation)
		// is about them: a read of each record a listed hold names.
		var s shown
		for _, h := range out[:min(len(out), limit)] {
			s.add(h.PersonIDs...)
		}
		return db.auditShown(ctx, tx, "hold.read", map[string]any{"via": "list"}, s.order, s.count)
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	if out == nil {
		out = []*casefile.Hold{}
	}
	return out, next, nil
}
