package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

// runTaskID names the task that carries out a run.
func runTaskID(id string) string { return "retention-run:" + id }

// CreateRun queues a run. At most one real run is live (queued, running,
// awaiting approval or approved). With approval automatic, a real run a
// person requests carries that person's approval.
func (db *DB) CreateRun(ctx context.Context, dryRun bool, asOf casefile.Date) (*casefile.RetentionRun, error) {
	actor := casefile.ActorFrom(ctx)
	r := &casefile.RetentionRun{ID: newID(), State: "queued", DryRun: dryRun, AsOf: asOf, RequestedBy: actor.String()}
	if !dryRun {
		r.ApprovalsRequired = max(db.disposal.Approvers, 1)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO retention_runs (id, dry_run, as_of, requested_by, approvals_required) VALUES ($1,$2,$3,$4,$5)
			RETURNING requested_at`, r.ID, dryRun, asOf, r.RequestedBy, max(r.ApprovalsRequired, 1)).Scan(&r.RequestedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "run_in_progress",
				"A real retention run is already queued, running or awaiting approval; decide its disposal list or wait for it "+
					"(GET /v1/retention/runs/{id}), then try again.")
		}
		if err != nil {
			return err
		}
		r.RequestedAt = r.RequestedAt.UTC()
		if !dryRun && db.disposal.Approval == casefile.ApprovalAutomatic && canApprove(actor) {
			if err := db.recordApproval(ctx, tx, r.ID, actor, r.ApprovalsRequired); err != nil {
				return err
			}
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionRun, runTaskID(r.ID), map[string]string{"run_id": r.ID}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.request", TargetType: "retention_run", TargetID: r.ID,
			Details: map[string]any{"dry_run": dryRun, "as_of": asOf}})
	})
	if err != nil {
		return nil, err
	}
	if !dryRun {
		return db.RetentionRun(ctx, r.ID)
	}
	return r, nil
}

// LiveRun returns the id of the real run queued, running, awaiting approval
// or approved, if any.
func (db *DB) LiveRun(ctx context.Context) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM retention_runs WHERE NOT dry_run
		AND state IN ('queued','running','awaiting_approval','approved')`).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return id, mapError(err)
}

const runColumns = `id, state, dry_run, as_of, requested_by, requested_at, finished_at, due, destroyed, held_back, review,
	certificate, coalesce(error, ''), approvals_required, awaiting_since, expires_at, approved_at, coalesce(rejected_by, ''),
	coalesce(reject_reason, '')`

func scanRun(row pgx.Row) (*casefile.RetentionRun, error) {
	var r casefile.RetentionRun
	var cert []byte
	if err := row.Scan(&r.ID, &r.State, &r.DryRun, &r.AsOf, &r.RequestedBy, &r.RequestedAt, &r.FinishedAt, &r.Due, &r.Destroyed,
		&r.HeldBack, &r.Review, &cert, &r.Error, &r.ApprovalsRequired, &r.AwaitingSince, &r.ExpiresAt, &r.ApprovedAt,
		&r.RejectedBy, &r.RejectReason); err != nil {
		return nil, err
	}
	r.RequestedAt = r.RequestedAt.UTC()
	for _, t := range []**time.Time{&r.FinishedAt, &r.AwaitingSince, &r.ExpiresAt, &r.ApprovedAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	if r.DryRun {
		r.ApprovalsRequired = 0
	}
	if len(cert) > 0 {
		r.Certificate = &casefile.Certificate{}
		if err := json.Unmarshal(cert, r.Certificate); err != nil {
			return nil, fmt.Errorf("certificate of run %s: %w", r.ID, err)
		}
	}
	return &r, nil
}

// RetentionRun returns a run. A real run's certificate lists what it
// destroyed, by person: the read is audited on each person's trail, and
// answers only once that is kept.
func (db *DB) RetentionRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	r, err := db.runByID(ctx, id)
	if err != nil || r.Certificate == nil {
		return r, err
	}
	var s shown
	for _, it := range r.Certificate.Items {
		s.add(it.PersonID)
	}
	if err := db.readTx(ctx, func(tx pgx.Tx) error {
		return db.auditShown(ctx, tx, "retention.run.read", map[string]any{"via": "certificate", "run_id": id}, s.order, s.count)
	}); err != nil {
		return nil, err
	}
	return r, nil
}

// runByID reads a run without auditing: for the service's own steps.
func (db *DB) runByID(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	if !validUUID(id) {
		return nil, notFound("Retention run")
	}
	if _, err := db.ExpireRuns(ctx); err != nil {
		return nil, err
	}
	r, err := scanRun(db.pool.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, notFound("Retention run")
	}
	if err != nil {
		return nil, mapError(err)
	}
	if r.Approvals, err = runApprovals(ctx, db.pool, id); err != nil {
		return nil, mapError(err)
	}
	return r, nil
}

const runItemColumns = `item_type, item_id::text, person_id::text, record_class, coalesce(sha256, ''), disposal_due_on, state,
	coalesce(why, ''), destroyed_at, trigger_date`

func scanRunItem(row pgx.Row) (*casefile.RunItem, error) {
	var it casefile.RunItem
	var due, trig casefile.Date
	if err := row.Scan(&it.ItemType, &it.ItemID, &it.PersonID, &it.RecordClass, &it.SHA256, &due, &it.State, &it.Why,
		&it.DestroyedAt, &trig); err != nil {
		return nil, err
	}
	if !due.IsZero() {
		it.DisposalDueOn = &due
	}
	if !trig.IsZero() {
		it.TriggerDate = &trig
	}
	if it.DestroyedAt != nil {
		t := it.DestroyedAt.UTC()
		it.DestroyedAt = &t
	}
	return &it, nil
}

