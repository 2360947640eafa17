package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.RetentionStore = (*DB)(nil)

// holdLockKey: a retention batch holds it shared while it destroys; creating
// a hold takes it exclusively, so that no batch destroys what a new hold covers.
const holdLockKey = 0x686f6c64 // "hold"

// heldSQL is true when an active hold covers person column p.
func heldSQL(p string) string {
	return `EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND (h.all_records OR EXISTS (
		SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = ` + p + `)))`
}

func heldNamesSQL(p string) string {
	return `(SELECT string_agg(h.name, ', ' ORDER BY h.created_at) FROM holds h WHERE h.released_at IS NULL AND (h.all_records OR EXISTS (
		SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = ` + p + `)))`
}

const holdColumns = `h.id, h.name, h.reason, h.all_records, h.created_by, h.created_at, h.released_at, coalesce(h.released_by, ''),
	coalesce((SELECT array_agg(hp.person_id::text ORDER BY hp.person_id) FROM hold_persons hp WHERE hp.hold_id = h.id), '{}')`

func scanHold(row pgx.Row) (*casefile.Hold, error) {
	var h casefile.Hold
	if err := row.Scan(&h.ID, &h.Name, &h.Reason, &h.All, &h.CreatedBy, &h.CreatedAt, &h.ReleasedAt, &h.ReleasedBy, &h.PersonIDs); err != nil {
		return nil, err
	}
	h.CreatedAt = h.CreatedAt.UTC()
	if h.ReleasedAt != nil {
		t := h.ReleasedAt.UTC()
		h.ReleasedAt = &t
	}
	return &h, nil
}

// PersonRetention returns a person's position and the holds covering them.
func (db *DB) PersonRetention(ctx context.Context, personID string) (*casefile.PersonRetention, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	r := &casefile.PersonRetention{PersonID: personID, Holds: []*casefile.Hold{}}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT record_class, trigger, trigger_date, disposal_due_on, open, reason FROM person_retention
			WHERE person_id = $1`, personID).Scan(&r.RecordClass, &r.Trigger, &r.TriggerDate, &r.DisposalDueOn, &r.Open, &r.Reason)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+holdColumns+` FROM holds h WHERE h.released_at IS NULL AND (h.all_records OR EXISTS (
			SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = $1)) ORDER BY h.created_at`, personID)
		if err != nil {
			return err
		}
		if r.Holds, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Hold, error) { return scanHold(r) }); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.read", TargetType: "person", TargetID: personID, PersonID: personID})
	})
	return r, err
}

// CreateHold stores a hold and queues the Object Lock sync that puts S3
// legal holds on what it covers. The hold protects from the moment it
// commits: runs read hold rows, not S3 state.
func (db *DB) CreateHold(ctx context.Context, h *casefile.Hold) error {
	h.ID, h.CreatedBy = newID(), casefile.ActorFrom(ctx).String()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", holdLockKey); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO holds (id, name, reason, all_records, created_by) VALUES ($1,$2,$3,$4,$5) RETURNING created_at`,
			h.ID, h.Name, h.Reason, h.All, h.CreatedBy).Scan(&h.CreatedAt); err != nil {
			return err
		}
		h.CreatedAt = h.CreatedAt.UTC()
		for _, p := range h.PersonIDs {
			if err := personExists(ctx, tx, p); err != nil {
				return casefile.Errorf(casefile.EUnprocessable, "unknown_person", "person_ids names %s, which is not a person.", p)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO hold_persons (hold_id, person_id) VALUES ($1,$2) ON CONFLICT DO NOTHING", h.ID, p); err != nil {
				return err
			}
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "hold.cover", TargetType: "hold", TargetID: h.ID, PersonID: p,
				Details: map[string]string{"name": h.Name}}); err != nil {
				return err
			}
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, "retention:sync:hold:"+h.ID, map[string]string{"hold_id": h.ID}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "hold.create", TargetType: "hold", TargetID: h.ID,
			Details: map[string]any{"name": h.Name, "reason": h.Reason, "all": h.All, "persons": len(h.PersonIDs)}})
	})
}

