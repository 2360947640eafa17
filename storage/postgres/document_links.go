package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

// objectLockSpace is the first key of the advisory locks taken on object
// keys (the second is the key's hash): whoever links, removes or destroys a
// document takes its objects' locks after the documents' rows and before it
// asks which active rows still name them, so that two records letting go of
// one object at once cannot each think the other still holds it.
const objectLockSpace = 0x6f626a // "obj"

// lockObjects takes the advisory locks of keys, in one order for everyone.
func lockObjects(ctx context.Context, tx pgx.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock($1, h)) FROM
		(SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) k ORDER BY 1) s`, objectLockSpace, keys)
	return err
}

// objectsLetGo locks keys and returns those that no active document other
// than the ones in except names: the objects that may be destroyed now.
// Each key comes back once.
func objectsLetGo(ctx context.Context, tx pgx.Tx, keys, except []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if except == nil {
		except = []string{} // NULL would make every comparison unknown
	}
	if err := lockObjects(ctx, tx, keys); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT k FROM unnest($1::text[]) k WHERE NOT EXISTS (
		SELECT 1 FROM documents d WHERE d.object_key = k AND d.status = 'active' AND NOT d.id = ANY($2::uuid[]))`, keys, except)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LinkDocument files the stored document id (an email or file, with its
// attachments) on personID's record as well: new rows on that record name
// the same objects, each under that record's retention, holds and removals.
// Linking again what is already on the record (the same bytes, active)
// returns that document with existed set. Audited on both records.
func (db *DB) LinkDocument(ctx context.Context, id, personID string) (*casefile.Document, bool, error) {
	if !validUUID(id) {
		return nil, false, notFound("Document")
	}
	if !validUUID(personID) {
		return nil, false, casefile.Errorf(casefile.EUnprocessable, "person_not_found", "person_id names no person.")
	}
	var out *casefile.Document
	var existing string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var from, status, sha string
		var parent *string
		err := tx.QueryRow(ctx, "SELECT person_id, parent_id, status, sha256 FROM documents WHERE id = $1 FOR UPDATE", id).
			Scan(&from, &parent, &status, &sha)
		if err == pgx.ErrNoRows {
			return notFound("Document")
		}
		if err != nil {
			return err
		}
		if parent != nil {
			return casefile.Errorf(casefile.EUnprocessable, "attachment_not_linkable",
				"This is an attachment of document %s: link that email, and its attachments go with it.", *parent)
		}
		if status != casefile.StatusActive {
			return casefile.Errorf(casefile.EConflict, "document_not_active", "This document was %s; there is nothing left to file on another record.", status)
		}
		if from == personID {
			return casefile.Errorf(casefile.EConflict, "same_person", "The document is already on this person's record.")
		}
		if err := personWritable(ctx, tx, personID); casefile.ErrorKind(err) == casefile.ENotFound {
			return casefile.Errorf(casefile.EUnprocessable, "person_not_found", "person_id names no person.")
		} else if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id::text FROM documents WHERE person_id = $1 AND sha256 = $2 AND parent_id IS NULL
			AND status = 'active'`, personID, sha).Scan(&existing); err == nil {
			return nil
		} else if err != pgx.ErrNoRows {
			return err
		}
		// The tree, parents before their attachments, locked so that no
		// removal or destruction lets go of the objects meanwhile.
		rows, err := tx.Query(ctx, `WITH RECURSIVE tree AS (SELECT id, 0 AS depth FROM documents WHERE id = $1
			UNION ALL SELECT c.id, t.depth + 1 FROM documents c JOIN tree t ON c.parent_id = t.id)
			SELECT d.id::text, d.object_key FROM tree JOIN documents d USING (id) WHERE d.status = 'active'
			ORDER BY tree.depth, d.created_at, d.id FOR UPDATE OF d`, id)
		if err != nil {
			return err
		}
		type pair struct{ old, key string }
		src, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
			var p pair
			return p, r.Scan(&p.old, &p.key)
		})
		if err != nil {
			return err
		}
		olds, news, keys := make([]string, len(src)), make([]string, len(src)), make([]string, len(src))
		for i, p := range src {
			olds[i], news[i], keys[i] = p.old, newID(), p.key
		}
		if err := lockObjects(ctx, tx, keys); err != nil {
			return err
		}
		actor := casefile.ActorFrom(ctx).String()
		// The new rows copy what was parsed or extracted (and where that
		// stands) and what the object store holds now (its retain-until and
		// legal hold); the sync task then brings
		// the object's lock in line with both records.
		if _, err := tx.Exec(ctx, `WITH m AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS m(old, new))
			INSERT INTO documents (id, person_id, kind, parent_id, filename, title, category, content_type, declared_content_type,
				size, sha256, object_key, object_version, created_by, parse_warnings, email, body_text, retain_until,
				legal_hold, legal_hold_applied, linked_from, text_state, text_source, text_warning)
			SELECT m.new, $3, d.kind, pm.new, d.filename, d.title, d.category, d.content_type, d.declared_content_type,
				d.size, d.sha256, d.object_key, d.object_version, $4, d.parse_warnings, d.email, d.body_text, d.retain_until,
				d.legal_hold, d.legal_hold_applied, d.id, d.text_state, d.text_source, d.text_warning
			FROM m JOIN documents d ON d.id = m.old LEFT JOIN m pm ON pm.old = d.parent_id`,
			olds, news, personID, actor); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "documents_dedup" {
				return casefile.Errorf(casefile.EConflict, "duplicate_document", "The same file became active on this person's record meanwhile; link again.")
			}
			return err
		}
		// A hold on the new record holds the object as well.
		if _, err := tx.Exec(ctx, `UPDATE documents SET legal_hold = true WHERE object_key = ANY($1) AND status = 'active'
			AND NOT legal_hold AND `+heldBy("$2::uuid")+` IS NOT NULL`, keys, personID); err != nil {
			return err
		}
		if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, "link:"+news[0]+":sync", map[string]string{"document_id": news[0]}); err != nil {
			return err
		}
		// A copy whose text is still to be extracted gets its own
		// extraction (the same object, read again), as an upload's does.
		rows, err = tx.Query(ctx, "SELECT id::text FROM documents WHERE id = ANY($1) AND text_state = 'pending'", news)
		if err != nil {
			return err
		}
		pending, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, p := range pending {
			if err := enqueueTx(ctx, tx, casefile.TaskDocumentExtract, extractTaskID(p, ""), map[string]string{"document_id": p}); err != nil {
				return err
			}
		}
		d, err := scanDocument(tx.QueryRow(ctx, "SELECT "+documentColumns+" FROM documents WHERE id = $1", news[0]))
		if err != nil {
			return err
		}
		if err := db.loadAttachments(ctx, tx, d); err != nil {
			return err
		}
		out = d
		return db.appendAudits(ctx, tx, []auditEntry{
			{Action: "document.link_out", TargetType: "document", TargetID: id, PersonID: from,
				Details: map[string]any{"to_person_id": personID, "link_id": d.ID, "documents": len(src)}},
			{Action: "document.link_in", TargetType: "document", TargetID: d.ID, PersonID: personID,
				Details: map[string]any{"from_person_id": from, "from_document_id": id, "documents": len(src)}},
		})
	})
	if err != nil {
		return nil, false, err
	}
	if existing != "" {
		// The answer shows a document already on the record: an audited read.
		d, err := db.ShowDocument(ctx, existing, "link_existing")
		return d, true, err
	}
	return out, false, nil
}
