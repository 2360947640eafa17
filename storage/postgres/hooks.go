package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// SetRetentionPolicy installs the policy that computes retention positions.
// Without one, positions are not kept (tests of unrelated parts).
func (db *DB) SetRetentionPolicy(p casefile.RetentionPolicy) { db.policy = p }

// onRetentionInput recomputes a person's retention position inside the
// transaction that changed one of its inputs.
func (db *DB) onRetentionInput(ctx context.Context, tx pgx.Tx, personID string) error {
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
	_, err = tx.Exec(ctx, `INSERT INTO person_retention (person_id, record_class, trigger, trigger_date, disposal_due_on, open, reason, computed_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7, now())
		ON CONFLICT (person_id) DO UPDATE SET record_class = $2, trigger = $3, trigger_date = $4, disposal_due_on = $5,
			open = $6, reason = $7, computed_at = now()`,
		personID, r.RecordClass, r.Trigger, r.TriggerDate, r.DisposalDueOn, r.Open, r.Reason)
	return err
}