// ReleaseHold lifts a hold and queues the sync that lifts S3 legal holds no
// other hold needs.
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
			return casefile.Errorf(casefile.EConflict, "hold_released", "This hold was released on %s.", h.ReleasedAt.Format(time.RFC3339))
		}
		by := casefile.ActorFrom(ctx).String()
		if err := tx.QueryRow(ctx, `UPDATE holds SET released_at = now(), released_by = $2, release_reason = $3 WHERE id = $1
			RETURNING released_at`, id, by, reason).Scan(&h.ReleasedAt); err != nil {
			return err
		}
		h.ReleasedBy = by
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, "retention:sync:release:"+id, map[string]string{"hold_id": id}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "hold.release", TargetType: "hold", TargetID: id,
			Details: map[string]any{"name": h.Name, "reason": reason}})
	})
	return h, err
}

// Holds lists holds, newest first.
func (db *DB) Holds(ctx context.Context, p casefile.Page) ([]*casefile.Hold, string, error) {
	limit := clampLimit(p.Limit)
	if p.Cursor != "" && !validUUID(p.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	rows, err := db.pool.Query(ctx, "SELECT "+holdColumns+" FROM holds h WHERE ($1 = '' OR h.id < $1::uuid) ORDER BY h.id DESC LIMIT $2", p.Cursor, limit+1)
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
	return out, next, nil
}

const runColumns = `id, state, dry_run, as_of, requested_by, requested_at, finished_at, due, destroyed, held_back, certificate, coalesce(error, '')`

func scanRun(row pgx.Row) (*casefile.RetentionRun, error) {
	var r casefile.RetentionRun
	var cert []byte
	if err := row.Scan(&r.ID, &r.State, &r.DryRun, &r.AsOf, &r.RequestedBy, &r.RequestedAt, &r.FinishedAt, &r.Due, &r.Destroyed,
		&r.HeldBack, &cert, &r.Error); err != nil {
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
			return nil, err
		}
	}
	return &r, nil
}

// CreateRun queues a run with its outbox item.
func (db *DB) CreateRun(ctx context.Context, dryRun bool, asOf casefile.Date) (*casefile.RetentionRun, error) {
	var r *casefile.RetentionRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		id := newID()
		var err error
		r, err = scanRun(tx.QueryRow(ctx, `INSERT INTO retention_runs (id, dry_run, as_of, requested_by) VALUES ($1,$2,$3,$4)
			RETURNING `+runColumns, id, dryRun, asOf, casefile.ActorFrom(ctx).String()))
		if err != nil {
			var live string
			if mapped := mapError(err); casefile.ErrorKind(mapped) == casefile.EConflict {
				_ = db.pool.QueryRow(context.WithoutCancel(ctx), "SELECT id FROM retention_runs WHERE NOT dry_run AND state IN ('queued','running')").Scan(&live)
				return casefile.Errorf(casefile.EConflict, "run_in_progress", "A retention run is already in progress (%s); wait for it to finish.", live)
			}
			return err
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionRun, "retention:run:"+id, map[string]string{"run_id": id}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.request", TargetType: "retention_run", TargetID: id,
			Details: map[string]any{"dry_run": dryRun, "as_of": asOf}})
	})
	return r, err
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

// LiveRun returns the live real run, if any.
func (db *DB) LiveRun(ctx context.Context) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, "SELECT id FROM retention_runs WHERE NOT dry_run AND state IN ('queued','running')").Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return id, mapError(err)
}

const itemColumns = `item_type, item_id, person_id, record_class, coalesce(sha256, ''), disposal_due_on, state, coalesce(why, ''), destroyed_at`

func scanItem(row pgx.Row) (*casefile.RunItem, error) {
	var it casefile.RunItem
	if err := row.Scan(&it.ItemType, &it.ItemID, &it.PersonID, &it.RecordClass, &it.SHA256, &it.DisposalDueOn, &it.State, &it.Why, &it.DestroyedAt); err != nil {
		return nil, err
	}
	if it.DestroyedAt != nil {
		t := it.DestroyedAt.UTC()
		it.DestroyedAt = &t
	}
	return &it, nil
}

