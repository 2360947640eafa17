package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

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
				if err := db.assess(ctx, tx, id, assessSchedule); err != nil {
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
// holds in force, and returns how many changed. An object filed on several
// records (a sibling link) is held while a hold covers any of them, so every
// row that names it wants the same.
func (db *DB) SyncHoldIntent(ctx context.Context) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE documents d SET legal_hold = x.want
		FROM (SELECT d.id, (`+heldBy("d.person_id")+` IS NOT NULL OR EXISTS (SELECT 1 FROM documents o
			WHERE o.object_key = d.object_key AND o.id <> d.id AND o.status = 'active' AND `+heldBy("o.person_id")+` IS NOT NULL)) AS want
			FROM documents d WHERE d.status = 'active') x
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

// retainWantSQL is the retain-until the person's position (pr) wants for
// their documents' objects: the disposal date when it is known and no
// involvement is open, otherwise a rolling year ahead of today ($1, $4).
const retainWantSQL = `CASE WHEN %[1]s.disposal_due_on IS NULL OR %[1]s.open THEN $1::date + $4::int ELSE %[1]s.disposal_due_on END`

// PendingRetainUntil lists active documents after the id after whose Object
// Lock retain-until must move later: to the disposal date when it is known
// (and no involvement is open), otherwise a rolling year ahead of today.
// An object filed on several records (a sibling link) keeps the latest date
// any of its active documents wants. Dates never move earlier here:
// destruction bypasses governance anyway.
func (db *DB) PendingRetainUntil(ctx context.Context, today casefile.Date, after string, limit int) ([]casefile.LockChange, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := db.pool.Query(ctx, `SELECT d.id::text, d.object_key, w.want FROM documents d
		LEFT JOIN person_retention pr ON pr.person_id = d.person_id
		CROSS JOIN LATERAL (SELECT max(`+fmt.Sprintf(retainWantSQL, "opr")+`) AS want FROM documents o
			LEFT JOIN person_retention opr ON opr.person_id = o.person_id
			WHERE o.object_key = d.object_key AND o.id <> d.id AND o.status = 'active') s
		CROSS JOIN LATERAL (SELECT greatest(`+fmt.Sprintf(retainWantSQL, "pr")+`, s.want) AS want) w
		WHERE d.status = 'active' AND d.id > $2::uuid AND w.want > $1::date AND (d.retain_until IS NULL
			OR d.retain_until < CASE WHEN w.want = $1::date + $4::int THEN $1::date + $5::int ELSE w.want END)
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
