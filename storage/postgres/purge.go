package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
// rebuilt. It records the need (maintenance_pending), then VACUUMs the
// tables and, when reindex is set, rebuilds their GIN indexes concurrently
// (reads and writes go on meanwhile), and clears what it did. Only a table's
// owner (or a superuser) may do that on PostgreSQL 15 and before: the
// service's own role owns nothing, so it leaves the need recorded for
// `casefile maintain`, which connects as the owner (Maintain). VACUUM cannot
// run in a transaction: call it after the commit. It is best-effort: a
// failure is logged, never returned, since the content is already
// unreadable through the service; the next purge or maintenance catches up.
// Old row versions still visible to a transaction open at the time are not
// removed by this VACUUM but by the next.
func (db *DB) purgeDead(ctx context.Context, reindex bool, tables ...string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `INSERT INTO maintenance_pending (table_name, reindex) SELECT t, $2 FROM unnest($1::text[]) t
		ON CONFLICT (table_name) DO UPDATE SET reindex = maintenance_pending.reindex OR excluded.reindex, requested_at = now()`,
		tables, reindex); err != nil {
		db.log.Warn("purge of removed content: could not record it for maintenance", "tables", tables, "err", err)
	}
	mine, err := db.maintainable(ctx, tables)
	if err != nil {
		db.log.Warn("purge of removed content: privileges", "tables", tables, "err", err)
		return
	}
	if len(mine) < len(tables) {
		db.log.Info("purge of removed content left to casefile maintain: the service's role does not own the tables", "tables", tables)
	}
	if len(mine) == 0 {
		return
	}
	if _, err := db.maintain(ctx, mine); err != nil {
		db.log.Warn("purge of removed content", "tables", mine, "err", err)
	}
}

// maintainable returns which of tables the connected role may VACUUM and
// REINDEX: their owner's members, a superuser, and on PostgreSQL 17 those
// granted MAINTAIN (pg_maintain).
func (db *DB) maintainable(ctx context.Context, tables []string) ([]string, error) {
	var version int
	if err := db.pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return nil, err
	}
	q := `SELECT t FROM unnest($1::text[]) t JOIN pg_class c ON c.oid = t::regclass
		WHERE pg_has_role(current_user, c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`
	if version >= 170000 {
		q += ` OR has_table_privilege(c.oid, 'MAINTAIN')`
	}
	rows, err := db.pool.Query(ctx, q, tables)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Maintain does, as the tables' owner, the purges the service recorded and
// could not do itself (maintenance_pending): VACUUM, and REINDEX of the
// search indexes where asked. Connect it with the migration URL
// (CASEFILE_MIGRATE_DATABASE_URL). It returns the tables it did.
func (db *DB) Maintain(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, "SELECT table_name FROM maintenance_pending WHERE to_regclass(table_name) IS NOT NULL ORDER BY table_name")
	if err != nil {
		return nil, mapError(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		return nil, mapError(err)
	}
	mine, err := db.maintainable(ctx, tables)
	if err != nil {
		return nil, mapError(err)
	}
	if len(mine) < len(tables) {
		return nil, fmt.Errorf("maintenance needs the tables' owner (or a superuser): connect with CASEFILE_MIGRATE_DATABASE_URL")
	}
	return db.maintain(ctx, tables)
}

// maintain vacuums tables (and rebuilds the GIN indexes of those whose
// pending row asks for it, or all when none is recorded), under the purge
// lock, and clears the pending rows recorded before it began.
func (db *DB) maintain(ctx context.Context, tables []string) ([]string, error) {
	start := time.Now()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", purgeLockKey); err != nil {
		return nil, mapError(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", purgeLockKey) //nolint:errcheck // the session ends with the conn anyway
	type want struct {
		reindex bool
		at      time.Time
	}
	wants := map[string]want{}
	rows, err := conn.Query(ctx, "SELECT table_name, reindex, requested_at FROM maintenance_pending WHERE table_name = ANY($1)", tables)
	if err != nil {
		return nil, mapError(err)
	}
	for rows.Next() {
		var t string
		var w want
		if err := rows.Scan(&t, &w.reindex, &w.at); err != nil {
			rows.Close()
			return nil, mapError(err)
		}
		wants[t] = w
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	var done []string
	var errs []error
	for _, t := range tables {
		if err := vacuum(ctx, conn, t, wants[t].reindex); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			continue
		}
		if w, ok := wants[t]; ok {
			if _, err := conn.Exec(ctx, "DELETE FROM maintenance_pending WHERE table_name = $1 AND requested_at <= $2", t, w.at); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", t, err))
				continue
			}
		}
		done = append(done, t)
	}
	db.log.Info("purged removed content from PostgreSQL", "tables", done, "duration", time.Since(start))
	return done, errors.Join(errs...)
}

// vacuum VACUUMs one table and, with reindex, rebuilds its GIN indexes
// concurrently.
func vacuum(ctx context.Context, conn *pgxpool.Conn, table string, reindex bool) error {
	if _, err := conn.Exec(ctx, "VACUUM "+pgx.Identifier{table}.Sanitize()); err != nil {
		return err
	}
	if !reindex {
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = $1::regclass AND a.amname = 'gin'`, table)
	if err != nil {
		return err
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, ix := range idx {
		if _, err := conn.Exec(ctx, "REINDEX INDEX CONCURRENTLY "+ix); err != nil {
			return err
		}
	}
	return nil
}
