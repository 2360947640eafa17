package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/council/casefile"
)

// An access check left to the storage (casefile.AccessCheck) is made by the
// first transaction or read of the request: a read sends it in the same
// round trip as its first statement, and the check refuses with an error
// (casefile_require_visible, migration 0095) so that the statements after it
// are skipped by PostgreSQL and nothing of a refused record is read.

// checkSQL is the rule of visibleSQL for one person, refusing with SQLSTATE
// CF403 when the actor may not see the record.
var checkSQL = "SELECT casefile_require_visible(bool_and(v.ok)) FROM (" + visibleOneSQL + ") AS v(id, ok)"

// refusalCode is the SQLSTATE of casefile_require_visible's refusal.
const refusalCode = "CF403"

// readCheck is an access check still to make: the person and checkSQL's
// arguments.
type readCheck struct {
	person string
	args   []any
}

// accessCheck takes the check ctx carries, if any is still to make; nil when
// there is none or it cannot refuse (work of the service itself, or an id
// that names no record, which the read then answers as not found).
func (db *DB) accessCheck(ctx context.Context) *readCheck {
	c := casefile.TakeAccessCheck(ctx)
	if c == nil {
		return nil
	}
	a := casefile.ActorFrom(ctx)
	if unrestricted(a) || !validUUID(c.PersonID) {
		return nil
	}
	actorID, teams := actorArgs(a)
	return &readCheck{person: c.PersonID, args: []any{c.PersonID, actorID, teams, db.now()}}
}

func isRefusal(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == refusalCode
}

// checkInTx makes the check ctx carries, if any, as the first statement of
// a transaction; the caller rolls back and audits the refusal (afterRestricted).
func (db *DB) checkInTx(ctx context.Context, tx pgx.Tx) (refused string, err error) {
	chk := db.accessCheck(ctx)
	if chk == nil {
		return "", nil
	}
	if _, err := tx.Exec(ctx, checkSQL, chk.args...); err != nil {
		if isRefusal(err) {
			return chk.person, errRestrictedTx
		}
		return "", err
	}
	return "", nil
}

// checkedRow is the pool's QueryRow, sent after the access check ctx
// carries (if one is still to make) in the same round trip: the upload's
// first statement makes the check that its route left to the storage. A
// refusal is the check's error (isRefusal), which the caller audits with
// denied, as CanAccessPerson does.
func (db *DB) checkedRow(ctx context.Context, sql string, args ...any) pgx.Row {
	chk := db.accessCheck(ctx)
	if chk == nil {
		return db.pool.QueryRow(ctx, sql, args...)
	}
	rows, _, err := queryAfterCheck(ctx, db.pool, chk, sql, args)
	return firstRow{rows, err}
}

// queryAfterCheck sends the access check chk and then sql on q in one round
// trip; refused says the error is the check's.
func queryAfterCheck(ctx context.Context, q batchSender, chk *readCheck, sql string, args []any) (_ pgx.Rows, refused bool, _ error) {
	var b pgx.Batch
	b.Queue(checkSQL, chk.args...)
	b.Queue(sql, args...)
	br := q.SendBatch(ctx, &b)
	if _, err := br.Exec(); err != nil {
		br.Close() //nolint:errcheck // the check's error is the one to return
		return nil, true, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close() //nolint:errcheck
		return nil, false, err
	}
	return &batchRows{Rows: rows, br: br}, false, nil
}

// refusedRead audits the refusal of a read (by the reads' group commit) and
// returns it; if the refusal cannot be kept, the error says so instead.
func (db *DB) refusedRead(ctx context.Context, personID string) error {
	a := casefile.ActorFrom(ctx)
	err := db.recordReads(ctx, []auditEntry{{Actor: a.String(), ActorID: a.ID, Action: "access.denied",
		TargetType: "person", TargetID: personID, PersonID: personID}})
	if err != nil {
		return err
	}
	return casefile.ErrRestricted()
}

// connTx is a pooled connection dressed as a transaction for readTx: its
// statements run outside any transaction, and Commit and Rollback do
// nothing; Begin starts a real transaction, and LargeObjects is not
// available. While an access check is still to make, the first Query,
// QueryRow or SendBatch sends it in the same round trip (other statements
// send it alone first); once refused, every statement is refused.
type connTx struct {
	c     *pgxpool.Conn
	check *readCheck
	// refused is the person whose record the check refused.
	refused string
}

var _ pgx.Tx = (*connTx)(nil)

// checkAlone makes the check still to make in a round trip of its own.
func (t *connTx) checkAlone(ctx context.Context) error {
	chk := t.check
	t.check = nil
	_, err := t.c.Exec(ctx, checkSQL, chk.args...)
	return t.checked(chk, err)
}

// checked notes what the check's statement said.
func (t *connTx) checked(chk *readCheck, err error) error {
	if isRefusal(err) {
		t.refused = chk.person
		return errRestrictedTx
	}
	return err
}

// ready makes sure the check is made and did not refuse, before a statement
// that cannot carry it.
func (t *connTx) ready(ctx context.Context) error {
	if t.refused != "" {
		return errRestrictedTx
	}
	if t.check != nil {
		return t.checkAlone(ctx)
	}
	return nil
}

func (t *connTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.refused != "" {
		return nil, errRestrictedTx
	}
	if t.check == nil {
		return t.c.Query(ctx, sql, args...)
	}
	chk := t.check
	t.check = nil
	rows, refused, err := queryAfterCheck(ctx, t.c, chk, sql, args)
	if refused {
		return nil, t.checked(chk, err)
	}
	return rows, err
}

func (t *connTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.refused == "" && t.check == nil {
		return t.c.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	return firstRow{rows, err}
}

func (t *connTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.ready(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.c.Exec(ctx, sql, args...)
}

func (t *connTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.refused != "" {
		return pgx.FailedBatchResults(b, errRestrictedTx)
	}
	if t.check == nil {
		return t.c.SendBatch(ctx, b)
	}
	chk := t.check
	t.check = nil
	var withCheck pgx.Batch
	withCheck.Queue(checkSQL, chk.args...)
	withCheck.QueuedQueries = append(withCheck.QueuedQueries, b.QueuedQueries...)
	br := t.c.SendBatch(ctx, &withCheck)
	if _, err := br.Exec(); err != nil {
		br.Close() //nolint:errcheck // the check's error is the one to return
		return pgx.FailedBatchResults(b, t.checked(chk, err))
	}
	return br
}

func (t *connTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.ready(ctx); err != nil {
		return 0, err
	}
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t *connTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	return t.c.Conn().Prepare(ctx, name, sql)
}

func (t *connTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	return t.c.Begin(ctx)
}

func (t *connTx) Commit(context.Context) error   { return nil }
func (t *connTx) Rollback(context.Context) error { return nil }
func (t *connTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *connTx) Conn() *pgx.Conn                { return t.c.Conn() }

// batchRows are the rows of a statement sent after the check; closing them
// closes the batch.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closeErr error
	closed   bool
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.closeErr = r.br.Close()
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow is QueryRow's row made of Query's rows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
