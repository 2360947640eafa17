package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// standingJoin joins the review decision standing on each person_retention
// row pr (their newest, if any) as dec.
const standingJoin = " LEFT JOIN retention_review_standing dec ON dec.person_id = pr.person_id"

// standingColumns are pr's retention inputs as the decision standing on it
// leaves them, as of the date asOf (an SQL expression). A return sends the
// record to the next disposal list: its class counts as destroy, changes
// made before the return no longer hold it for settling, and exclusions
// made before it no longer keep it. A keep keeps it until its date. Open
// involvements and holds are not decisions: they keep the record whatever
// was decided.
func standingColumns(asOf string) string {
	return `CASE WHEN dec.decision = 'return' THEN 'destroy' ELSE pr.action END AS eff_action,
		CASE WHEN dec.decision = 'return' AND pr.inputs_changed_at <= dec.decided_at THEN NULL ELSE pr.inputs_changed_at END AS eff_inputs_changed_at,
		CASE WHEN dec.decision = 'return' AND pr.schedule_changed_at <= dec.decided_at THEN NULL ELSE pr.schedule_changed_at END AS eff_schedule_changed_at,
		(SELECT max(x.review_on) FROM retention_exclusions x WHERE x.person_id = pr.person_id AND x.review_on > ` + asOf + `
			AND (dec.decision IS DISTINCT FROM 'return' OR x.created_at > dec.decided_at)) AS excluded_until,
		CASE WHEN dec.decision = 'keep' AND dec.keep_until > ` + asOf + ` THEN dec.keep_until END AS kept_until,
		coalesce(dec.decided_by, '') AS decided_by`
}

// keptSQL says why a due item of the person in c.pid must not be destroyed
// now: a records officer decided to keep it (the standing decision is keep,
// until a later date). NULL otherwise.
const keptSQL = `(SELECT 'kept by a records officer until ' || s.keep_until FROM retention_review_standing s
	WHERE s.person_id = c.pid AND s.decision = 'keep' AND s.keep_until > current_date)`

// returnedSQL is true when the decision standing on the person in c.pid is
// a return to the disposal lists.
const returnedSQL = `EXISTS (SELECT 1 FROM retention_review_standing s WHERE s.person_id = c.pid AND s.decision = 'return')`

