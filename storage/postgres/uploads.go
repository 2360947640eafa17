package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

// upload is a document tree waiting to be recorded.
type upload struct {
	actor   string
	actorID string
	d       *casefile.Document
	key     string
	err     error
	done    chan error
}

// maxGroup bounds how many uploads one transaction records.
const maxGroup = 32

// commitUploads records waiting uploads, a group at a time, until the
// database is closed.
func (db *DB) commitUploads() {
	for {
		group := nextGroup(db.uploads, db.closing, maxGroup)
		if group == nil {
			return
		}
		db.commitGroup(group)
	}
}

// nextGroup waits for the first item on ch, and takes with it those already
// waiting, up to max in all: what a group commit records in one
// transaction. It returns nil once closing is closed.
func nextGroup[T any](ch <-chan T, closing <-chan struct{}, max int) []T {
	var group []T
	select {
	case x := <-ch:
		group = append(group, x)
	case <-closing:
		return nil
	}
	for len(group) < max {
		select {
		case x := <-ch:
			group = append(group, x)
		default:
			return group
		}
	}
	return group
}

func (db *DB) commitGroup(group []*upload) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := db.recordGroup(ctx, group)
	for _, u := range group {
		if err != nil && !ownFailure(u.err) {
			u.err = mapError(err) // the group's outcome is this upload's
		}
		u.done <- u.err
	}
}

// recordGroup records a group of uploads in one transaction, each under a
// savepoint, in as few round trips as the statements allow: BEGIN goes with
// the first upload's rows and the lock of the audit chain's head with the
// last upload's, then the audit events, then COMMIT (on its own, so that a
// connection lost then is known to have lost its answer); a group of one
// takes three round trips. An
// upload's own failure (ownFailure) is left in its err and rolled back to
// its savepoint; any other error is the group's, returned.
func (db *DB) recordGroup(ctx context.Context, group []*upload) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	defer func() {
		// Whatever did not end in COMMIT is rolled back before the
		// connection goes back to the pool.
		if pc := conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
			if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // the pool drops a closed connection
			}
		}
	}()
	chain := chainOf([]auditEntry{uploadAudit(group[0])})
	var recorded []*upload
	var head *auditHead
	for i, u := range group {
		var headOf int // events to draw sequence numbers for with this upload's rows (the last upload's)
		if i == len(group)-1 {
			headOf = len(recorded) + 1
		}
		head, u.err = insertTree(ctx, conn, u, i == 0, chain, headOf)
		if u.err == nil {
			recorded = append(recorded, u)
			continue
		}
		head = nil
		if !ownFailure(u.err) {
			return u.err // not this upload's own problem: the group fails
		}
		if _, err := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT upload"); err != nil {
			return err
		}
	}
	if len(recorded) == 0 {
		return nil // rolled back: each upload has its own failure
	}
	entries := make([]auditEntry, 0, len(recorded))
	for _, u := range recorded {
		entries = append(entries, uploadAudit(u))
	}
	if head == nil {
		if head, err = lockAuditHead(ctx, conn, chain, len(entries)); err != nil {
			return err
		}
	}
	var b pgx.Batch
	if err := db.queueAuditAppend(ctx, &b, chain, head.prev, head.seqs, entries); err != nil {
		return err
	}
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "commit"); err != nil {
		// An answer from the server means the transaction did not commit.
		// Anything else leaves it unknown: the connection may have been
		// lost after COMMIT was sent (pgconn's SafeToRetry cannot tell: a
		// socket that fails while the commit is written reads back as
		// "conn closed", which it calls safe).
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			err = fmt.Errorf("%w: %w", casefile.ErrOutcomeUnknown, err)
		}
		return err
	}
	return nil
}

// auditHead is the audit chain's last hash and the sequence numbers drawn
// for the events to append to it.
type auditHead struct {
	prev string
	seqs []int64
}

// uploadAudit is the audit event of a recorded upload.
func uploadAudit(u *upload) auditEntry {
	return auditEntry{Actor: u.actor, ActorID: u.actorID, Action: "document.upload", TargetType: "document", TargetID: u.d.ID,
		PersonID: u.d.PersonID, Details: map[string]any{"kind": u.d.Kind, "sha256": u.d.SHA256, "size": u.d.Size,
			"attachments": countTree(u.d) - 1}}
}

