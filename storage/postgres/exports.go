package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var (
	_ casefile.ExportSource  = (*DB)(nil)
	_ casefile.ExportService = (*DB)(nil)
)

const exportColumns = `id, person_id, state, requested_by, requested_at, finished_at, coalesce(size, 0), coalesce(sha256, ''), coalesce(error, '')`

func scanExport(row pgx.Row) (*casefile.Export, error) {
	var e casefile.Export
	if err := row.Scan(&e.ID, &e.PersonID, &e.State, &e.RequestedBy, &e.RequestedAt, &e.FinishedAt, &e.Size, &e.SHA256, &e.Error); err != nil {
		return nil, err
	}
	e.RequestedAt = e.RequestedAt.UTC()
	if e.FinishedAt != nil {
		t := e.FinishedAt.UTC()
		e.FinishedAt = &t
	}
	return &e, nil
}

// CreateExport queues an export: the row and its outbox item commit together.
func (db *DB) CreateExport(ctx context.Context, personID string) (*casefile.Export, error) {
	var e *casefile.Export
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personWritable(ctx, tx, personID); err != nil {
			return err
		}
		id := newID()
		var err error
		e, err = scanExport(tx.QueryRow(ctx, `INSERT INTO exports (id, person_id, requested_by) VALUES ($1,$2,$3)
			RETURNING `+exportColumns, id, personID, casefile.ActorFrom(ctx).String()))
		if err != nil {
			return err
		}
		if err := enqueueTx(ctx, tx, casefile.TaskExportBuild, "export:"+id, map[string]string{"export_id": id}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "export.request", TargetType: "export", TargetID: id, PersonID: personID})
	})
	return e, err
}

// Export returns an export's state.
func (db *DB) Export(ctx context.Context, id string) (*casefile.Export, error) {
	if !validUUID(id) {
		return nil, notFound("Export")
	}
	var e *casefile.Export
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanExport(tx.QueryRow(ctx, "SELECT "+exportColumns+" FROM exports WHERE id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Export")
		}
		if err != nil {
			return err
		}
		// That a disclosure of the person's record was asked for, by whom
		// and when, is about the person.
		return db.auditShown(ctx, tx, "export.read", map[string]any{"export_id": e.ID}, []string{e.PersonID}, map[string]int{e.PersonID: 1})
	})
	return e, err
}

// StartExport marks an export running. A done export is not built again.
func (db *DB) StartExport(ctx context.Context, id string) (*casefile.Export, error) {
	var e *casefile.Export
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanExport(tx.QueryRow(ctx, "SELECT "+exportColumns+" FROM exports WHERE id = $1 FOR UPDATE", id))
		if err == pgx.ErrNoRows {
			return notFound("Export")
		}
		if err != nil {
			return err
		}
		// Only a queued export, or one a worker began and did not finish
		// (running), is built. A redelivered task never brings back a bundle
		// that is done, failed, or was withdrawn or expired (and destroyed).
		if e.State != "queued" && e.State != "running" {
			return casefile.Errorf(casefile.EConflict, "export_"+e.State, "This export is %s; it is not built again.", e.State)
		}
		_, err = tx.Exec(ctx, "UPDATE exports SET state = 'running', error = NULL WHERE id = $1", id)
		e.State = "running"
		return err
	})
	return e, err
}

// FinishExport records the stored bundle, or its failure.
func (db *DB) FinishExport(ctx context.Context, id, objectKey string, size int64, sha, auditHash, errText string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var personID string
		if err := tx.QueryRow(ctx, "SELECT person_id FROM exports WHERE id = $1 FOR UPDATE", id).Scan(&personID); err != nil {
			return err
		}
		if errText != "" {
			_, err := tx.Exec(ctx, "UPDATE exports SET state = 'failed', error = $2, finished_at = now() WHERE id = $1", id, errText)
			if err != nil {
				return err
			}
			return db.appendAudit(ctx, tx, auditEntry{Action: "export.fail", TargetType: "export", TargetID: id, PersonID: personID,
				Details: map[string]string{"error": errText}})
		}
		// A bundle withdrawn while it was being built (something on the record
		// was removed meanwhile) stays withdrawn; its object is recorded so
		// that it is destroyed with the other withdrawn bundles.
		var state string
		if err := tx.QueryRow(ctx, `UPDATE exports SET state = CASE WHEN state = 'withdrawn' THEN state ELSE 'done' END,
			object_key = $2, size = $3, sha256 = $4, audit_hash = $5, error = CASE WHEN state = 'withdrawn' THEN error END,
			finished_at = now() WHERE id = $1 RETURNING state`, id, objectKey, size, sha, auditHash).Scan(&state); err != nil {
			return err
		}
		if state == "withdrawn" {
			return nil
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "export.build", TargetType: "export", TargetID: id, PersonID: personID,
			Details: map[string]any{"size": size, "sha256": sha, "audit_hash": auditHash}})
	})
}

