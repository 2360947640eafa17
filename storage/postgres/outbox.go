package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.Outbox = (*DB)(nil)

// enqueueTx writes an outbox row inside tx: the work is acknowledged exactly
// when the change that needs it commits.
func enqueueTx(ctx context.Context, tx pgx.Tx, taskType, taskID string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (task_type, task_id, payload) VALUES ($1,$2,$3)
		ON CONFLICT (task_id) DO NOTHING`, taskType, taskID, b)
	return err
}

// RelayOutbox sends pending items, locking them so that two relays never
// send the same item at once. An item whose send fails stays pending.
func (db *DB) RelayOutbox(ctx context.Context, limit int, send func(*casefile.OutboxItem) error) (int, error) {
	sent := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, task_type, task_id, payload FROM outbox
			WHERE enqueued_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return err
		}
		items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.OutboxItem, error) {
			var it casefile.OutboxItem
			err := r.Scan(&it.ID, &it.TaskType, &it.TaskID, &it.Payload)
			return &it, err
		})
		if err != nil {
			return err
		}
		// What was sent is marked in one statement at the end, with the
		// attempt that failed if one did: one round trip, however many items.
		var b pgx.Batch
		ids := make([]int64, 0, len(items))
		for _, it := range items {
			if err := send(it); err != nil {
				b.Queue("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1", it.ID, err.Error())
				break // the queue is down: stop here, keep order, try again later
			}
			ids = append(ids, it.ID)
		}
		if len(ids) > 0 {
			b.Queue("UPDATE outbox SET enqueued_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1)", ids)
		}
		if b.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		sent = len(ids)
		return nil
	})
	return sent, err
}

// PendingOutbox counts items not yet handed to the queue.
func (db *DB) PendingOutbox(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE enqueued_at IS NULL").Scan(&n)
	return n, mapError(err)
}
