package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// typedText is what the append-only log keeps of text a person typed (a
// ticket's reason, a rejection's, a hold's): its sha256 and its length in
// characters, under name_sha256 and name_chars. The text itself stays on its
// row (ticket, hold), where it is destroyed with the record; the log, which
// is never changed, would otherwise keep it for ever. The digest shows that
// the row's text is the one given at the time.
func typedText(details map[string]any, name, text string) map[string]any {
	if details == nil {
		details = map[string]any{}
	}
	sum := sha256.Sum256([]byte(text))
	details[name+"_sha256"] = hex.EncodeToString(sum[:])
	details[name+"_chars"] = utf8.RuneCountInString(text)
	return details
}

// purgeTimeout bounds one purge of dead row versions.
const purgeTimeout = 15 * time.Minute

// purgeLockKey serialises purges across processes: two REINDEX CONCURRENTLY
// of one index at once would fail.
const purgeLockKey = 0x70757267 // "purg"

// purgeDead makes PostgreSQL let go of content that a committed removal or
// destruction cleared: an UPDATE leaves the old row version (and its TOAST
// chunks and index entries) on disk until VACUUM removes it, and a GIN index
// (full-text search) keeps the words of removed rows as keys until it is
// rebuilt. It VACUUMs the tables and, when reindex is set, rebuilds their
// GIN indexes concurrently (reads and writes go on meanwhile). VACUUM cannot
// run in a transaction: call it after the commit. It is best-effort: a
// failure is logged, never returned, since the content is already
// unreadable through the service; the next purge catches up. Old row
// versions still visible to a transaction open at the time are not removed
// by this VACUUM but by the next.
func (db *DB) purgeDead(ctx context.Context, reindex bool, tables ...string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
	defer cancel()
	start := time.Now()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		db.log.Warn("purge of removed content: no connection; the next removal or destruction purges it", "tables", tables, "err", err)
		return
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", purgeLockKey); err != nil {
		db.log.Warn("purge of removed content: lock", "err", err)
		return
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", purgeLockKey) //nolint:errcheck // the session ends with the conn anyway
	for _, t := range tables {
		if _, err := conn.Exec(ctx, "VACUUM "+pgx.Identifier{t}.Sanitize()); err != nil {
			db.log.Warn("purge of removed content: VACUUM failed", "table", t, "err", err)
			continue
		}
		if !reindex {
			continue
		}
		rows, err := conn.Query(ctx, `SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = $1::regclass AND a.amname = 'gin'`, t)
		if err != nil {
			db.log.Warn("purge of removed content: listing indexes failed", "table", t, "err", err)
			continue
		}
		idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			db.log.Warn("purge of removed content: listing indexes failed", "table", t, "err", err)
			continue
		}
		for _, ix := range idx {
			if _, err := conn.Exec(ctx, "REINDEX INDEX CONCURRENTLY "+ix); err != nil {
				db.log.Warn("purge of removed content: REINDEX failed", "index", ix, "err", err)
			}
		}
	}
	db.log.Info("purged removed content from PostgreSQL", "tables", tables, "reindexed", reindex, "duration", time.Since(start))
}
