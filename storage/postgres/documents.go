package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.DocumentStore = (*DB)(nil)

const documentColumns = `id, person_id, kind, parent_id, filename, title, category, content_type, declared_content_type, size, sha256,
	object_key, status, created_at, created_by, parse_warnings, email, removed_at, removal_ticket_id, destroyed_at, destruction_run_id,
	text_state, coalesce(text_source, ''), coalesce(text_warning, ''), linked_from`

func scanDocument(row pgx.Row) (*casefile.Document, error) {
	var d casefile.Document
	var warnings, email []byte
	var removedAt, destroyedAt *time.Time
	var ticket, run *string
	if err := row.Scan(&d.ID, &d.PersonID, &d.Kind, &d.ParentID, &d.Filename, &d.Title, &d.Category, &d.ContentType,
		&d.DeclaredContentType, &d.Size, &d.SHA256, &d.ObjectKey, &d.Status, &d.CreatedAt, &d.CreatedBy, &warnings, &email,
		&removedAt, &ticket, &destroyedAt, &run, &d.TextState, &d.TextSource, &d.TextWarning, &d.LinkedFrom); err != nil {
		return nil, err
	}
	d.CreatedAt = d.CreatedAt.UTC()
	d.ParseWarnings = []string{}
	if len(warnings) > 0 {
		_ = json.Unmarshal(warnings, &d.ParseWarnings)
	}
	if len(email) > 0 && string(email) != "null" {
		d.Email = &casefile.EmailMeta{}
		_ = json.Unmarshal(email, d.Email)
	}
	d.Attachments = []*casefile.Document{}
	d.Tombstone = tombstoneFor(d.Status, removedAt, ticket, destroyedAt, run)
	return &d, nil
}

// CheckPerson checks that documents may be added to the person's record
// (and makes the access check ctx carries, in the same round trip).
func (db *DB) CheckPerson(ctx context.Context, personID string) error {
	if !validUUID(personID) {
		return notFound("Person")
	}
	var status string
	err := db.checkedRow(ctx, "SELECT status FROM persons WHERE id = $1", personID).Scan(&status)
	if isRefusal(err) {
		return db.denied(ctx, personID, nil)
	}
	if err == pgx.ErrNoRows {
		return notFound("Person")
	}
	if err != nil {
		return mapError(err)
	}
	return personActive(status)
}

// personActive is the error for adding to a person's record in this status.
func personActive(status string) error {
	if status != "active" {
		return casefile.Errorf(casefile.EConflict, "person_destroyed", "This person's record was destroyed under the retention schedule; nothing more can be added to it.")
	}
	return nil
}

// CheckUpload checks, in one query, that documents may be added to the
// person's record and whether these bytes are already on it (and makes the
// access check ctx carries, in the same round trip).
func (db *DB) CheckUpload(ctx context.Context, personID, sha string) (*casefile.Document, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	var status string
	var dupID *string
	err := db.checkedRow(ctx, `SELECT p.status, (SELECT d.id::text FROM documents d WHERE d.person_id = p.id AND d.sha256 = $2
		AND d.parent_id IS NULL AND d.status = 'active') FROM persons p WHERE p.id = $1`, personID, sha).Scan(&status, &dupID)
	if isRefusal(err) {
		return nil, db.denied(ctx, personID, nil)
	}
	if err == pgx.ErrNoRows {
		return nil, notFound("Person")
	}
	if err != nil {
		return nil, mapError(err)
	}
	if err := personActive(status); err != nil {
		return nil, err
	}
	if dupID == nil {
		return nil, nil
	}
	dup, err := db.DuplicateOf(ctx, personID, sha)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		return nil, nil // removed meanwhile
	}
	return dup, err
}

// DocumentByIdempotencyKey finds what the actor uploaded under key.
func (db *DB) DocumentByIdempotencyKey(ctx context.Context, key string) (*casefile.Document, error) {
	d, err := scanDocument(db.pool.QueryRow(ctx, "SELECT "+documentColumns+" FROM documents WHERE created_by = $1 AND idempotency_key = $2",
		casefile.ActorFrom(ctx).String(), key))
	if err == pgx.ErrNoRows {
		return nil, notFound("Document")
	}
	if err != nil {
		return nil, mapError(err)
	}
	return d, db.loadAttachments(ctx, db.pool, d)
}

