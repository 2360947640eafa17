package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// DocumentText returns the text kept for a document (an email's plain body,
// a file's extracted text), for the pages to show instead of the original's
// HTML, and audits the read. Returns ENotFound, EGone once the content was
// removed or destroyed.
func (db *DB) DocumentText(ctx context.Context, id string) (string, error) {
	if !validUUID(id) {
		return "", notFound("Document")
	}
	var text string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var personID, status string
		err := tx.QueryRow(ctx, "SELECT person_id, status, coalesce(body_text, '') FROM documents WHERE id = $1", id).Scan(&personID, &status, &text)
		if err == pgx.ErrNoRows {
			return notFound("Document")
		}
		if err != nil {
			return err
		}
		if status != casefile.StatusActive {
			text = ""
			return casefile.Errorf(casefile.EGone, status, "This document's content was %s; its record remains.", status)
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "document.read", TargetType: "document", TargetID: id, PersonID: personID,
			Details: map[string]any{"via": "text"}})
	})
	return text, err
}

// textState sets where a new document's text stands: an email's (and a
// forwarded message's) was parsed at upload; a file's or an attachment's is
// pending, to be extracted by the document:extract task.
func textState(d *casefile.Document) {
	switch {
	case d.TextState != "":
	case d.Text != "":
		d.TextState, d.TextSource = casefile.TextDone, casefile.TextParsed
	case d.Kind == casefile.DocumentEmail || d.Email != nil:
		d.TextState = casefile.TextNone
	default:
		d.TextState = casefile.TextPending
	}
}

// extractTaskID names the extraction of a document; tag tells a backfill's
// (or a later retry's) apart from the one queued at upload.
func extractTaskID(documentID, tag string) string {
	if tag == "" {
		return "document-extract:" + documentID
	}
	return "document-extract:" + documentID + ":" + tag
}

// queueExtract adds the outbox row of a document's extraction to a batch.
func queueExtract(b *pgx.Batch, documentID, tag string) {
	payload, _ := json.Marshal(map[string]string{"document_id": documentID})
	b.Queue(`INSERT INTO outbox (task_type, task_id, payload) VALUES ($1,$2,$3) ON CONFLICT (task_id) DO NOTHING`,
		casefile.TaskDocumentExtract, extractTaskID(documentID, tag), payload)
}

var _ casefile.TextStore = (*DB)(nil)

// StartText takes a pending document's extraction for lease, counts the
// attempt, and returns what the extraction needs; nil when there is
// nothing to do.
func (db *DB) StartText(ctx context.Context, id string, lease time.Duration) (*casefile.TextJob, error) {
	if !validUUID(id) {
		return nil, notFound("Document")
	}
	j := casefile.TextJob{DocumentID: id}
	err := db.pool.QueryRow(ctx, `UPDATE documents SET text_attempts = text_attempts + 1, text_started_at = now()
		WHERE id = $1 AND status = 'active' AND text_state = 'pending'
		AND (text_started_at IS NULL OR text_started_at < now() - make_interval(secs => $2))
		RETURNING person_id, object_key, filename, content_type, size, text_attempts`, id, lease.Seconds()).
		Scan(&j.PersonID, &j.ObjectKey, &j.Filename, &j.ContentType, &j.Size, &j.Attempts)
	if err == pgx.ErrNoRows {
		var exists bool
		if err := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1)", id).Scan(&exists); err != nil {
			return nil, mapError(err)
		}
		if !exists {
			return nil, notFound("Document")
		}
		return nil, nil
	}
	if err != nil {
		return nil, mapError(err)
	}
	return &j, nil
}

// ReleaseText ends the lease of an extraction that did not run, without
// counting its attempt.
func (db *DB) ReleaseText(ctx context.Context, id string) error {
	if !validUUID(id) {
		return notFound("Document")
	}
	_, err := db.pool.Exec(ctx, `UPDATE documents SET text_started_at = NULL, text_attempts = greatest(text_attempts - 1, 0)
		WHERE id = $1 AND text_state = 'pending' AND text_started_at IS NOT NULL`, id)
	return mapError(err)
}

// SaveText records a document's text while it is active and pending (one
// statement decides both, so a removal committed meanwhile wins), and
// audits the change without any of the text. The same object filed on
// other records (links) has the same text: their copies still pending, and
// still active, get it in the same statement, each audited on its record.
func (db *DB) SaveText(ctx context.Context, id string, t casefile.ExtractedText) (bool, error) {
	if !validUUID(id) {
		return false, notFound("Document")
	}
	var saved bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE documents SET body_text = $2, text_state = $3, text_source = $4, text_warning = $5
			WHERE status = 'active' AND text_state = 'pending'
			AND (id = $1 OR object_key = (SELECT object_key FROM documents WHERE id = $1 AND status = 'active'))
			RETURNING id::text, person_id::text`,
			id, nullIfEmpty(t.Text), t.State, nullIfEmpty(t.Source), nullIfEmpty(t.Warning))
		if err != nil {
			return err
		}
		type row struct{ id, person string }
		changed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.person)
		})
		if err != nil {
			return err
		}
		details := map[string]any{"state": t.State, "chars": utf8.RuneCountInString(t.Text)}
		if t.Source != "" {
			details["source"] = t.Source
		}
		entries := make([]auditEntry, 0, len(changed))
		for _, c := range changed {
			saved = saved || c.id == id
			entries = append(entries, auditEntry{Action: "document.text", TargetType: "document", TargetID: c.id, PersonID: c.person,
				Details: details})
		}
		if len(entries) == 0 {
			return nil
		}
		return db.appendAudits(ctx, tx, entries)
	})
	return saved, err
}

// QueueTextBackfill queues the extraction of active documents still
// pending that were last queued before before: those kept before
// extraction existed, and those whose queued task was lost. Each gets a
// task of its own (tagged with the time, so that a task done earlier does
// not hide it), and its queued time is now, so that a backfill that goes
// on in batches never takes the same document twice.
func (db *DB) QueueTextBackfill(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE documents SET text_queued_at = now() WHERE id IN (
			SELECT id FROM documents WHERE text_state = 'pending' AND status = 'active' AND text_queued_at < $1
			AND (text_started_at IS NULL OR text_started_at < $1) ORDER BY text_queued_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING id::text`, before, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		tag := "backfill-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		var b pgx.Batch
		for _, id := range ids {
			queueExtract(&b, id, tag)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		n = len(ids)
		return nil
	})
	return n, err
}