// ExportObject returns the bundle's object key and audits the download.
func (db *DB) ExportObject(ctx context.Context, id string) (*casefile.Export, string, error) {
	if !validUUID(id) {
		return nil, "", notFound("Export")
	}
	var e *casefile.Export
	var key string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanExport(tx.QueryRow(ctx, "SELECT "+exportColumns+" FROM exports WHERE id = $1", id))
		if err == pgx.ErrNoRows {
			return notFound("Export")
		}
		if err != nil {
			return err
		}
		if e.State == "expired" {
			return casefile.Errorf(casefile.EGone, "export_expired", "This bundle was destroyed when it expired: %s Request a new export.", e.Error)
		}
		if e.State == "withdrawn" {
			return casefile.Errorf(casefile.EGone, "export_withdrawn", "This bundle was withdrawn and destroyed: %s Request a new export.", e.Error)
		}
		if e.State != "done" {
			return casefile.Errorf(casefile.EConflict, "export_not_ready", "This export is %s; its content is ready when its state is done.", e.State)
		}
		if err := tx.QueryRow(ctx, "SELECT object_key FROM exports WHERE id = $1", id).Scan(&key); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "export.download", TargetType: "export", TargetID: id, PersonID: e.PersonID})
	})
	return e, key, err
}

// ExportPerson returns the person without auditing a read (the export is audited).
func (db *DB) ExportPerson(ctx context.Context, personID string) (*casefile.Person, error) {
	var p *casefile.Person
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = db.personTx(ctx, tx, personID)
		return err
	})
	return p, err
}

// ExportNotes streams the person's notes in chronological order with their
// versions. Destroyed notes are left out; removed ones carry a tombstone.
func (db *DB) ExportNotes(ctx context.Context, personID string, fn func(*casefile.ExportNote) error) error {
	rows, err := db.pool.Query(ctx, `
		SELECT n.id, n.person_id, n.type, n.occurred_at, n.recorded_at, n.author, n.corrects_note_id,
		       coalesce(n.correction_reason, ''), n.status, n.imported, n.removed_at, n.removal_ticket_id,
		       coalesce(json_agg(json_build_object('version', v.version, 'body', v.body, 'created_at', v.created_at,
		           'created_by', v.created_by, 'reason', coalesce(v.reason, ''), 'ticket_id', v.ticket_id) ORDER BY v.version)
		           FILTER (WHERE v.version IS NOT NULL), '[]')
		FROM notes n LEFT JOIN note_versions v ON v.note_id = n.id
		WHERE n.person_id = $1 AND n.status <> 'destroyed'
		GROUP BY n.id ORDER BY n.occurred_at, n.recorded_at, n.id`, personID)
	if err != nil {
		return mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n casefile.ExportNote
		var versions []byte
		var removalTicket *string
		var removedAt *time.Time
		if err := rows.Scan(&n.ID, &n.PersonID, &n.Type, &n.OccurredAt, &n.RecordedAt, &n.Author, &n.CorrectsNoteID,
			&n.CorrectionReason, &n.Status, &n.Imported, &removedAt, &removalTicket, &versions); err != nil {
			return mapError(err)
		}
		if err := json.Unmarshal(versions, &n.History); err != nil {
			return err
		}
		n.Versions = len(n.History)
		if n.Status != casefile.StatusActive {
			n.History = nil // never content of a removed note
			n.Tombstone = &casefile.Tombstone{Reason: "removed by ICT ticket", At: removedAt}
			if removalTicket != nil {
				n.Tombstone.TicketID = *removalTicket
			}
		} else if len(n.History) > 0 {
			n.Body = n.History[len(n.History)-1].Body
		}
		if err := fn(&n); err != nil {
			return err
		}
	}
	return mapError(rows.Err())
}

