package postgres

import (
	"context"
	"crypto/sha256"
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
		err := tx.QueryRow(ctx, `SELECT record_class, trigger, trigger_date, disposal_due_on, open, reason
			FROM person_retention WHERE person_id = $1`, personID).Scan(&r.RecordClass, &r.Trigger, &trig, &due, &r.Open, &r.Reason)
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
			if _, err := tx.Exec(ctx, `UPDATE documents SET legal_hold = true WHERE person_id = ANY($1) AND status = 'active'
				AND NOT legal_hold`, h.PersonIDs); err != nil {
				return err
			}
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, holdsTaskID(h.ID, "create"), map[string]string{"hold_id": h.ID}); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.create", TargetType: "hold", TargetID: h.ID,
			Details: map[string]any{"name": h.Name, "all": h.All, "persons": len(h.PersonIDs)}}); err != nil {
			return err
		}
		for _, pid := range dedupe(h.PersonIDs) {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.cover", TargetType: "hold", TargetID: h.ID, PersonID: pid,
				Details: map[string]string{"name": h.Name}}); err != nil {
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
			Details: map[string]any{"name": h.Name, "reason": reason}}); err != nil {
			return err
		}
		for _, pid := range h.PersonIDs {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.uncover", TargetType: "hold", TargetID: id, PersonID: pid,
				Details: map[string]string{"name": h.Name}}); err != nil {
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
	rows, err := db.pool.Query(ctx, "SELECT "+holdColumns+` FROM holds h WHERE ($1 = '' OR h.id < $1::uuid)
		ORDER BY h.id DESC LIMIT $2`, p.Cursor, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Hold, error) { return scanHold(r) })
	if err != nil {
		return nil, "", mapError(err)
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

// runTaskID names the task that carries out a run.
func runTaskID(id string) string { return "retention-run:" + id }

// CreateRun queues a run. At most one real run is queued or running.
func (db *DB) CreateRun(ctx context.Context, dryRun bool, asOf casefile.Date) (*casefile.RetentionRun, error) {
	r := &casefile.RetentionRun{ID: newID(), State: "queued", DryRun: dryRun, AsOf: asOf, RequestedBy: casefile.ActorFrom(ctx).String()}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO retention_runs (id, dry_run, as_of, requested_by) VALUES ($1,$2,$3,$4)
			RETURNING requested_at`, r.ID, dryRun, asOf, r.RequestedBy).Scan(&r.RequestedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "run_in_progress",
				"A retention run is already queued or running; wait for it to finish (GET /v1/retention/runs/{id}) and try again.")
		}
		if err != nil {
			return err
		}
		r.RequestedAt = r.RequestedAt.UTC()
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionRun, runTaskID(r.ID), map[string]string{"run_id": r.ID}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.request", TargetType: "retention_run", TargetID: r.ID,
			Details: map[string]any{"dry_run": dryRun, "as_of": asOf}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// LiveRun returns the id of the real run queued or running, if any.
func (db *DB) LiveRun(ctx context.Context) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, "SELECT id FROM retention_runs WHERE NOT dry_run AND state IN ('queued','running')").Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return id, mapError(err)
}

const runColumns = `id, state, dry_run, as_of, requested_by, requested_at, finished_at, due, destroyed, held_back, review,
	certificate, coalesce(error, '')`

func scanRun(row pgx.Row) (*casefile.RetentionRun, error) {
	var r casefile.RetentionRun
	var cert []byte
	if err := row.Scan(&r.ID, &r.State, &r.DryRun, &r.AsOf, &r.RequestedBy, &r.RequestedAt, &r.FinishedAt, &r.Due, &r.Destroyed,
		&r.HeldBack, &r.Review, &cert, &r.Error); err != nil {
		return nil, err
	}
	r.RequestedAt = r.RequestedAt.UTC()
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		r.FinishedAt = &t
	}
	if len(cert) > 0 {
		r.Certificate = &casefile.Certificate{}
		if err := json.Unmarshal(cert, r.Certificate); err != nil {
			return nil, fmt.Errorf("certificate of run %s: %w", r.ID, err)
		}
	}
	return &r, nil
}

// RetentionRun returns a run.
func (db *DB) RetentionRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	if !validUUID(id) {
		return nil, notFound("Retention run")
	}
	r, err := scanRun(db.pool.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, notFound("Retention run")
	}
	return r, mapError(err)
}

const runItemColumns = `item_type, item_id::text, person_id::text, record_class, coalesce(sha256, ''), disposal_due_on, state,
	coalesce(why, ''), destroyed_at`

func scanRunItem(row pgx.Row) (*casefile.RunItem, error) {
	var it casefile.RunItem
	var due casefile.Date
	if err := row.Scan(&it.ItemType, &it.ItemID, &it.PersonID, &it.RecordClass, &it.SHA256, &due, &it.State, &it.Why,
		&it.DestroyedAt); err != nil {
		return nil, err
	}
	if !due.IsZero() {
		it.DisposalDueOn = &due
	}
	if it.DestroyedAt != nil {
		t := it.DestroyedAt.UTC()
		it.DestroyedAt = &t
	}
	return &it, nil
}

// RunItems lists a run's items ordered by type and id.
func (db *DB) RunItems(ctx context.Context, runID string, f casefile.RunItemFilter) ([]*casefile.RunItem, string, error) {
	if _, err := db.RetentionRun(ctx, runID); err != nil {
		return nil, "", err
	}
	limit := clampLimit(f.Limit)
	ctype, cid := "", "00000000-0000-0000-0000-000000000000"
	if f.Cursor != "" {
		t, id, ok := strings.Cut(f.Cursor, ":")
		if !ok || !validUUID(id) || (t != "document" && t != "note" && t != "person") {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		ctype, cid = t, id
	}
	rows, err := db.pool.Query(ctx, "SELECT "+runItemColumns+` FROM retention_run_items
		WHERE run_id = $1 AND ($2 = '' OR state = $2) AND (item_type, item_id) > ($3, $4::uuid)
		ORDER BY item_type, item_id LIMIT $5`, runID, f.State, ctype, cid, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanRunItem(r) })
	if err != nil {
		return nil, "", mapError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ItemType + ":" + out[limit-1].ItemID
	}
	if out == nil {
		out = []*casefile.RunItem{}
	}
	return out, next, nil
}

// StartRun marks a queued run running and returns it. A run already done or
// failed is returned as it is, so that a repeated task does nothing.
func (db *DB) StartRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	if !validUUID(id) {
		return nil, notFound("Retention run")
	}
	if _, err := db.pool.Exec(ctx, `UPDATE retention_runs SET state = 'running', started_at = coalesce(started_at, now())
		WHERE id = $1 AND state = 'queued'`, id); err != nil {
		return nil, mapError(err)
	}
	return db.RetentionRun(ctx, id)
}

// PlanRun records, once per run, every document, note and person that is
// due, held back (and why) or for review as of the run's date.
func (db *DB) PlanRun(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var planned bool
		var asOf casefile.Date
		if err := tx.QueryRow(ctx, "SELECT planned, as_of FROM retention_runs WHERE id = $1 FOR UPDATE", id).Scan(&planned, &asOf); err != nil {
			return err
		}
		if planned {
			return nil
		}
		_, err := tx.Exec(ctx, `WITH cand AS (
				SELECT pr.person_id, pr.record_class, pr.disposal_due_on, pr.open, `+heldBy("pr.person_id")+` AS held_by
				FROM person_retention pr JOIN persons p ON p.id = pr.person_id AND p.status = 'active'
				WHERE pr.disposal_due_on IS NOT NULL AND pr.disposal_due_on <= $2
			), st AS (
				SELECT person_id, record_class, disposal_due_on,
					CASE WHEN held_by IS NOT NULL THEN 'held_back' WHEN open THEN 'review' ELSE 'due' END AS state,
					CASE WHEN held_by IS NOT NULL THEN 'under hold: ' || held_by
						WHEN open THEN 'past its disposal date but an involvement is still open' END AS why
				FROM cand
			)
			INSERT INTO retention_run_items (run_id, item_type, item_id, person_id, record_class, sha256, disposal_due_on, state, why)
			SELECT $1::uuid, 'document', d.id, d.person_id, st.record_class, d.sha256, st.disposal_due_on, st.state, st.why
				FROM st JOIN documents d ON d.person_id = st.person_id AND d.status = 'active'
			UNION ALL
			SELECT $1::uuid, 'note', n.id, n.person_id, st.record_class, v.body_sha256, st.disposal_due_on, st.state, st.why
				FROM st JOIN notes n ON n.person_id = st.person_id AND n.status = 'active'
				JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version
			UNION ALL
			SELECT $1::uuid, 'person', st.person_id, st.person_id, st.record_class, NULL, st.disposal_due_on, st.state, st.why FROM st
			ON CONFLICT DO NOTHING`, id, asOf)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE retention_runs SET planned = true WHERE id = $1", id); err != nil {
			return err
		}
		c, err := recount(ctx, tx, id)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.plan", TargetType: "retention_run", TargetID: id,
			Details: map[string]any{"as_of": asOf, "due": c[0], "held_back": c[1], "review": c[2]}})
	})
}

// recount sets a run's counts from its items: [due, held_back, review, destroyed].
func recount(ctx context.Context, tx pgx.Tx, id string) ([4]int, error) {
	var c [4]int
	err := tx.QueryRow(ctx, `WITH c AS (
			SELECT count(*) FILTER (WHERE state IN ('due','destroyed')) AS due,
				count(*) FILTER (WHERE state = 'held_back') AS held,
				count(*) FILTER (WHERE state = 'review') AS review,
				count(*) FILTER (WHERE state = 'destroyed') AS destroyed
			FROM retention_run_items WHERE run_id = $1)
		UPDATE retention_runs r SET due = c.due, held_back = c.held, review = c.review, destroyed = c.destroyed
		FROM c WHERE r.id = $1 RETURNING r.due, r.held_back, r.review, r.destroyed`, id).Scan(&c[0], &c[1], &c[2], &c[3])
	return c, err
}

// reclass is an item that is no longer to be destroyed, and why.
type reclass struct {
	itemType, id, state, why string
}

// DestroyBatch destroys up to limit due documents and notes of a run.
// destroy destroys the objects at keys (every version); heldKeys are those
// whose legal hold is on and must be lifted first; it returns the keys it
// could not destroy. It
// checks holds and positions again at the moment of destruction, under the
// hold lock, calls destroy for the objects, then in the same transaction
// marks exactly what was destroyed. It returns how many items it settled
// (0 when none are left). If the process dies before the commit, the items
// stay due and the next attempt destroys them again, which is harmless.
func (db *DB) DestroyBatch(ctx context.Context, runID string, limit int, destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error) {
	settled := 0
	var failedErr error
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		var asOf casefile.Date
		var dry bool
		var state string
		if err := tx.QueryRow(ctx, "SELECT as_of, dry_run, state FROM retention_runs WHERE id = $1 FOR UPDATE", runID).Scan(&asOf, &dry, &state); err != nil {
			return err
		}
		if dry || state != "running" {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT i.item_type, i.item_id::text, c.pid::text, coalesce(d.object_key, ''),
				coalesce(d.legal_hold_applied, false), coalesce(d.status, n.status, 'missing'),
				coalesce(d.destruction_run_id, n.destruction_run_id) IS NOT DISTINCT FROM $1::uuid,
				coalesce(`+heldBy("c.pid")+`, ''),
				coalesce(pr.disposal_due_on <= $3 AND NOT pr.open, false)
			FROM (SELECT * FROM retention_run_items WHERE run_id = $1 AND state = 'due' AND item_type <> 'person'
				ORDER BY item_type, item_id LIMIT $2) i
			LEFT JOIN documents d ON i.item_type = 'document' AND d.id = i.item_id
			LEFT JOIN notes n ON i.item_type = 'note' AND n.id = i.item_id
			CROSS JOIN LATERAL (SELECT coalesce(d.person_id, n.person_id, i.person_id) AS pid) c
			LEFT JOIN person_retention pr ON pr.person_id = c.pid`, runID, limit, asOf)
		if err != nil {
			return err
		}
		type cand struct {
			typ, id, pid, key, status, held string
			legalHold, ours, stillDue       bool
		}
		var cands []cand
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.typ, &c.id, &c.pid, &c.key, &c.legalHold, &c.status, &c.ours, &c.held, &c.stillDue); err != nil {
				rows.Close()
				return err
			}
			cands = append(cands, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var keys, heldKeys []string
		var docs, notes []string
		byKey := map[string]int{}
		var moved []reclass
		var done []string // items already destroyed by this run before an interruption
		for i, c := range cands {
			switch {
			case c.status == casefile.StatusDestroyed && c.ours:
				done = append(done, c.id)
			case c.held != "":
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemHeldBack, "under hold: " + c.held})
			case !c.stillDue:
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemReview, "no longer due: the record's retention position changed after the run was planned"})
			case c.status != casefile.StatusActive:
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemReview, "already " + c.status + " before this run reached it"})
			case c.typ == "document":
				keys = append(keys, c.key)
				byKey[c.key] = i
				if c.legalHold {
					heldKeys = append(heldKeys, c.key)
				}
				docs = append(docs, c.id)
			default:
				notes = append(notes, c.id)
			}
		}
		if len(keys) > 0 {
			failed, err := destroy(ctx, keys, heldKeys)
			if err != nil {
				return err
			}
			if len(failed) > 0 {
				docs = docs[:0]
				for _, k := range keys {
					if e, bad := failed[k]; bad {
						if failedErr == nil {
							failedErr = fmt.Errorf("destroy %d objects, e.g. %s: %w", len(failed), k, e)
						}
						continue
					}
					docs = append(docs, cands[byKey[k]].id)
				}
			}
		}
		if len(docs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE documents SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $1,
				body_text = NULL, email = NULL, parse_warnings = '[]', title = '', legal_hold = false, legal_hold_applied = false
				WHERE id = ANY($2) AND status = 'active'`, runID, docs); err != nil {
				return err
			}
		}
		if len(notes) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE notes SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $1,
				reopened_by_ticket = NULL WHERE id = ANY($2) AND status = 'active'`, runID, notes); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE note_versions SET body = NULL WHERE note_id = ANY($1) AND body IS NOT NULL", notes); err != nil {
				return err
			}
		}
		destroyed := append(append(append([]string{}, docs...), notes...), done...)
		if len(destroyed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
				WHERE run_id = $1 AND item_type <> 'person' AND item_id = ANY($2) AND state = 'due'`, runID, destroyed); err != nil {
				return err
			}
		}
		if err := reclassify(ctx, tx, runID, moved); err != nil {
			return err
		}
		settled = len(destroyed) + len(moved)
		if settled == 0 {
			return nil
		}
		if _, err := recount(ctx, tx, runID); err != nil {
			return err
		}
		// One audit event per person per batch, naming what was destroyed.
		type perPerson struct{ Documents, Notes []string }
		by := map[string]*perPerson{}
		var order []string
		add := func(pid string) *perPerson {
			if by[pid] == nil {
				by[pid] = &perPerson{Documents: []string{}, Notes: []string{}}
				order = append(order, pid)
			}
			return by[pid]
		}
		index := map[string]cand{}
		for _, c := range cands {
			index[c.id] = c
		}
		for _, id := range docs {
			p := add(index[id].pid)
			p.Documents = append(p.Documents, id)
		}
		for _, id := range notes {
			p := add(index[id].pid)
			p.Notes = append(p.Notes, id)
		}
		for _, pid := range order {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.destroy", TargetType: "person", TargetID: pid, PersonID: pid,
				Details: map[string]any{"run_id": runID, "documents": by[pid].Documents, "notes": by[pid].Notes}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return settled, failedErr
}

func reclassify(ctx context.Context, tx pgx.Tx, runID string, moved []reclass) error {
	if len(moved) == 0 {
		return nil
	}
	types, ids, states, whys := make([]string, len(moved)), make([]string, len(moved)), make([]string, len(moved)), make([]string, len(moved))
	for i, m := range moved {
		types[i], ids[i], states[i], whys[i] = m.itemType, m.id, m.state, m.why
	}
	_, err := tx.Exec(ctx, `UPDATE retention_run_items i SET state = m.state, why = m.why
		FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[]) AS m(t, id, state, why)
		WHERE i.run_id = $1 AND i.item_type = m.t AND i.item_id = m.id AND i.state = 'due'`, runID, types, ids, states, whys)
	return err
}

// DestroyIdentities settles up to limit due person items of a run: a person
// all of whose record this run destroyed, and who has nothing else left,
// loses their identifying details (names, dates of birth and death); their
// id, external reference, involvements and retention position stay as the
// residual record. Export bundles of their record are destroyed with them.
// It returns how many person items it settled.
func (db *DB) DestroyIdentities(ctx context.Context, runID string, limit int, destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error) {
	settled := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		var asOf casefile.Date
		var dry bool
		var state string
		if err := tx.QueryRow(ctx, "SELECT as_of, dry_run, state FROM retention_runs WHERE id = $1 FOR UPDATE", runID).Scan(&asOf, &dry, &state); err != nil {
			return err
		}
		if dry || state != "running" {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT i.item_id::text, p.status, p.destruction_run_id IS NOT DISTINCT FROM $1::uuid,
				coalesce(`+heldBy("i.item_id")+`, ''),
				coalesce(pr.disposal_due_on <= $3 AND NOT pr.open, false),
				EXISTS (SELECT 1 FROM retention_run_items j WHERE j.run_id = $1 AND j.person_id = i.item_id
					AND j.item_type <> 'person' AND j.state <> 'destroyed'),
				EXISTS (SELECT 1 FROM documents d WHERE d.person_id = i.item_id AND d.status = 'active')
					OR EXISTS (SELECT 1 FROM notes n WHERE n.person_id = i.item_id AND n.status = 'active')
			FROM (SELECT * FROM retention_run_items WHERE run_id = $1 AND state = 'due' AND item_type = 'person'
				ORDER BY item_id LIMIT $2) i
			JOIN persons p ON p.id = i.item_id
			LEFT JOIN person_retention pr ON pr.person_id = i.item_id`, runID, limit, asOf)
		if err != nil {
			return err
		}
		var persons, done []string
		var moved []reclass
		for rows.Next() {
			var id, status, held string
			var ours, stillDue, pending, remaining bool
			if err := rows.Scan(&id, &status, &ours, &held, &stillDue, &pending, &remaining); err != nil {
				rows.Close()
				return err
			}
			switch {
			case status == "destroyed" && ours:
				done = append(done, id)
			case held != "":
				moved = append(moved, reclass{"person", id, casefile.ItemHeldBack, "under hold: " + held})
			case !stillDue:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "no longer due: the record's retention position changed after the run was planned"})
			case pending:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "part of the record was not destroyed by this run"})
			case remaining:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "records were added after the run was planned"})
			case status != "active":
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "already destroyed"})
			default:
				persons = append(persons, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(persons) > 0 {
			// Export bundles are copies of the record: they go with it.
			if err := db.destroyExportsOf(ctx, tx, persons, runID, destroy); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE persons SET given_name = NULL, family_name = NULL, date_of_birth = NULL, date_of_death = NULL,
				status = 'destroyed', identity_destroyed_at = now(), destruction_run_id = $1, updated_at = now()
				WHERE id = ANY($2) AND status = 'active'`, runID, persons); err != nil {
				return err
			}
		}
		destroyed := append(append([]string{}, persons...), done...)
		if len(destroyed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
				WHERE run_id = $1 AND item_type = 'person' AND item_id = ANY($2) AND state = 'due'`, runID, destroyed); err != nil {
				return err
			}
		}
		if err := reclassify(ctx, tx, runID, moved); err != nil {
			return err
		}
		settled = len(destroyed) + len(moved)
		if settled == 0 {
			return nil
		}
		if _, err := recount(ctx, tx, runID); err != nil {
			return err
		}
		for _, pid := range persons {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "person.identity_destroy", TargetType: "person", TargetID: pid,
				PersonID: pid, Details: map[string]string{"run_id": runID}}); err != nil {
				return err
			}
		}
		return nil
	})
	return settled, err
}

