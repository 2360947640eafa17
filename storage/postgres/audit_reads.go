package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/council/casefile"
)

// Reads of a record are audited by group commit. A read runs on a
// connection of its own and writes nothing (readTx): its audit events are
// collected instead of appended, and once the read is done they join the
// events of every other read waiting, and one transaction appends them all,
// with one lock of one chain's head and one flush of the log to disk. The
// read answers only after its events are committed, so a read whose event
// cannot be kept fails, as before; but readers no longer hold a chain's head
// lock while they read, nor wait for each other's commits one by one.

// readAudit is the audit events of one read, waiting to be appended.
type readAudit struct {
	entries []auditEntry
	done    chan error
}

// maxReadGroup bounds how many reads' events one transaction appends.
const maxReadGroup = 256

// readTx runs fn, a read, on one connection of its own, and the audit events
// fn appends are kept by group commit after it (see above). fn runs outside
// any transaction: each of its statements sees the database as it is when
// the statement starts, exactly as in a READ COMMITTED transaction, without
// the two round trips of BEGIN and COMMIT. So fn must write nothing but
// audit events (anything else would commit at once, apart from its events)
// and take no locks (FOR UPDATE and the like end with their statement).
//
// An access check the request's context carries (casefile.AccessCheck) is
// made in the round trip of fn's first statement (see connTx); when it
// refuses, nothing of fn's is run or kept, the refusal is audited by the
// same group commit, and readTx returns it.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var entries []auditEntry
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return mapError(err)
	}
	ct := &connTx{c: conn, check: db.accessCheck(ctx)}
	err = fn(&chainTx{Tx: ct, chain: -1, reads: &entries})
	if err == nil && ct.check != nil {
		err = ct.checkAlone(ctx) // fn ran no statement
	}
	conn.Release()
	if ct.refused != "" {
		return db.refusedRead(ctx, ct.refused)
	}
	if err != nil || len(entries) == 0 {
		return mapError(err)
	}
	return db.recordReads(ctx, entries)
}

// deferAudits keeps the events of a read transaction for the group commit,
// each naming its actor now (the committer has no caller's context).
func deferAudits(ctx context.Context, ct *chainTx, entries []auditEntry) {
	for _, e := range entries {
		if e.Actor == "" {
			a := casefile.ActorFrom(ctx)
			e.Actor, e.ActorID = a.String(), a.ID
		}
		*ct.reads = append(*ct.reads, e)
	}
}

// recordReads hands a read's events to the committer and waits until they
// are kept. Once handed over it waits whatever ctx says, as the events may be
// committed.
func (db *DB) recordReads(ctx context.Context, entries []auditEntry) error {
	db.readCommitter.Do(func() { go db.commitReads() })
	r := &readAudit{entries: entries, done: make(chan error, 1)}
	select {
	case db.reads <- r:
	case <-ctx.Done():
		return casefile.Unavailable("PostgreSQL", ctx.Err())
	case <-db.closing:
		return casefile.Unavailable("PostgreSQL", errors.New("the database is closed"))
	}
	return <-r.done
}

// commitReads appends waiting reads' events, a group at a time, until the
// database is closed. It keeps the pool's connection it commits on between
// groups: were it to take one for each group, it would queue for it behind
// the very reads that wait for it, whenever they hold every connection.
func (db *DB) commitReads() {
	var conn *pgxpool.Conn
	defer func() {
		if conn != nil {
			conn.Release()
		}
	}()
	for {
		group := nextGroup(db.reads, db.closing, maxReadGroup)
		if group == nil {
			return
		}
		var all []auditEntry
		for _, r := range group {
			all = append(all, r.entries...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		if conn == nil {
			conn, err = db.pool.Acquire(ctx)
			err = mapError(err)
		}
		if err == nil {
			if err = db.appendGroup(ctx, conn, all); err != nil {
				conn.Release() // a closed connection leaves the pool
				conn = nil
			}
		}
		cancel()
		for _, r := range group {
			r.done <- err
		}
	}
}

// appendGroup appends a group's events on conn in a transaction of their own
// in two round trips: BEGIN goes with the lock of the chain's head, and
// COMMIT with the events. When anything fails the events are not kept (a
// failed statement skips the rest, COMMIT among them, and the transaction is
// rolled back) or, if the connection is lost, may be: either way every read
// of the group fails, which is safe.
func (db *DB) appendGroup(ctx context.Context, conn *pgxpool.Conn, entries []auditEntry) error {
	chain := chainOf(entries)
	var b pgx.Batch
	b.Queue("BEGIN")
	queueAuditHead(&b, chain, len(entries))
	br := conn.SendBatch(ctx, &b)
	_, err := br.Exec()
	var prev string
	var seqs []int64
	if err == nil {
		prev, seqs, err = readAuditHead(br, chain)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		b = pgx.Batch{}
		if err = db.queueAuditAppend(ctx, &b, chain, prev, seqs, entries); err == nil {
			b.Queue("COMMIT")
			err = sendCommitted(ctx, conn, &b)
		}
	}
	if pc := conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // the pool drops a closed connection
		}
	}
	return mapError(err)
}

// sendCommitted sends b, whose last statement is COMMIT, and returns nil only
// when the transaction committed (a COMMIT of a failed transaction answers
// ROLLBACK, not an error).
func sendCommitted(ctx context.Context, conn *pgxpool.Conn, b *pgx.Batch) error {
	br := conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("the audit events were not committed (%s)", tag)
	}
	return err
}
