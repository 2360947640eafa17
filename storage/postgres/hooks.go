package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// SetRetentionPolicy installs the policy that computes retention positions.
// Without one, positions are not kept (tests of unrelated parts).
func (db *DB) SetRetentionPolicy(p casefile.RetentionPolicy) { db.policy = p }

// SetDisposal installs the disposal approval settings (the default is
// casefile.DefaultDisposal).
func (db *DB) SetDisposal(s casefile.DisposalSettings) { db.disposal = s }

// Disposal returns the disposal approval settings in force.
func (db *DB) Disposal() casefile.DisposalSettings { return db.disposal }

// How a reassessment came about.
const (
	assessInput    = iota // the person was created, or an input was written
	assessChanged         // a date or involvement changed: the settle clock starts
	assessSchedule        // the nightly reassessment (the schedule may have changed)
)

// onRetentionInput recomputes a person's retention position inside the
// transaction that changed one of its inputs.
func (db *DB) onRetentionInput(ctx context.Context, tx pgx.Tx, personID string) error {
	return db.assess(ctx, tx, personID, assessInput)
}

// onRetentionChange recomputes the position after a date of birth or death
// or an involvement changed, and starts the settle clock: for
// CASEFILE_RETENTION_SETTLE_DAYS the record is held for review, not listed
// for disposal, so that a wrong date cannot destroy a record before anyone
// notices.
func (db *DB) onRetentionChange(ctx context.Context, tx pgx.Tx, personID string) error {
	return db.assess(ctx, tx, personID, assessChanged)
}

func (db *DB) assess(ctx context.Context, tx pgx.Tx, personID string, how int) error {
	if db.policy == nil {
		return nil
	}
	p, err := db.personTx(ctx, tx, personID)
	if err != nil {
		return err
	}
	if p.Status != "active" {
		// Destroyed: the position that led to it stays as the residual record.
		return nil
	}
	r := db.policy.Assess(p)
	if r.Action == "" {
		r.Action = "destroy"
	}
	// schedule_changed_at: a reassessment with unchanged inputs that moves
	// the date earlier (or gives one where there was none) is a schedule
	// change; such records are held for review for the settle period.
	_, err = tx.Exec(ctx, `INSERT INTO person_retention AS pr (person_id, record_class, trigger, trigger_date, disposal_due_on, open,
			reason, action, computed_at, inputs_changed_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8, now(), CASE WHEN $9 = 1 THEN now() END)
		ON CONFLICT (person_id) DO UPDATE SET record_class = $2, trigger = $3, trigger_date = $4, disposal_due_on = $5,
			open = $6, reason = $7, action = $8, computed_at = now(),
			inputs_changed_at = CASE WHEN $9 = 1 THEN now() ELSE pr.inputs_changed_at END,
			schedule_changed_at = CASE WHEN $9 = 2 AND $5::date IS NOT NULL
				AND (pr.disposal_due_on IS NULL OR $5::date < pr.disposal_due_on) THEN now() ELSE pr.schedule_changed_at END`,
		personID, r.RecordClass, r.Trigger, r.TriggerDate, r.DisposalDueOn, r.Open, r.Reason, r.Action, how)
	return err
}