// FinishRun closes a run. A real run's certificate lists every item it
// destroyed, with no content, and is kept with the run and audited.
func (db *DB) FinishRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return err
		}
		if r.State != "running" {
			return nil
		}
		c, err := recount(ctx, tx, id)
		if err != nil {
			return err
		}
		details := map[string]any{"due": c[0], "held_back": c[1], "review": c[2], "destroyed": c[3]}
		if !r.DryRun {
			rows, err := tx.Query(ctx, "SELECT "+runItemColumns+` FROM retention_run_items WHERE run_id = $1 AND state = 'destroyed'
				ORDER BY item_type, item_id`, id)
			if err != nil {
				return err
			}
			items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanRunItem(r) })
			if err != nil {
				return err
			}
			if items == nil {
				items = []*casefile.RunItem{}
			}
			canon, err := json.Marshal(items)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(canon)
			cert := &casefile.Certificate{RunID: id, AsOf: r.AsOf, IssuedAt: db.now().UTC().Truncate(time.Microsecond),
				ApprovedBy: r.RequestedBy, Items: items, SHA256: hex.EncodeToString(sum[:])}
			b, err := json.Marshal(cert)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE retention_runs SET certificate = $2, certificate_sha256 = $3 WHERE id = $1",
				id, b, cert.SHA256); err != nil {
				return err
			}
			details["certificate_sha256"] = cert.SHA256
			details["approved_by"] = cert.ApprovedBy
		}
		if _, err := tx.Exec(ctx, "UPDATE retention_runs SET state = 'done', finished_at = now() WHERE id = $1", id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.finish", TargetType: "retention_run", TargetID: id, Details: details})
	})
	if err != nil {
		return nil, err
	}
	return db.RetentionRun(ctx, id)
}

