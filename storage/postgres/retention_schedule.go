package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// CurrentSchedule returns the sha256 of the schedule the service last
// started with, or "" if none is recorded.
func (db *DB) CurrentSchedule(ctx context.Context) (string, error) {
	var sha string
	err := db.pool.QueryRow(ctx, "SELECT sha256 FROM retention_schedules ORDER BY seq DESC LIMIT 1").Scan(&sha)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return sha, mapError(err)
}

// RecordSchedule records that the service starts with the schedule sha.
func (db *DB) RecordSchedule(ctx context.Context, sha string, persons, newlyDue int, confirmed bool) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO retention_schedules (sha256, persons, newly_due, confirmed) VALUES ($1,$2,$3,$4)`,
			sha, persons, newlyDue, confirmed); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Actor: "system:retention", Action: "retention.schedule.change",
			TargetType: "retention_schedule", TargetID: sha,
			Details: map[string]any{"persons": persons, "newly_due": newlyDue, "confirmed": confirmed}})
	})
}

// CountNewlyDue assesses every active person under policy without storing
// anything, and counts those who would be due for destruction on today
// although their stored position does not make them so. It returns the
// number of active persons and that count.
func (db *DB) CountNewlyDue(ctx context.Context, policy casefile.RetentionPolicy, today casefile.Date) (persons, newlyDue int, err error) {
	after := "00000000-0000-0000-0000-000000000000"
	for {
		var batch []*casefile.Person
		was := map[string]bool{}
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, "SELECT "+personColumns+` FROM persons WHERE status = 'active' AND id > $1 ORDER BY id LIMIT 1000`, after)
			if err != nil {
				return err
			}
			if batch, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) }); err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			ids := make([]string, len(batch))
			byID := map[string]*casefile.Person{}
			for i, p := range batch {
				ids[i], byID[p.ID] = p.ID, p
			}
			rows, err = tx.Query(ctx, `SELECT id, person_id, kind, started_on, ended_on, coalesce(outcome, ''), created_at
				FROM involvements WHERE person_id = ANY($1) ORDER BY started_on, id`, ids)
			if err != nil {
				return err
			}
			invs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Involvement, error) { return scanInvolvement(r) })
			if err != nil {
				return err
			}
			for _, inv := range invs {
				byID[inv.PersonID].Involvements = append(byID[inv.PersonID].Involvements, inv)
			}
			rows, err = tx.Query(ctx, `SELECT person_id::text FROM person_retention WHERE person_id = ANY($1)
				AND disposal_due_on <= $2 AND NOT open AND action = 'destroy'`, ids, today)
			if err != nil {
				return err
			}
			due, err := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, id := range due {
				was[id] = true
			}
			return err
		})
		if err != nil {
			return persons, newlyDue, err
		}
		if len(batch) == 0 {
			return persons, newlyDue, nil
		}
		for _, p := range batch {
			r := policy.Assess(p)
			if r.DisposalDueOn != nil && !r.Open && r.Action != "review" && !today.Before(*r.DisposalDueOn) && !was[p.ID] {
				newlyDue++
			}
		}
		persons += len(batch)
		after = batch[len(batch)-1].ID
	}
}