// DecideReview records a records officer's decision on a record past its
// date: keep it until d.Until, or return it to the next disposal list.
func (db *DB) DecideReview(ctx context.Context, d *casefile.ReviewDecision) error {
	if !validUUID(d.PersonID) {
		return notFound("Person")
	}
	d.PersonID = strings.ToLower(d.PersonID)
	actor := casefile.ActorFrom(ctx)
	if !canApprove(actor) {
		return casefile.Errorf(casefile.EForbidden, "system_cannot_decide", "Only a records officer, known by id, can decide on a record in the review queue.")
	}
	d.Reason = strings.TrimSpace(d.Reason)
	today := casefile.DateOf(db.now().UTC())
	switch d.Decision {
	case casefile.DecisionKeep:
		if d.Until == nil || !d.Until.After(today) {
			return casefile.Errorf(casefile.EUnprocessable, "keep_until_past", "until must be a date after today: the day the record comes back for review.")
		}
		if d.Reason == "" {
			return casefile.Errorf(casefile.EUnprocessable, "missing_reason", "Say why the record is kept (reason).")
		}
	case casefile.DecisionReturn:
		d.Until = nil
	default:
		return casefile.Errorf(casefile.EInvalid, "invalid_decision", "A decision is keep or return.")
	}
	d.ID, d.DecidedBy, d.DecidedByID = newID(), actor.String(), actor.ID
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		var due *casefile.Date
		var open bool
		var held *string
		err := tx.QueryRow(ctx, `SELECT p.status, pr.disposal_due_on, coalesce(pr.open, false), `+heldBy("p.id")+`
			FROM persons p LEFT JOIN person_retention pr ON pr.person_id = p.id WHERE p.id = $1 FOR UPDATE OF p`, d.PersonID).
			Scan(&status, &due, &open, &held)
		switch {
		case err == pgx.ErrNoRows:
			return notFound("Person")
		case err != nil:
			return err
		case status != casefile.StatusActive:
			return casefile.Errorf(casefile.EConflict, "record_destroyed", "This record has been destroyed; there is nothing left to decide.")
		case due == nil || due.After(today):
			return casefile.Errorf(casefile.EConflict, "not_past_its_date",
				"This record is not past its disposal date, so it is not for review; decide when it is in the review queue.")
		case d.Decision == casefile.DecisionReturn && held != nil:
			return casefile.Errorf(casefile.EConflict, "under_hold",
				"This record is under the hold %q; nothing under a hold is destroyed. Release the hold first if it no longer applies.", *held)
		case d.Decision == casefile.DecisionReturn && open:
			return casefile.Errorf(casefile.EConflict, "open_involvement",
				"An involvement on this record is still open; nothing is destroyed until it is closed. Close it first if it has ended.")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO retention_review_decisions (id, person_id, decision, keep_until, reason, decided_by, decided_by_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING decided_at`, d.ID, d.PersonID, d.Decision, d.Until, d.Reason, d.DecidedBy, d.DecidedByID).
			Scan(&d.DecidedAt); err != nil {
			return err
		}
		d.DecidedAt = d.DecidedAt.UTC()
		details := typedText(map[string]any{"decision_id": d.ID, "decided_by_id": d.DecidedByID}, "reason", d.Reason)
		if d.Until != nil {
			details["until"] = *d.Until
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.review." + d.Decision, TargetType: "person", TargetID: d.PersonID,
			PersonID: d.PersonID, Details: details})
	})
}

// ReviewQueue lists active records past their disposal date that are kept,
// with every reason that keeps them, in person id order. Each listed
// person's position is a read of their record, and is audited.
func (db *DB) ReviewQueue(ctx context.Context, p casefile.Page) ([]*casefile.ReviewEntry, string, error) {
	limit := clampLimit(p.Limit)
	after := "00000000-0000-0000-0000-000000000000"
	if p.Cursor != "" {
		if !validUUID(p.Cursor) {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		after = p.Cursor
	}
	today := casefile.DateOf(db.now().UTC())
	settle := max(db.disposal.SettleDays, 0)
	out := []*casefile.ReviewEntry{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT person_id, record_class, trigger_date, disposal_due_on, open, review_class, held_by,
				excluded_until, changed_on, schedule_changed_on, kept_until, decided_by FROM (
				SELECT person_id, record_class, trigger_date, disposal_due_on, open, eff_action = 'review' AS review_class, held_by,
					excluded_until, kept_until, decided_by,
					CASE WHEN (eff_inputs_changed_at AT TIME ZONE 'UTC')::date > $1::date - $2::int
						THEN (eff_inputs_changed_at AT TIME ZONE 'UTC')::date END AS changed_on,
					CASE WHEN (eff_schedule_changed_at AT TIME ZONE 'UTC')::date > $1::date - $2::int
						THEN (eff_schedule_changed_at AT TIME ZONE 'UTC')::date END AS schedule_changed_on
				FROM (SELECT pr.person_id::text AS person_id, pr.record_class, pr.trigger_date, pr.disposal_due_on, pr.open,
					coalesce(`+heldBy("pr.person_id")+`, '') AS held_by, `+standingColumns("$1")+`
				FROM person_retention pr JOIN persons p ON p.id = pr.person_id AND p.status = 'active'`+standingJoin+`
				WHERE pr.disposal_due_on IS NOT NULL AND pr.disposal_due_on <= $1 AND pr.person_id > $3::uuid) s) q
			WHERE open OR review_class OR held_by <> '' OR excluded_until IS NOT NULL OR kept_until IS NOT NULL
				OR changed_on IS NOT NULL OR schedule_changed_on IS NOT NULL
			ORDER BY person_id LIMIT $4`, today, settle, after, limit+1)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e casefile.ReviewEntry
			var trig, due casefile.Date
			var open, reviewClass bool
			var held, decidedBy string
			var excluded, changed, schedChanged, kept *casefile.Date
			if err := rows.Scan(&e.PersonID, &e.RecordClass, &trig, &due, &open, &reviewClass, &held, &excluded, &changed, &schedChanged,
				&kept, &decidedBy); err != nil {
				rows.Close()
				return err
			}
			if !trig.IsZero() {
				e.TriggerDate = &trig
			}
			e.DisposalDueOn = &due
			add := func(code, detail string, until *casefile.Date) {
				e.Reasons = append(e.Reasons, &casefile.ReviewReason{Code: code, Detail: detail, Until: until})
			}
			if open {
				add(casefile.ReviewOpenInvolvement, "an involvement is still open; nothing is destroyed until it is closed", nil)
			}
			if held != "" {
				add(casefile.ReviewHold, "under hold: "+held, nil)
			}
			if kept != nil {
				add(casefile.ReviewKept, "kept by a records officer ("+decidedBy+")", kept)
			}
			if reviewClass {
				add(casefile.ReviewClass, "the schedule says review for "+e.RecordClass+": a records officer decides; a run never destroys it", nil)
			}
			if excluded != nil {
				add(casefile.ReviewExclusion, "excluded from a disposal list by a records officer", excluded)
			}
			if changed != nil {
				until := changed.AddDays(settle)
				add(casefile.ReviewSettlePeriod, "dates or involvements changed on "+changed.String()+"; held until the settle period ends", &until)
			}
			if schedChanged != nil {
				until := schedChanged.AddDays(settle)
				add(casefile.ReviewScheduleChanged, "a new retention schedule brought its date forward on "+schedChanged.String(), &until)
			}
			out = append(out, &e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range out[:min(len(out), limit)] {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.read", TargetType: "person", TargetID: e.PersonID,
				PersonID: e.PersonID, Details: map[string]string{"via": "review_queue"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].PersonID
	}
	return out, next, nil
}

// Runs lists retention runs, newest first.
func (db *DB) Runs(ctx context.Context, f casefile.RunFilter) ([]*casefile.RetentionRun, string, error) {
	limit := clampLimit(f.Limit)
	if _, err := db.ExpireRuns(ctx); err != nil {
		return nil, "", err
	}
	before := "ffffffff-ffff-ffff-ffff-ffffffffffff"
	if f.Cursor != "" {
		if !validUUID(f.Cursor) {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		before = f.Cursor
	}
	rows, err := db.pool.Query(ctx, "SELECT "+runColumns+` FROM retention_runs WHERE ($1 = '' OR state = $1)
		AND (requested_at, id) < (coalesce((SELECT requested_at FROM retention_runs WHERE id = $2::uuid), 'infinity'), $2::uuid)
		ORDER BY requested_at DESC, id DESC LIMIT $3`, f.State, before, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RetentionRun, error) { return scanRun(r) })
	if err != nil {
		return nil, "", mapError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	for _, r := range out {
		r.Certificate = nil // a list says what runs there were; the certificate is read run by run, audited
		if r.Approvals, err = runApprovals(ctx, db.pool, r.ID); err != nil {
			return nil, "", mapError(err)
		}
	}
	return out, next, nil
}