// ownFailure reports whether err refuses one upload of a group (a
// duplicate, a used key, an unknown or destroyed person) rather than the
// group's transaction.
func ownFailure(err error) bool {
	k := casefile.ErrorKind(err)
	return err != nil && (k == casefile.EConflict || k == casefile.ENotFound)
}

// batchSender is what insertTree sends its batch on (a pooled connection).
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// insertTree checks the person and inserts an upload's rows under a
// savepoint, in one round trip: after BEGIN when begin is set (the group's
// first upload), and followed by the lock of the audit chain's head and the
// drawing of headOf sequence numbers when headOf > 0 (the group's last),
// which it then returns.
func insertTree(ctx context.Context, q batchSender, u *upload, begin bool, chain, headOf int) (*auditHead, error) {
	d := u.d
	var b pgx.Batch
	if begin {
		b.Queue("begin")
	}
	b.Queue("SAVEPOINT upload")
	b.Queue("SELECT status FROM persons WHERE id = $1", d.PersonID)
	var order []*casefile.Document
	var queue func(x *casefile.Document)
	queue = func(x *casefile.Document) {
		x.PersonID, x.CreatedBy, x.Status = d.PersonID, u.actor, casefile.StatusActive
		if x.ParseWarnings == nil {
			x.ParseWarnings = []string{}
		}
		if x.Attachments == nil {
			x.Attachments = []*casefile.Document{}
		}
		warnings, _ := json.Marshal(x.ParseWarnings)
		var email []byte
		if x.Email != nil {
			email, _ = json.Marshal(x.Email)
		}
		var key *string
		if x == d && u.key != "" {
			key = &u.key
		}
		textState(x)
		b.Queue(`INSERT INTO documents (id, person_id, kind, parent_id, filename, title, category, content_type,
			declared_content_type, size, sha256, object_key, created_by, parse_warnings, email, body_text, idempotency_key, retain_until, object_version,
			text_state, text_source)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) RETURNING created_at`,
			x.ID, x.PersonID, x.Kind, x.ParentID, x.Filename, x.Title, x.Category, x.ContentType, x.DeclaredContentType,
			x.Size, x.SHA256, x.ObjectKey, u.actor, warnings, email, nullIfEmpty(x.Text), key, x.RetainUntil, x.ObjectVersion,
			x.TextState, nullIfEmpty(x.TextSource))
		order = append(order, x)
		for _, a := range x.Attachments {
			queue(a)
		}
	}
	queue(d)
	// Each file's and attachment's text is extracted once the upload is
	// committed (the outbox row commits with it), off the request path.
	var extract []*casefile.Document
	for _, x := range order {
		if x.TextState == casefile.TextPending {
			queueExtract(&b, x.ID, "")
			extract = append(extract, x)
		}
	}
	if headOf > 0 {
		queueAuditHead(&b, chain, headOf)
	}
	br := q.SendBatch(ctx, &b)
	var err error
	if begin {
		if _, err = br.Exec(); err != nil {
			br.Close() //nolint:errcheck // BEGIN's error is the one to return
			return nil, err
		}
	}
	_, err = br.Exec()
	var status string
	if err == nil {
		err = br.QueryRow().Scan(&status)
		if err == pgx.ErrNoRows {
			err = notFound("Person")
		} else if err == nil {
			err = personActive(status)
		}
	}
	for _, x := range order {
		if err != nil {
			break
		}
		if err = br.QueryRow().Scan(&x.CreatedAt); err == nil {
			x.CreatedAt = x.CreatedAt.UTC()
		}
	}
	for range extract {
		if err != nil {
			break
		}
		_, err = br.Exec()
	}
	var head *auditHead
	if err == nil && headOf > 0 {
		head = &auditHead{}
		head.prev, head.seqs, err = readAuditHead(br, chain)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "documents_dedup":
		return nil, casefile.Errorf(casefile.EConflict, "duplicate_document", "The same file is already on this person's record.")
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "documents_idempotency":
		return nil, casefile.Errorf(casefile.EConflict, "idempotency_key_in_use", "An upload with this Idempotency-Key is already stored.")
	case err != nil:
		return nil, err
	}
	return head, nil
}

func countTree(d *casefile.Document) int {
	n := 1
	for _, a := range d.Attachments {
		n += countTree(a)
	}
	return n
}