// RunItems lists a run's items by type and id.
func (db *DB) RunItems(ctx context.Context, runID string, p casefile.Page) ([]*casefile.RunItem, string, error) {
	limit := clampLimit(p.Limit)
	if !validUUID(runID) {
		return nil, "", notFound("Retention run")
	}
	if p.Cursor != "" && !validUUID(p.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	rows, err := db.pool.Query(ctx, "SELECT "+itemColumns+` FROM retention_run_items WHERE run_id = $1 AND ($2 = '' OR item_id > $2::uuid)
		ORDER BY item_id LIMIT $3`, runID, p.Cursor, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanItem(r) })
	if err != nil {
		return nil, "", mapError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ItemID
	}
	return out, next, nil
}

// StartRun marks a run running.
func (db *DB) StartRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	var r *casefile.RetentionRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1 FOR UPDATE", id))
		if err == pgx.ErrNoRows {
			return notFound("Retention run")
		}
		if err != nil {
			return err
		}
		if r.State == "done" || r.State == "failed" {
			return casefile.Errorf(casefile.EConflict, "run_finished", "This run has finished.")
		}
		r.State = "running"
		_, err = tx.Exec(ctx, "UPDATE retention_runs SET state = 'running', started_at = coalesce(started_at, now()) WHERE id = $1", id)
		return err
	})
	return r, err
}

// PlanRun records the run's items once.
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
		due := `WITH due AS (
			SELECT pr.person_id, pr.record_class, pr.disposal_due_on, pr.open, ` + heldSQL("pr.person_id") + ` AS held,
			       ` + heldNamesSQL("pr.person_id") + ` AS hold_names
			FROM person_retention pr JOIN persons p ON p.id = pr.person_id
			WHERE pr.disposal_due_on IS NOT NULL AND pr.disposal_due_on <= $2 AND p.status = 'active')`
		state := `CASE WHEN due.open THEN 'review' WHEN due.held THEN 'held_back' ELSE 'due' END`
		why := `CASE WHEN due.open THEN 'past its disposal date, but an involvement is still open: review the case'
			WHEN due.held THEN 'held back by: ' || due.hold_names ELSE 'due under the ' || due.record_class || ' rule' END`
		for _, q := range []string{
			due + ` INSERT INTO retention_run_items (run_id, item_type, item_id, person_id, record_class, sha256, disposal_due_on, state, why)
				SELECT $1, 'document', d.id, d.person_id, due.record_class, d.sha256, due.disposal_due_on, ` + state + `, ` + why + `
				FROM due JOIN documents d ON d.person_id = due.person_id AND d.status = 'active' ON CONFLICT DO NOTHING`,
			due + ` INSERT INTO retention_run_items (run_id, item_type, item_id, person_id, record_class, sha256, disposal_due_on, state, why)
				SELECT $1, 'note', n.id, n.person_id, due.record_class, v.body_sha256, due.disposal_due_on, ` + state + `, ` + why + `
				FROM due JOIN notes n ON n.person_id = due.person_id AND n.status <> 'destroyed'
				JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version ON CONFLICT DO NOTHING`,
			due + ` INSERT INTO retention_run_items (run_id, item_type, item_id, person_id, record_class, disposal_due_on, state, why)
				SELECT $1, 'person', due.person_id, due.person_id, due.record_class, due.disposal_due_on, ` + state + `, ` + why + `
				FROM due ON CONFLICT DO NOTHING`,
		} {
			if _, err := tx.Exec(ctx, q, id, asOf); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE retention_runs SET planned = true,
			due = (SELECT count(*) FROM retention_run_items WHERE run_id = $1 AND state = 'due'),
			held_back = (SELECT count(*) FROM retention_run_items WHERE run_id = $1 AND state = 'held_back')
			WHERE id = $1`, id)
		return err
	})
}

// holdBackNewlyHeld moves due items whose person a hold now covers to held_back.
func holdBackNewlyHeld(ctx context.Context, tx pgx.Tx, runID, itemType string) error {
	_, err := tx.Exec(ctx, `UPDATE retention_run_items i SET state = 'held_back', why = 'held back by: ' || `+heldNamesSQL("i.person_id")+`
		WHERE i.run_id = $1 AND i.item_type = $2 AND i.state = 'due' AND `+heldSQL("i.person_id"), runID, itemType)
	return err
}

// DestroyBatch destroys one batch of due documents.
func (db *DB) DestroyBatch(ctx context.Context, runID string, limit int, destroy func([]casefile.DueObject) (map[string]error, error)) (int, error) {
	n, failures := 0, 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		if err := holdBackNewlyHeld(ctx, tx, runID, "document"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT d.id, d.object_key, d.object_version FROM retention_run_items i JOIN documents d ON d.id = i.item_id
			WHERE i.run_id = $1 AND i.item_type = 'document' AND i.state = 'due' ORDER BY i.item_id LIMIT $2`, runID, limit)
		if err != nil {
			return err
		}
		objs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.DueObject, error) {
			var o casefile.DueObject
			err := r.Scan(&o.DocumentID, &o.ObjectKey, &o.VersionID)
			return o, err
		})
		if err != nil || len(objs) == 0 {
			return err
		}
		failed, err := destroy(objs)
		if err != nil {
			return err
		}
		var ids []string
		for _, o := range objs {
			if failed[o.ObjectKey] == nil {
				ids = append(ids, o.DocumentID)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE documents SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $2,
			body_text = NULL, email = NULL, parse_warnings = '[]', title = '', legal_hold = false WHERE id = ANY($1)`, ids, runID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
			WHERE run_id = $1 AND item_type = 'document' AND item_id = ANY($2)`, runID, ids); err != nil {
			return err
		}
		n, failures = len(objs), len(objs)-len(ids)
		return nil
	})
	if err == nil && failures > 0 {
		// What was destroyed is recorded; the rest is tried again.
		err = casefile.Errorf(casefile.EUnavailable, "destroy_incomplete", "%d of %d objects could not be destroyed yet", failures, n)
	}
	return n, err
}