// RunItems lists a run's items ordered by type and id.
func (db *DB) RunItems(ctx context.Context, runID string, f casefile.RunItemFilter) ([]*casefile.RunItem, string, error) {
	if _, err := db.runByID(ctx, runID); err != nil {
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
	var out []*casefile.RunItem
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+runItemColumns+` FROM retention_run_items
			WHERE run_id = $1 AND ($2 = '' OR state = $2) AND (item_type, item_id) > ($3, $4::uuid)
			ORDER BY item_type, item_id LIMIT $5`, runID, f.State, ctype, cid, limit+1)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanRunItem(r) }); err != nil {
			return err
		}
		// Which of a person's records are due, held back (and why) or
		// destroyed is about them.
		var s shown
		for _, it := range out[:min(len(out), limit)] {
			s.add(it.PersonID)
		}
		return db.auditShown(ctx, tx, "retention.run.read", map[string]any{"via": "items", "run_id": runID}, s.order, s.count)
	})
	if err != nil {
		return nil, "", err
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

// StartRun marks a queued or approved run running and returns it. A run in
// any other state (awaiting approval, done, failed...) is returned as it is,
// so that a repeated task does nothing.
func (db *DB) StartRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	if !validUUID(id) {
		return nil, notFound("Retention run")
	}
	if _, err := db.pool.Exec(ctx, `UPDATE retention_runs SET state = 'running', started_at = coalesce(started_at, now())
		WHERE id = $1 AND state IN ('queued','approved')`, id); err != nil {
		return nil, mapError(err)
	}
	return db.runByID(ctx, id)
}

// PlanRun records, once per run, every document, note and person that is
// due, held back (and why) or for review as of the run's date. Kept for
// review, not listed: records with an open involvement; records whose class
// the schedule says review; records a records officer excluded until a
// later date, or decided to keep until a later date; records whose dates
// or involvements changed, or whose date a new schedule brought forward,
// within the settle period. A record a records officer returned to the
// disposal lists is listed whatever its class, settle period or earlier
// exclusions say (standingColumns), unless open or held.
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
				SELECT person_id, record_class, trigger_date, disposal_due_on, open, eff_action AS action, held_by, excluded_until, kept_until,
					(eff_inputs_changed_at AT TIME ZONE 'UTC')::date AS changed_on,
					(eff_schedule_changed_at AT TIME ZONE 'UTC')::date AS schedule_changed_on
				FROM (SELECT pr.person_id, pr.record_class, pr.trigger_date, pr.disposal_due_on, pr.open,
					`+heldBy("pr.person_id")+` AS held_by, `+standingColumns("$2")+`
				FROM person_retention pr JOIN persons p ON p.id = pr.person_id AND p.status = 'active'`+standingJoin+`
				WHERE pr.disposal_due_on IS NOT NULL AND pr.disposal_due_on <= $2) s
			), st AS (
				SELECT person_id, record_class, trigger_date, disposal_due_on,
					CASE WHEN held_by IS NOT NULL THEN 'held_back'
						WHEN open OR action = 'review' OR excluded_until IS NOT NULL OR kept_until IS NOT NULL OR changed_on > $2::date - $3::int
							OR schedule_changed_on > $2::date - $3::int THEN 'review'
						ELSE 'due' END AS state,
					CASE WHEN held_by IS NOT NULL THEN 'under hold: ' || held_by
						WHEN open THEN 'past its disposal date but an involvement is still open'
						WHEN action = 'review' THEN 'the schedule says review for ' || record_class
							|| ': a records officer decides; a run never destroys it'
						WHEN kept_until IS NOT NULL THEN 'kept by a records officer until ' || kept_until
						WHEN excluded_until IS NOT NULL THEN 'excluded from a disposal list by a records officer; for review on '
							|| excluded_until
						WHEN changed_on > $2::date - $3::int THEN 'dates or involvements changed on ' || changed_on
							|| '; held for review until the settle period ends on ' || (changed_on + $3::int)
						WHEN schedule_changed_on > $2::date - $3::int THEN 'a new retention schedule brought its date forward on '
							|| schedule_changed_on || '; held for review until ' || (schedule_changed_on + $3::int) END AS why
				FROM cand
			)
			INSERT INTO retention_run_items (run_id, item_type, item_id, person_id, record_class, sha256, trigger_date, disposal_due_on, state, why)
			SELECT $1::uuid, 'document', d.id, d.person_id, st.record_class, d.sha256, st.trigger_date, st.disposal_due_on, st.state, st.why
				FROM st JOIN documents d ON d.person_id = st.person_id AND d.status = 'active'
			UNION ALL
			SELECT $1::uuid, 'note', n.id, n.person_id, st.record_class, v.body_sha256, st.trigger_date, st.disposal_due_on, st.state, st.why
				FROM st JOIN notes n ON n.person_id = st.person_id AND n.status = 'active'
				JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version
			UNION ALL
			SELECT $1::uuid, 'person', st.person_id, st.person_id, st.record_class, NULL, st.trigger_date, st.disposal_due_on, st.state, st.why
				FROM st
			ON CONFLICT DO NOTHING`, id, asOf, max(db.disposal.SettleDays, 0))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE retention_runs SET planned = true, planned_at = now() WHERE id = $1", id); err != nil {
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