// DuplicateOf finds the active top-level copy of the same bytes.
func (db *DB) DuplicateOf(ctx context.Context, personID, sha string) (*casefile.Document, error) {
	d, err := scanDocument(db.pool.QueryRow(ctx, "SELECT "+documentColumns+
		" FROM documents WHERE person_id = $1 AND sha256 = $2 AND parent_id IS NULL AND status = 'active'", personID, sha))
	if err == pgx.ErrNoRows {
		return nil, notFound("Document")
	}
	if err != nil {
		return nil, mapError(err)
	}
	return d, db.loadAttachments(ctx, db.pool, d)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// loadAttachments fills in the attachment tree of d.
func (db *DB) loadAttachments(ctx context.Context, q querier, d *casefile.Document) error {
	rows, err := q.Query(ctx, `WITH RECURSIVE tree AS (
			SELECT * FROM documents WHERE parent_id = $1
			UNION ALL SELECT c.* FROM documents c JOIN tree t ON c.parent_id = t.id)
		SELECT `+documentColumns+` FROM tree ORDER BY created_at, id`, d.ID)
	if err != nil {
		return mapError(err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Document, error) { return scanDocument(r) })
	if err != nil {
		return mapError(err)
	}
	byID := map[string]*casefile.Document{d.ID: d}
	for _, a := range all {
		byID[a.ID] = a
	}
	for _, a := range all {
		if p, ok := byID[*a.ParentID]; ok {
			p.Attachments = append(p.Attachments, a)
		}
	}
	return nil
}

// CreateDocument records the document tree and audits the upload, by group
// commit: the upload joins whatever others are waiting, and one transaction
// records them all (each under a savepoint, so that one upload's conflict
// fails that upload alone) with a single flush of the log to disk. Once the
// upload is handed over, CreateDocument waits for the outcome whatever its
// context says: the rows may be committed, and the caller must not take
// back objects that a committed row names.
func (db *DB) CreateDocument(ctx context.Context, d *casefile.Document, idempotencyKey string) error {
	if !validUUID(d.PersonID) {
		return notFound("Person")
	}
	db.committer.Do(func() { go db.commitUploads() })
	a := casefile.ActorFrom(ctx)
	u := &upload{actor: a.String(), actorID: a.ID, d: d, key: idempotencyKey, done: make(chan error, 1)}
	select {
	case db.uploads <- u:
	case <-ctx.Done():
		return casefile.Unavailable("PostgreSQL", ctx.Err())
	case <-db.closing:
		return casefile.Unavailable("PostgreSQL", errors.New("the database is closed"))
	}
	return <-u.done
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Document returns a document with its attachments, and audits the read.
func (db *DB) Document(ctx context.Context, id string) (*casefile.Document, error) {
	return db.ShowDocument(ctx, id, "")
}

// ShowDocument returns a document with its attachments and audits the read
// (document.read), naming via when the document is shown as the answer to
// something other than a read (a duplicate upload, an idempotent replay).
func (db *DB) ShowDocument(ctx context.Context, id, via string) (*casefile.Document, error) {
	if !validUUID(id) {
		return nil, notFound("Document")
	}
	var d *casefile.Document
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDocument(tx.QueryRow(ctx, "SELECT "+documentColumns+" FROM documents WHERE id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Document")
		}
		if err != nil {
			return err
		}
		if err := db.loadAttachments(ctx, tx, d); err != nil {
			return err
		}
		db.enrichTombstone(ctx, d.Tombstone)
		var details any
		if via != "" {
			details = map[string]string{"via": via}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "document.read", TargetType: "document", TargetID: id, PersonID: d.PersonID,
			Details: details})
	})
	return d, err
}

// Documents lists a person's top-level documents, newest first, with their
// attachments, and audits the read of the record.
func (db *DB) Documents(ctx context.Context, personID string, p casefile.Page) ([]*casefile.Document, string, error) {
	limit := clampLimit(p.Limit)
	if p.Cursor != "" && !validUUID(p.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	var out []*casefile.Document
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+documentColumns+` FROM documents WHERE person_id = $1 AND parent_id IS NULL
			AND ($2 = '' OR id < $2::uuid) ORDER BY id DESC LIMIT $3`, personID, p.Cursor, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Document, error) { return scanDocument(r) })
		if err != nil {
			return err
		}
		for _, d := range out {
			if err := db.loadAttachments(ctx, tx, d); err != nil {
				return err
			}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "document.list", TargetType: "person", TargetID: personID, PersonID: personID,
			Details: map[string]any{"count": min(len(out), limit)}})
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// OpenDocument audits a download of the document's content.
func (db *DB) OpenDocument(ctx context.Context, id string) (*casefile.Document, error) {
	if !validUUID(id) {
		return nil, notFound("Document")
	}
	var d *casefile.Document
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDocument(tx.QueryRow(ctx, "SELECT "+documentColumns+" FROM documents WHERE id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Document")
		}
		if err != nil {
			return err
		}
		switch d.Status {
		case casefile.StatusRemoved:
			return casefile.Errorf(casefile.EGone, "removed", "This document's content was removed under an approved ICT ticket; its record remains.")
		case casefile.StatusDestroyed:
			return casefile.Errorf(casefile.EGone, "destroyed", "This document's content was destroyed under the retention schedule; its record remains.")
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "document.download", TargetType: "document", TargetID: id, PersonID: d.PersonID})
	})
	return d, err
}

// ActiveObjectKeys returns which of keys an active document names.
func (db *DB) ActiveObjectKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT object_key FROM documents WHERE status = 'active' AND object_key COLLATE "C" = ANY($1)`, keys)
	if err != nil {
		return nil, mapError(err)
	}
	ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	known := make(map[string]bool, len(ks))
	for _, k := range ks {
		known[k] = true
	}
	return known, mapError(err)
}

// ActiveObjects pages through active documents' object keys in byte order,
// each key once (an object filed on several records names one of them: the
// first filed).
func (db *DB) ActiveObjects(ctx context.Context, after string, limit int) ([]casefile.ObjectRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT ON (object_key COLLATE "C") id, person_id, object_key FROM documents
		WHERE status = 'active' AND object_key COLLATE "C" > $1 ORDER BY object_key COLLATE "C", id LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapError(err)
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.ObjectRef, error) {
		var o casefile.ObjectRef
		err := r.Scan(&o.DocumentID, &o.PersonID, &o.Key)
		return o, err
	})
	return refs, mapError(err)
}