// FailRun records that a run cannot go on.
func (db *DB) FailRun(ctx context.Context, id, why string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE retention_runs SET state = 'failed', error = $2, finished_at = now()
			WHERE id = $1 AND state IN ('queued','running')`, id, why)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.fail", TargetType: "retention_run", TargetID: id,
			Details: map[string]string{"error": why}})
	})
}

// TryLock takes a session advisory lock if it is free; release gives it back.
// The sweep uses it so that two schedulers never sweep at once.
func (db *DB) TryLock(ctx context.Context, key int64) (release func(), ok bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, mapError(err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, mapError(err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck // the session ends with the conn anyway
		conn.Release()
	}, true, nil
}

// RecomputeRetention assesses every active person again against the
// schedule in force (which may have been replaced since they were last
// assessed). It returns how many it assessed.
func (db *DB) RecomputeRetention(ctx context.Context) (int, error) {
	if db.policy == nil {
		return 0, nil
	}
	n, after := 0, "00000000-0000-0000-0000-000000000000"
	for {
		var ids []string
		rows, err := db.pool.Query(ctx, "SELECT id::text FROM persons WHERE status = 'active' AND id > $1 ORDER BY id LIMIT 500", after)
		if err != nil {
			return n, mapError(err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return n, mapError(err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		err = db.inTx(ctx, func(tx pgx.Tx) error {
			for _, id := range ids {
				if err := db.onRetentionInput(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(ids)
		after = ids[len(ids)-1]
	}
}

// SyncHoldIntent sets each active document's wanted legal hold from the
// holds in force, and returns how many changed.
func (db *DB) SyncHoldIntent(ctx context.Context) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE documents d SET legal_hold = x.want
		FROM (SELECT d.id, `+heldBy("d.person_id")+` IS NOT NULL AS want FROM documents d WHERE d.status = 'active') x
		WHERE d.id = x.id AND d.legal_hold <> x.want`)
	if err != nil {
		return 0, mapError(err)
	}
	return tag.RowsAffected(), nil
}