// ExportDocuments streams the person's active documents, parents before
// their attachments.
func (db *DB) ExportDocuments(ctx context.Context, personID string, fn func(*casefile.Document) error) error {
	rows, err := db.pool.Query(ctx, `
		WITH RECURSIVE tree AS (
			SELECT d.*, ARRAY[d.created_at::text || d.id::text] AS ord FROM documents d
			WHERE d.person_id = $1 AND d.parent_id IS NULL AND d.status = 'active'
			UNION ALL
			SELECT c.*, t.ord || (c.created_at::text || c.id::text) FROM documents c JOIN tree t ON c.parent_id = t.id
			WHERE c.status = 'active'
		)
		SELECT id, parent_id, filename, content_type, size, sha256, object_key FROM tree ORDER BY ord`, personID)
	if err != nil {
		return mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		d := casefile.Document{PersonID: personID}
		if err := rows.Scan(&d.ID, &d.ParentID, &d.Filename, &d.ContentType, &d.Size, &d.SHA256, &d.ObjectKey); err != nil {
			return mapError(err)
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return mapError(rows.Err())
}

// AuditHead returns the newest audit event's sequence number and hash.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	hash := genesisHash
	err := db.pool.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &hash)
	if err == pgx.ErrNoRows {
		return 0, genesisHash, nil
	}
	return seq, hash, mapError(err)
}

// withdrawExports withdraws the person's bundles that may hold what a
// ticket took off the record (a removal, or a re-index to another person),
// built or being built, in the ticket's transaction, and audits each; their
// objects are destroyed by the ticket's worker (or the next sweep) through
// RetiredBundles. A bundle being built finishes withdrawn (FinishExport).
func (db *DB) withdrawExports(ctx context.Context, tx pgx.Tx, personID string, t *casefile.Ticket) error {
	why := fmt.Sprintf("a %s on this record was removed by ticket %s after the bundle was made.", t.TargetType, t.ID)
	if t.Kind == casefile.TicketReindex {
		why = fmt.Sprintf("a %s on this record was moved to another person's record by ticket %s after the bundle was made.", t.TargetType, t.ID)
	}
	rows, err := tx.Query(ctx, `UPDATE exports SET state = 'withdrawn', error = $2, withdrawn_at = now()
		WHERE person_id = $1 AND state IN ('done', 'running') RETURNING id`, personID, why)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	entries := make([]auditEntry, len(ids))
	for i, id := range ids {
		entries[i] = auditEntry{Action: "export.withdraw", TargetType: "export", TargetID: id, PersonID: personID,
			Details: map[string]any{"ticket_id": t.ID, "reason": why}}
	}
	if err := db.appendAudits(ctx, tx, entries); err != nil {
		return err
	}
	return db.withdrawDisclosures(ctx, tx, []string{personID}, why)
}

// ExpireExports expires the bundles finished before before: state expired,
// each audited; their objects are destroyed through RetiredBundles.
func (db *DB) ExpireExports(ctx context.Context, before time.Time) (int, error) {
	ctx = casefile.WithActor(ctx, casefile.SystemActor("export-expiry"))
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		why := fmt.Sprintf("bundles are kept for %d days after they are made.", int(time.Since(before).Hours()/24+0.5))
		rows, err := tx.Query(ctx, `UPDATE exports SET state = 'expired', error = 'it was made on ' || to_char(finished_at, 'YYYY-MM-DD') || '; ' || $2
			WHERE state = 'done' AND finished_at < $1 RETURNING id, person_id`, before, why)
		if err != nil {
			return err
		}
		type expired struct{ id, person string }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (expired, error) {
			var e expired
			return e, r.Scan(&e.id, &e.person)
		})
		if err != nil {
			return err
		}
		entries := make([]auditEntry, 0, len(list))
		for _, e := range list {
			entries = append(entries, auditEntry{Action: "export.expire", TargetType: "export", TargetID: e.id, PersonID: e.person})
		}
		n = len(list)
		return db.appendAudits(ctx, tx, entries)
	})
	return n, err
}