// DestroyNotesAndIdentities destroys due notes and, where nothing of a due
// person's record remains, their identifying details.
func (db *DB) DestroyNotesAndIdentities(ctx context.Context, runID string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		for _, typ := range []string{"note", "person"} {
			if err := holdBackNewlyHeld(ctx, tx, runID, typ); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE notes SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $1, reopened_by_ticket = NULL
			WHERE id IN (SELECT item_id FROM retention_run_items WHERE run_id = $1 AND item_type = 'note' AND state = 'due')`, runID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE note_versions SET body = NULL WHERE body IS NOT NULL AND note_id IN
			(SELECT item_id FROM retention_run_items WHERE run_id = $1 AND item_type = 'note' AND state = 'due')`, runID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
			WHERE run_id = $1 AND item_type = 'note' AND state = 'due'`, runID); err != nil {
			return err
		}
		// A person's identity goes only when nothing of their record is left.
		rows, err := tx.Query(ctx, `SELECT i.person_id, i.record_class FROM retention_run_items i WHERE i.run_id = $1 AND i.item_type = 'person'
			AND i.state = 'due'
			AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.person_id = i.person_id AND d.status = 'active')
			AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.person_id = i.person_id AND n.status = 'active')`, runID)
		if err != nil {
			return err
		}
		type pc struct{ id, class string }
		persons, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pc, error) {
			var p pc
			err := r.Scan(&p.id, &p.class)
			return p, err
		})
		if err != nil {
			return err
		}
		for _, p := range persons {
			if _, err := tx.Exec(ctx, `UPDATE persons SET given_name = NULL, family_name = NULL, date_of_birth = NULL, date_of_death = NULL,
				status = 'destroyed', identity_destroyed_at = now(), destruction_run_id = $2, updated_at = now() WHERE id = $1`, p.id, runID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
				WHERE run_id = $1 AND item_type = 'person' AND item_id = $2`, runID, p.id); err != nil {
				return err
			}
			var docs, notes int
			if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE item_type = 'document'), count(*) FILTER (WHERE item_type = 'note')
				FROM retention_run_items WHERE run_id = $1 AND person_id = $2 AND state = 'destroyed'`, runID, p.id).Scan(&docs, &notes); err != nil {
				return err
			}
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.destroy", TargetType: "person", TargetID: p.id, PersonID: p.id,
				Details: map[string]any{"run_id": runID, "record_class": p.class, "documents": docs, "notes": notes}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// FinishRun writes the certificate of a real run and closes it.
func (db *DB) FinishRun(ctx context.Context, runID string) (*casefile.RetentionRun, error) {
	var r *casefile.RetentionRun
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1 FOR UPDATE", runID))
		if err != nil {
			return err
		}
		if r.State == "done" {
			return nil
		}
		var counts struct{ due, destroyed, held int }
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('due','destroyed')), count(*) FILTER (WHERE state = 'destroyed'),
			count(*) FILTER (WHERE state = 'held_back') FROM retention_run_items WHERE run_id = $1`, runID).
			Scan(&counts.due, &counts.destroyed, &counts.held); err != nil {
			return err
		}
		r.Due, r.Destroyed, r.HeldBack = counts.due, counts.destroyed, counts.held
		var cert []byte
		if !r.DryRun {
			rows, err := tx.Query(ctx, "SELECT "+itemColumns+` FROM retention_run_items WHERE run_id = $1 AND state = 'destroyed'
				ORDER BY item_type, item_id`, runID)
			if err != nil {
				return err
			}
			items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanItem(r) })
			if err != nil {
				return err
			}
			if items == nil {
				items = []*casefile.RunItem{}
			}
			canon, _ := json.Marshal(items)
			sum := sha256.Sum256(canon)
			r.Certificate = &casefile.Certificate{RunID: runID, AsOf: r.AsOf, IssuedAt: db.now().UTC().Truncate(time.Second),
				ApprovedBy: r.RequestedBy, Items: items, SHA256: hex.EncodeToString(sum[:])}
			cert, _ = json.Marshal(r.Certificate)
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_runs SET state = 'done', finished_at = now(), due = $2, destroyed = $3, held_back = $4,
			certificate = $5 WHERE id = $1`, runID, counts.due, counts.destroyed, counts.held, cert); err != nil {
			return err
		}
		r.State = "done"
		details := map[string]any{"dry_run": r.DryRun, "as_of": r.AsOf, "due": counts.due, "destroyed": counts.destroyed, "held_back": counts.held}
		if r.Certificate != nil {
			details["certificate_sha256"] = r.Certificate.SHA256
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.finish", TargetType: "retention_run", TargetID: runID, Details: details})
	})
	return r, err
}

// FailRun records why a run stopped.
func (db *DB) FailRun(ctx context.Context, runID, reason string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE retention_runs SET state = 'failed', error = $2, finished_at = now() WHERE id = $1 AND state <> 'done'",
			runID, reason); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.fail", TargetType: "retention_run", TargetID: runID,
			Details: map[string]string{"error": reason}})
	})
}

// ObjectLockTargets finds documents whose object's lock state lags: the
// retain-until should reach the disposal date (or roll a year ahead while no
// date is known), and the legal hold should match the holds.
func (db *DB) ObjectLockTargets(ctx context.Context, today casefile.Date, limit int) ([]casefile.ObjectLockTarget, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, object_key, desired, held FROM (
			SELECT d.id, d.object_key, d.retain_until, d.legal_hold,
				CASE WHEN pr.disposal_due_on IS NOT NULL AND NOT pr.open THEN greatest(pr.disposal_due_on, d.retain_until)
				     WHEN d.retain_until IS NULL OR d.retain_until < $1::date + 30 THEN $1::date + 365
				     ELSE d.retain_until END AS desired,
				`+heldSQL("d.person_id")+` AS held
			FROM documents d LEFT JOIN person_retention pr ON pr.person_id = d.person_id
			WHERE d.status = 'active') x
		WHERE desired IS DISTINCT FROM retain_until OR held <> legal_hold
		ORDER BY id LIMIT $2`, today, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.ObjectLockTarget, error) {
		var t casefile.ObjectLockTarget
		err := r.Scan(&t.DocumentID, &t.ObjectKey, &t.RetainUntil, &t.LegalHold)
		return t, err
	})
	return out, mapError(err)
}

// RecordObjectLock records the lock state set on a document's object.
func (db *DB) RecordObjectLock(ctx context.Context, t casefile.ObjectLockTarget) error {
	_, err := db.pool.Exec(ctx, "UPDATE documents SET retain_until = $2, legal_hold = $3 WHERE id = $1", t.DocumentID, t.RetainUntil, t.LegalHold)
	return mapError(err)
}