// PendingLegalHolds lists active documents whose object's legal hold is not
// yet what the holds want.
func (db *DB) PendingLegalHolds(ctx context.Context, limit int) ([]casefile.LockChange, error) {
	rows, err := db.pool.Query(ctx, `SELECT id::text, object_key, legal_hold FROM documents
		WHERE legal_hold <> legal_hold_applied AND status = 'active' ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.LockChange, error) {
		var c casefile.LockChange
		err := r.Scan(&c.DocumentID, &c.Key, &c.LegalHold)
		return c, err
	})
	return out, mapError(err)
}

// MarkLegalHoldsApplied records the legal hold state now on the objects.
func (db *DB) MarkLegalHoldsApplied(ctx context.Context, cs []casefile.LockChange) error {
	ids, on := make([]string, len(cs)), make([]bool, len(cs))
	for i, c := range cs {
		ids[i], on[i] = c.DocumentID, c.LegalHold
	}
	_, err := db.pool.Exec(ctx, `UPDATE documents d SET legal_hold_applied = c.held
		FROM unnest($1::uuid[], $2::bool[]) AS c(id, held) WHERE d.id = c.id`, ids, on)
	return mapError(err)
}

// RollingLockDays is how far ahead an original is locked while its disposal
// date is not known; RollingLockRenewDays is when the sweep extends it.
const (
	RollingLockDays      = 365
	RollingLockRenewDays = 335
)

// PendingRetainUntil lists active documents after the id after whose Object
// Lock retain-until must move later: to the disposal date when it is known
// (and no involvement is open), otherwise a rolling year ahead of today.
// Dates never move earlier here: destruction bypasses governance anyway.
func (db *DB) PendingRetainUntil(ctx context.Context, today casefile.Date, after string, limit int) ([]casefile.LockChange, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := db.pool.Query(ctx, `SELECT d.id::text, d.object_key, w.want FROM documents d
		LEFT JOIN person_retention pr ON pr.person_id = d.person_id
		CROSS JOIN LATERAL (SELECT (pr.disposal_due_on IS NULL OR pr.open) AS rolling) r
		CROSS JOIN LATERAL (SELECT CASE WHEN r.rolling THEN $1::date + $4::int ELSE pr.disposal_due_on END AS want) w
		WHERE d.status = 'active' AND d.id > $2::uuid AND w.want > $1::date AND (d.retain_until IS NULL
			OR (r.rolling AND d.retain_until < $1::date + $5::int) OR (NOT r.rolling AND d.retain_until < w.want))
		ORDER BY d.id LIMIT $3`, today, after, limit, RollingLockDays, RollingLockRenewDays)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.LockChange, error) {
		var c casefile.LockChange
		err := r.Scan(&c.DocumentID, &c.Key, &c.RetainUntil)
		return c, err
	})
	return out, mapError(err)
}

// MarkRetainUntil records the retain-until dates now on the objects.
func (db *DB) MarkRetainUntil(ctx context.Context, cs []casefile.LockChange) error {
	ids, until := make([]string, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		ids[i], until[i] = c.DocumentID, c.RetainUntil.String()
	}
	_, err := db.pool.Exec(ctx, `UPDATE documents d SET retain_until = c.u
		FROM unnest($1::uuid[], $2::date[]) AS c(id, u) WHERE d.id = c.id`, ids, until)
	return mapError(err)
}
