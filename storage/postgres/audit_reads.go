package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// Reads of a record are audited by group commit. A read runs in a
// transaction of its own that writes nothing (readTx): its audit events are
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

// readTx runs fn, a read, in a transaction; the audit events fn appends are
// kept by group commit after it (see above). fn must write nothing but audit
// events: anything else it wrote would commit apart from its events.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var entries []auditEntry
	err := db.inTxWith(ctx, &chainTx{chain: -1, reads: &entries}, fn)
	if err != nil || len(entries) == 0 {
		return err
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
// database is closed.
func (db *DB) commitReads() {
	for {
		var group []*readAudit
		select {
		case r := <-db.reads:
			group = append(group, r)
		case <-db.closing:
			return
		}
	more:
		for len(group) < maxReadGroup {
			select {
			case r := <-db.reads:
				group = append(group, r)
			default:
				break more
			}
		}
		var all []auditEntry
		for _, r := range group {
			all = append(all, r.entries...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := db.inTx(ctx, func(tx pgx.Tx) error { return db.appendAudits(ctx, tx, all) })
		cancel()
		for _, r := range group {
			r.done <- err
		}
	}
}