// RetiredBundles returns the object keys of withdrawn and expired bundles
// not yet destroyed.
func (db *DB) RetiredBundles(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT object_key FROM exports WHERE state IN ('withdrawn', 'expired') AND object_key IS NOT NULL
		UNION ALL SELECT object_key FROM disclosures WHERE state = 'withdrawn' AND object_key IS NOT NULL ORDER BY 1`)
	if err != nil {
		return nil, mapError(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return keys, mapError(err)
}

// BundlesDestroyed records that the objects of retired bundles are gone.
func (db *DB) BundlesDestroyed(ctx context.Context, keys []string) error {
	_, err := db.pool.Exec(ctx, `UPDATE exports SET object_key = NULL, size = NULL WHERE state IN ('withdrawn', 'expired') AND object_key = ANY($1)`, keys)
	if err == nil {
		_, err = db.pool.Exec(ctx, `UPDATE disclosures SET object_key = NULL, size = NULL WHERE state = 'withdrawn' AND object_key = ANY($1)`, keys)
	}
	return mapError(err)
}

// destroyExportsOf withdraws every bundle of records being destroyed, built
// or being built, and destroys the objects of those built, in the
// destruction's transaction. A bundle being built finishes withdrawn and its
// object is destroyed then (or by the sweep); a queued one is never built.
func (db *DB) destroyExportsOf(ctx context.Context, tx pgx.Tx, persons []string, runID string,
	destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) error {
	why := "the record was destroyed under the retention schedule (run " + runID + ")."
	rows, err := tx.Query(ctx, `UPDATE exports SET state = 'withdrawn', error = $2, withdrawn_at = now()
		WHERE person_id = ANY($1) AND state IN ('queued', 'running', 'done') RETURNING id, person_id`, persons, why)
	if err != nil {
		return err
	}
	type withdrawn struct{ id, person string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (withdrawn, error) {
		var w withdrawn
		return w, r.Scan(&w.id, &w.person)
	})
	if err != nil {
		return err
	}
	entries := make([]auditEntry, len(list))
	for i, w := range list {
		entries[i] = auditEntry{Action: "export.withdraw", TargetType: "export", TargetID: w.id, PersonID: w.person,
			Details: map[string]any{"run_id": runID, "reason": why}}
	}
	if err := db.appendAudits(ctx, tx, entries); err != nil {
		return err
	}
	// Disclosures: withdrawn like the bundles, a draft's too (it would
	// show what is destroyed), and the requester's name goes with the record.
	if err := db.withdrawDisclosures(ctx, tx, persons, why); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE disclosures SET state = 'withdrawn', error = coalesce(error, $2), requester = ''
		WHERE person_id = ANY($1)`, persons, why); err != nil {
		return err
	}
	var keys []string
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(object_key), '{}') FROM (SELECT object_key FROM exports
		WHERE person_id = ANY($1) AND object_key IS NOT NULL UNION ALL SELECT object_key FROM disclosures
		WHERE person_id = ANY($1) AND object_key IS NOT NULL) k`, persons).Scan(&keys); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	failed, err := destroy(ctx, keys, nil)
	if err != nil {
		return err
	}
	for k, e := range failed {
		return fmt.Errorf("destroy export bundle %s: %w", k, e)
	}
	if _, err = tx.Exec(ctx, "UPDATE exports SET object_key = NULL, size = NULL WHERE object_key = ANY($1)", keys); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE disclosures SET object_key = NULL, size = NULL WHERE object_key = ANY($1)", keys)
	return err
}

// KnownBundleKeys returns which of keys belong to an export or a
// disclosure: the object of a bundle (built, or retired and still to
// destroy), or the key a queued or running export, or a finalising
// disclosure, is being written under. The reconciliation keeps those and
// destroys any other object under exports/.
func (db *DB) KnownBundleKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT k FROM unnest($1::text[]) k WHERE
		EXISTS (SELECT 1 FROM exports WHERE object_key = k)
		OR EXISTS (SELECT 1 FROM exports WHERE state IN ('queued', 'running') AND 'exports/' || id::text || '.zip' = k)
		OR EXISTS (SELECT 1 FROM disclosures WHERE object_key = k)
		OR EXISTS (SELECT 1 FROM disclosures WHERE state = 'finalising' AND 'disclosures/' || id::text || '.zip' = k)`, keys)
	if err != nil {
		return nil, mapError(err)
	}
	known, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapError(err)
	}
	out := make(map[string]bool, len(known))
	for _, k := range known {
		out[k] = true
	}
	return out, nil
}

// Exports lists exports newest first (by id: ids are time-ordered).
func (db *DB) Exports(ctx context.Context, p casefile.Page) ([]*casefile.Export, string, error) {
	limit := clampLimit(p.Limit)
	before := "ffffffff-ffff-ffff-ffff-ffffffffffff"
	if p.Cursor != "" {
		if !validUUID(p.Cursor) {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		before = p.Cursor
	}
	var out []*casefile.Export
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+exportColumns+" FROM exports WHERE id < $1::uuid ORDER BY id DESC LIMIT $2", before, limit+1)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Export, error) { return scanExport(r) }); err != nil {
			return err
		}
		var s shown
		for _, e := range out[:min(len(out), limit)] {
			s.add(e.PersonID)
		}
		return db.auditShown(ctx, tx, "export.read", map[string]any{"via": "exports"}, s.order, s.count)
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
