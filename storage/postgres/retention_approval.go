package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// canApprove reports whether the actor is a person who can approve a
// disposal list: a user or a token's holder, known by id. The system (the
// nightly sweep, a worker) never approves.
func canApprove(a casefile.Actor) bool {
	return a.ID != "" && a.Kind != casefile.ActorSystem && a.Role != casefile.RoleSystem && !strings.HasPrefix(a.Name, "system:")
}

func runApprovals(ctx context.Context, q querier, runID string) ([]*casefile.Approval, error) {
	rows, err := q.Query(ctx, `SELECT approver_id, approver_name, approved_at FROM retention_run_approvals
		WHERE run_id = $1 ORDER BY approved_at, approver_id`, runID)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Approval, error) {
		var a casefile.Approval
		err := r.Scan(&a.ID, &a.Name, &a.ApprovedAt)
		a.ApprovedAt = a.ApprovedAt.UTC()
		return &a, err
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// recordApproval adds the actor's approval of a run; with enough different
// approvers the run is approved and, if it is waiting, queued to destroy.
func (db *DB) recordApproval(ctx context.Context, tx pgx.Tx, runID string, actor casefile.Actor, required int) error {
	tag, err := tx.Exec(ctx, `INSERT INTO retention_run_approvals (run_id, approver_id, approver_name) VALUES ($1,$2,$3)
		ON CONFLICT DO NOTHING`, runID, actor.ID, actor.String())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return casefile.Errorf(casefile.EConflict, "same_person",
			"You have already approved this disposal list; it needs %d different records officers, so another must approve it.", required)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM retention_run_approvals WHERE run_id = $1", runID).Scan(&n); err != nil {
		return err
	}
	details := map[string]any{"approvals": n, "required": required, "approver_id": actor.ID}
	if n >= required {
		var state string
		if err := tx.QueryRow(ctx, `UPDATE retention_runs SET approved_at = now(),
				state = CASE WHEN state = 'awaiting_approval' THEN 'approved' ELSE state END
			WHERE id = $1 RETURNING state`, runID).Scan(&state); err != nil {
			return err
		}
		if state == casefile.RunApproved {
			if err := enqueueTx(ctx, tx, casefile.TaskRetentionRun, runTaskID(runID)+":approved", map[string]string{"run_id": runID}); err != nil {
				return err
			}
		}
		details["approved"] = true
	}
	return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.approve", TargetType: "retention_run", TargetID: runID,
		Details: details})
}

// AwaitApproval stops a planned real run that nobody has approved yet at
// awaiting_approval, with its list, until enough records officers approve
// it or ListDays pass. A run with nothing due, or already approved, is
// returned still running, to be finished (or carried out) at once.
func (db *DB) AwaitApproval(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var state string
		var dry, approved bool
		var due int
		if err := tx.QueryRow(ctx, `SELECT state, dry_run, approved_at IS NOT NULL, due FROM retention_runs WHERE id = $1 FOR UPDATE`,
			id).Scan(&state, &dry, &approved, &due); err != nil {
			return err
		}
		if state != casefile.RunRunning || dry || approved || due == 0 {
			return nil
		}
		var expires time.Time
		if err := tx.QueryRow(ctx, `UPDATE retention_runs SET state = 'awaiting_approval', awaiting_since = now(),
			expires_at = now() + make_interval(days => $2) WHERE id = $1 RETURNING expires_at`, id, max(db.disposal.ListDays, 1)).Scan(&expires); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.await_approval", TargetType: "retention_run", TargetID: id,
			Details: map[string]any{"due": due, "expires_at": expires.UTC()}})
	})
	if err != nil {
		return nil, err
	}
	return db.RetentionRun(ctx, id)
}

// ExpireRuns closes lists that waited for approval past their time: nothing
// of them is destroyed, and the next sweep lists what is due afresh.
func (db *DB) ExpireRuns(ctx context.Context) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE retention_runs SET state = 'expired', finished_at = now()
			WHERE state = 'awaiting_approval' AND expires_at <= now() RETURNING id::text`)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		n = len(ids)
		for _, id := range ids {
			if err := db.appendAudit(ctx, tx, auditEntry{Actor: "system:retention", Action: "retention.run.expire",
				TargetType: "retention_run", TargetID: id, Details: map[string]any{"list_days": db.disposal.ListDays}}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// lockAwaiting locks a run that must be awaiting approval.
func lockAwaiting(ctx context.Context, tx pgx.Tx, id string) (required int, err error) {
	var state string
	err = tx.QueryRow(ctx, "SELECT state, approvals_required FROM retention_runs WHERE id = $1 FOR UPDATE", id).Scan(&state, &required)
	switch {
	case err == pgx.ErrNoRows:
		return 0, notFound("Retention run")
	case err != nil:
		return 0, err
	case state == casefile.RunExpired:
		return 0, casefile.Errorf(casefile.EConflict, "run_expired",
			"This disposal list was not approved in time and has expired; nothing on it was destroyed. The next run lists what is due afresh.")
	case state != casefile.RunAwaitingApproval:
		return 0, casefile.Errorf(casefile.EConflict, "run_not_awaiting_approval",
			"This run is %s, not awaiting approval; only a real run's disposal list awaiting approval can be changed or decided.", state)
	}
	return required, nil
}

// ExcludeFromRun takes the records of the named items out of a run's
// disposal list and into the review queue until x.ReviewOn.
func (db *DB) ExcludeFromRun(ctx context.Context, runID string, x casefile.Exclusion) (*casefile.RetentionRun, error) {
	if !validUUID(runID) {
		return nil, notFound("Retention run")
	}
	actor := casefile.ActorFrom(ctx)
	if !canApprove(actor) {
		return nil, casefile.Errorf(casefile.EForbidden, "system_cannot_decide", "Only a records officer, known by id, can exclude records from a disposal list.")
	}
	if !x.ReviewOn.After(casefile.DateOf(db.now().UTC())) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "review_on_past", "review_on must be a date after today: the day the record comes back for review.")
	}
	if strings.TrimSpace(x.Reason) == "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_reason", "Say why the records are kept (reason).")
	}
	ids := dedupe(x.ItemIDs)
	if len(ids) == 0 {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_item_ids", "Name the items to exclude (item_ids, from GET /v1/retention/runs/{id}/items).")
	}
	for _, id := range ids {
		if !validUUID(id) {
			return nil, casefile.Errorf(casefile.EUnprocessable, "unknown_item", "item_ids names %q, which is not an item of this run.", id)
		}
	}
	if _, err := db.ExpireRuns(ctx); err != nil {
		return nil, err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockAwaiting(ctx, tx, runID); err != nil {
			return err
		}
		var persons, missing []string
		if err := tx.QueryRow(ctx, `SELECT
				coalesce((SELECT array_agg(DISTINCT i.person_id::text) FROM retention_run_items i WHERE i.run_id = $1 AND i.item_id = ANY($2::uuid[])), '{}'),
				coalesce((SELECT array_agg(x::text) FROM unnest($2::uuid[]) x WHERE NOT EXISTS (
					SELECT 1 FROM retention_run_items i WHERE i.run_id = $1 AND i.item_id = x)), '{}')`, runID, ids).Scan(&persons, &missing); err != nil {
			return err
		}
		if len(missing) > 0 {
			return casefile.Errorf(casefile.EUnprocessable, "unknown_item", "This run has no item %s; list its items with GET /v1/retention/runs/%s/items.",
				strings.Join(missing, ", "), runID)
		}
		for _, pid := range persons {
			if _, err := tx.Exec(ctx, `INSERT INTO retention_exclusions (id, run_id, person_id, reason, review_on, excluded_by, excluded_by_id)
				VALUES ($1,$2,$3,$4,$5,$6,$7)`, newID(), runID, pid, strings.TrimSpace(x.Reason), x.ReviewOn, actor.String(), actor.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'review',
				why = 'excluded from this disposal list by a records officer; for review on ' || $3::date
			WHERE run_id = $1 AND person_id = ANY($2::uuid[]) AND state = 'due'`, runID, persons, x.ReviewOn); err != nil {
			return err
		}
		if _, err := recount(ctx, tx, runID); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.exclude", TargetType: "retention_run", TargetID: runID,
			Details: typedText(map[string]any{"persons": len(persons), "review_on": x.ReviewOn}, "reason", strings.TrimSpace(x.Reason))}); err != nil {
			return err
		}
		for _, pid := range persons {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.exclude", TargetType: "person", TargetID: pid, PersonID: pid,
				Details: map[string]any{"run_id": runID, "review_on": x.ReviewOn}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.RetentionRun(ctx, runID)
}

// ApproveRun records the actor's approval of a run's disposal list.
func (db *DB) ApproveRun(ctx context.Context, runID string) (*casefile.RetentionRun, error) {
	if !validUUID(runID) {
		return nil, notFound("Retention run")
	}
	actor := casefile.ActorFrom(ctx)
	if !canApprove(actor) {
		return nil, casefile.Errorf(casefile.EForbidden, "system_cannot_approve",
			"A disposal list is approved by a records officer known by id (a signed-in user or a token), never by the system.")
	}
	if _, err := db.ExpireRuns(ctx); err != nil {
		return nil, err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		required, err := lockAwaiting(ctx, tx, runID)
		if err != nil {
			return err
		}
		return db.recordApproval(ctx, tx, runID, actor, required)
	})
	if err != nil {
		return nil, err
	}
	return db.RetentionRun(ctx, runID)
}

// RejectRun closes a run awaiting approval; nothing on its list is
// destroyed, and the next run lists what is due afresh.
func (db *DB) RejectRun(ctx context.Context, runID, reason string) (*casefile.RetentionRun, error) {
	if !validUUID(runID) {
		return nil, notFound("Retention run")
	}
	actor := casefile.ActorFrom(ctx)
	if !canApprove(actor) {
		return nil, casefile.Errorf(casefile.EForbidden, "system_cannot_decide", "Only a records officer, known by id, can reject a disposal list.")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_reason", "Say why the disposal list is rejected (reason).")
	}
	if _, err := db.ExpireRuns(ctx); err != nil {
		return nil, err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockAwaiting(ctx, tx, runID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_runs SET state = 'rejected', finished_at = now(), rejected_by = $2, reject_reason = $3
			WHERE id = $1`, runID, actor.String(), reason); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.reject", TargetType: "retention_run", TargetID: runID,
			Details: typedText(map[string]any{"rejected_by_id": actor.ID}, "reason", reason)})
	})
	if err != nil {
		return nil, err
	}
	return db.RetentionRun(ctx, runID)
}
