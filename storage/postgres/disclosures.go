package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.DisclosureStore = (*DB)(nil)

// Disclosures keep only offsets, reason codes and item ids of what the
// reviewer hides; their audit events the same. The requester's name stays on
// the row (the log keeps its digest).

const disclosureColumns = `id, person_id, purpose, requester, received_on, due_on, state, created_by, created_at,
	approvals, coalesce(submitted_by, ''), coalesce(submitted_by_id, ''), finished_at, coalesce(size, 0), coalesce(sha256, ''), coalesce(error, ''), reviewed`

func scanDisclosure(row pgx.Row) (*casefile.Disclosure, error) {
	var d casefile.Disclosure
	var approvals, reviewed []byte
	if err := row.Scan(&d.ID, &d.PersonID, &d.Purpose, &d.Requester, &d.ReceivedOn, &d.DueOn, &d.State, &d.CreatedBy,
		&d.CreatedAt, &approvals, &d.SubmittedBy, &d.SubmittedByID, &d.FinishedAt, &d.Size, &d.SHA256, &d.Error, &reviewed); err != nil {
		return nil, err
	}
	d.CreatedAt = d.CreatedAt.UTC()
	if d.FinishedAt != nil {
		t := d.FinishedAt.UTC()
		d.FinishedAt = &t
	}
	d.Approvals = []casefile.DisclosureApproval{}
	if err := json.Unmarshal(approvals, &d.Approvals); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(reviewed, &d.Reviewed); err != nil {
		return nil, err
	}
	d.Redactions, d.Withholdings, d.Decisions = []*casefile.Redaction{}, []*casefile.Withholding{}, []*casefile.SuggestionDecision{}
	return &d, nil
}

// CreateDisclosure opens a draft disclosure of a person's record.
func (db *DB) CreateDisclosure(ctx context.Context, personID string, in casefile.DisclosureInput) (*casefile.Disclosure, error) {
	a := casefile.ActorFrom(ctx)
	var d *casefile.Disclosure
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personWritable(ctx, tx, personID); err != nil {
			return err
		}
		var err error
		d, err = scanDisclosure(tx.QueryRow(ctx, `INSERT INTO disclosures (id, person_id, purpose, requester, received_on, due_on, created_by, created_by_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING `+disclosureColumns,
			newID(), personID, in.Purpose, in.Requester, in.ReceivedOn, in.DueOn, a.String(), a.ID))
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.create", TargetType: "disclosure", TargetID: d.ID, PersonID: personID,
			Details: typedText(map[string]any{"purpose": in.Purpose, "received_on": in.ReceivedOn.String(), "due_on": in.DueOn.String()},
				"requester", in.Requester)})
	})
	return d, err
}

// disclosureTx reads a disclosure with its redactions, withholdings and
// decisions; lock holds its row for an update.
func disclosureTx(ctx context.Context, tx pgx.Tx, id string, lock bool) (*casefile.Disclosure, error) {
	if !validUUID(id) {
		return nil, notFound("Disclosure")
	}
	q := "SELECT " + disclosureColumns + " FROM disclosures WHERE id = $1"
	if lock {
		q += " FOR UPDATE"
	}
	d, err := scanDisclosure(tx.QueryRow(ctx, q, id))
	if err == pgx.ErrNoRows {
		return nil, notFound("Disclosure")
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT id, target_type, target_id, start_at, end_at, reason, created_by, created_at, text_sha256
		FROM disclosure_redactions WHERE disclosure_id = $1 ORDER BY target_type, target_id, start_at, end_at, id`, id)
	if err != nil {
		return nil, err
	}
	d.Redactions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Redaction, error) {
		var x casefile.Redaction
		err := r.Scan(&x.ID, &x.TargetType, &x.TargetID, &x.Start, &x.End, &x.Reason, &x.By, &x.At, &x.TextSHA256)
		x.At = x.At.UTC()
		return &x, err
	})
	if err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT id, document_id, reason, created_by, created_at FROM disclosure_withholdings
		WHERE disclosure_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		return nil, err
	}
	d.Withholdings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Withholding, error) {
		var x casefile.Withholding
		err := r.Scan(&x.ID, &x.DocumentID, &x.Reason, &x.By, &x.At)
		x.At = x.At.UTC()
		return &x, err
	})
	if err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT target_type, target_id, start_at, end_at, kind, decision, coalesce(redaction_id::text, ''), created_by, created_at
		FROM disclosure_suggestion_decisions WHERE disclosure_id = $1 ORDER BY created_at`, id)
	if err != nil {
		return nil, err
	}
	d.Decisions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.SuggestionDecision, error) {
		var x casefile.SuggestionDecision
		err := r.Scan(&x.TargetType, &x.TargetID, &x.Start, &x.End, &x.Kind, &x.Decision, &x.RedactionID, &x.By, &x.At)
		x.At = x.At.UTC()
		return &x, err
	})
	return d, err
}

// Disclosure returns a disclosure, audited as a read of the record: who asks
// for what of whose record, and what is hidden, is about the person.
func (db *DB) Disclosure(ctx context.Context, id string) (*casefile.Disclosure, error) {
	var d *casefile.Disclosure
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		if d, err = disclosureTx(ctx, tx, id, false); err != nil {
			return err
		}
		return db.auditShown(ctx, tx, "disclosure.read", map[string]any{"disclosure_id": d.ID}, []string{d.PersonID}, map[string]int{d.PersonID: 1})
	})
	return d, err
}

// PersonDisclosures lists a person's disclosures, newest first, without
// their redactions.
func (db *DB) PersonDisclosures(ctx context.Context, personID string) ([]*casefile.Disclosure, error) {
	var out []*casefile.Disclosure
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+disclosureColumns+" FROM disclosures WHERE person_id = $1 ORDER BY created_at DESC, id", personID)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Disclosure, error) { return scanDisclosure(r) }); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		return db.auditShown(ctx, tx, "disclosure.list", nil, []string{personID}, map[string]int{personID: len(out)})
	})
	return out, err
}

// sourceTx reads what a disclosure is made of: the person, the active notes
// with their current body, and the active documents with their text,
// parents before their attachments.
func (db *DB) sourceTx(ctx context.Context, tx pgx.Tx, d *casefile.Disclosure) (*casefile.DisclosureSource, error) {
	p, err := db.personTx(ctx, tx, d.PersonID)
	if err != nil {
		return nil, err
	}
	src := &casefile.DisclosureSource{Disclosure: d, Person: p}
	rows, err := tx.Query(ctx, noteSelect+` WHERE n.person_id = $1 AND n.status = 'active'
		ORDER BY n.occurred_at, n.recorded_at, n.id`, d.PersonID)
	if err != nil {
		return nil, err
	}
	if src.Notes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Note, error) { return scanNote(r) }); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `
		WITH RECURSIVE tree AS (
			SELECT d.*, ARRAY[d.created_at::text || d.id::text] AS ord FROM documents d
			WHERE d.person_id = $1 AND d.parent_id IS NULL AND d.status = 'active'
			UNION ALL
			SELECT c.*, t.ord || (c.created_at::text || c.id::text) FROM documents c JOIN tree t ON c.parent_id = t.id
			WHERE c.status = 'active'
		)
		SELECT `+documentColumns+`, coalesce(body_text, '') FROM tree ORDER BY ord`, d.PersonID)
	if err != nil {
		return nil, err
	}
	src.Documents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Document, error) {
		var text string
		doc, err := scanDocument(rowWithExtra{r, &text})
		if doc != nil {
			doc.Text = text
		}
		return doc, err
	})
	return src, err
}

// DisclosureDraft returns a disclosure and its record's content, audited
// as a read of the record under action, counting the items shown.
func (db *DB) DisclosureDraft(ctx context.Context, id, action string) (*casefile.DisclosureSource, error) {
	var src *casefile.DisclosureSource
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		d, err := disclosureTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if src, err = db.sourceTx(ctx, tx, d); err != nil {
			return err
		}
		n := len(src.Notes) + len(src.Documents)
		return db.auditShown(ctx, tx, action, map[string]any{"disclosure_id": d.ID, "items": n}, []string{d.PersonID}, map[string]int{d.PersonID: 1})
	})
	return src, err
}

// DisclosureSource is DisclosureDraft without the audit: the operations
// that call it (a redaction's check, the build) are audited themselves.
func (db *DB) DisclosureSource(ctx context.Context, id string) (*casefile.DisclosureSource, error) {
	var src *casefile.DisclosureSource
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := disclosureTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		src, err = db.sourceTx(ctx, tx, d)
		return err
	})
	return src, err
}

// lockDraft locks a disclosure that must be a draft for a change.
func lockDraft(ctx context.Context, tx pgx.Tx, id string) (*casefile.Disclosure, error) {
	if !validUUID(id) {
		return nil, notFound("Disclosure")
	}
	var d casefile.Disclosure
	err := tx.QueryRow(ctx, "SELECT id, person_id, state FROM disclosures WHERE id = $1 FOR UPDATE", id).Scan(&d.ID, &d.PersonID, &d.State)
	if err == pgx.ErrNoRows {
		return nil, notFound("Disclosure")
	}
	if err != nil {
		return nil, err
	}
	if d.State != casefile.DisclosureDraft {
		return nil, casefile.Errorf(casefile.EConflict, "disclosure_not_draft",
			"This disclosure is %s; redactions, withholdings and suggestions change only while it is a draft.", d.State)
	}
	return &d, nil
}

func redactionDetails(r *casefile.Redaction) map[string]any {
	return map[string]any{"redaction_id": r.ID, "target_type": r.TargetType, "target_id": r.TargetID,
		"start": r.Start, "end": r.End, "reason": r.Reason}
}

func insertRedaction(ctx context.Context, tx pgx.Tx, id string, r *casefile.Redaction) error {
	r.ID = newID()
	r.By = casefile.ActorFrom(ctx).String()
	err := tx.QueryRow(ctx, `INSERT INTO disclosure_redactions (id, disclosure_id, target_type, target_id, start_at, end_at, reason, text_sha256, created_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING created_at`,
		r.ID, id, r.TargetType, r.TargetID, r.Start, r.End, r.Reason, r.TextSHA256, r.By).Scan(&r.At)
	r.At = r.At.UTC()
	return err
}

// AddRedaction records a redaction of a draft (the caller checked its
// offsets against the item's text, whose digest it carries).
func (db *DB) AddRedaction(ctx context.Context, id string, r *casefile.Redaction) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := insertRedaction(ctx, tx, id, r); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.redact", TargetType: "disclosure", TargetID: id,
			PersonID: d.PersonID, Details: redactionDetails(r)})
	})
}

// RemoveRedaction takes a redaction back out of a draft.
func (db *DB) RemoveRedaction(ctx context.Context, id, redactionID string) error {
	if !validUUID(redactionID) {
		return notFound("Redaction")
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		var r casefile.Redaction
		err = tx.QueryRow(ctx, `DELETE FROM disclosure_redactions WHERE id = $1 AND disclosure_id = $2
			RETURNING id, target_type, target_id, start_at, end_at, reason`, redactionID, id).
			Scan(&r.ID, &r.TargetType, &r.TargetID, &r.Start, &r.End, &r.Reason)
		if err == pgx.ErrNoRows {
			return notFound("Redaction")
		}
		if err != nil {
			return err
		}
		// An accepted suggestion whose redaction is taken back is open again.
		if _, err := tx.Exec(ctx, "DELETE FROM disclosure_suggestion_decisions WHERE disclosure_id = $1 AND redaction_id = $2", id, redactionID); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.unredact", TargetType: "disclosure", TargetID: id,
			PersonID: d.PersonID, Details: redactionDetails(&r)})
	})
}

// Withhold leaves one of the record's active documents out of the bundle.
func (db *DB) Withhold(ctx context.Context, id, documentID, reason string) (*casefile.Withholding, error) {
	if !validUUID(documentID) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "document_not_found", "document_id names no document of this record.")
	}
	w := &casefile.Withholding{ID: newID(), DocumentID: documentID, Reason: reason, By: casefile.ActorFrom(ctx).String()}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		var one int
		err = tx.QueryRow(ctx, "SELECT 1 FROM documents WHERE id = $1 AND person_id = $2 AND status = 'active'", documentID, d.PersonID).Scan(&one)
		if err == pgx.ErrNoRows {
			return casefile.Errorf(casefile.EUnprocessable, "document_not_found", "document_id names no document of this record.")
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO disclosure_withholdings (id, disclosure_id, document_id, reason, created_by)
			VALUES ($1,$2,$3,$4,$5) RETURNING created_at`, w.ID, id, documentID, reason, w.By).Scan(&w.At)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "already_withheld", "This document is already withheld from this disclosure.")
		}
		if err != nil {
			return err
		}
		w.At = w.At.UTC()
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.withhold", TargetType: "disclosure", TargetID: id,
			PersonID: d.PersonID, Details: map[string]any{"document_id": documentID, "reason": reason}})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Unwithhold puts a withheld document back.
func (db *DB) Unwithhold(ctx context.Context, id, documentID string) error {
	if !validUUID(documentID) {
		return notFound("Withholding")
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM disclosure_withholdings WHERE disclosure_id = $1 AND document_id = $2", id, documentID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("Withholding")
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.unwithhold", TargetType: "disclosure", TargetID: id,
			PersonID: d.PersonID, Details: map[string]any{"document_id": documentID}})
	})
}

// DecideSuggestion records the reviewer's answer to a suggested span; an
// accepted one becomes the redaction r in the same transaction.
func (db *DB) DecideSuggestion(ctx context.Context, id string, s *casefile.SuggestionDecision, r *casefile.Redaction) error {
	s.By = casefile.ActorFrom(ctx).String()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		details := map[string]any{"target_type": s.TargetType, "target_id": s.TargetID, "start": s.Start, "end": s.End,
			"kind": s.Kind, "decision": s.Decision}
		var redactionID *string
		if r != nil {
			if err := insertRedaction(ctx, tx, id, r); err != nil {
				return err
			}
			redactionID, s.RedactionID = &r.ID, r.ID
			details["redaction_id"], details["reason"] = r.ID, r.Reason
		}
		err = tx.QueryRow(ctx, `INSERT INTO disclosure_suggestion_decisions (disclosure_id, target_type, target_id, start_at, end_at, kind, decision, redaction_id, created_by)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING created_at`,
			id, s.TargetType, s.TargetID, s.Start, s.End, s.Kind, s.Decision, redactionID, s.By).Scan(&s.At)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "already_decided", "This suggestion was already accepted or rejected.")
		}
		if err != nil {
			return err
		}
		s.At = s.At.UTC()
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.suggestion", TargetType: "disclosure", TargetID: id,
			PersonID: d.PersonID, Details: details})
	})
}

// DisclosureCandidates lists the persons who may be third parties in a
// record: everyone on the system but the subject, whose record is not
// destroyed (a destroyed record keeps no names).
func (db *DB) DisclosureCandidates(ctx context.Context, exclude string) ([]*casefile.Person, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, external_ref, coalesce(given_name, ''), coalesce(family_name, '')
		FROM persons WHERE id <> $1 AND status <> 'destroyed'`, exclude)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) {
		var p casefile.Person
		return &p, r.Scan(&p.ID, &p.ExternalRef, &p.GivenName, &p.FamilyName)
	})
	return out, mapError(err)
}

// OverdueDisclosures lists the open disclosures (not ready, not withdrawn)
// due before asOf, the most overdue first: ids, dates and states only.
func (db *DB) OverdueDisclosures(ctx context.Context, asOf casefile.Date) ([]*casefile.Disclosure, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, person_id, purpose, received_on, due_on, state, created_by, created_at
		FROM disclosures WHERE state NOT IN ('ready','withdrawn') AND due_on < $1 ORDER BY due_on, id`, asOf)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Disclosure, error) {
		var d casefile.Disclosure
		err := r.Scan(&d.ID, &d.PersonID, &d.Purpose, &d.ReceivedOn, &d.DueOn, &d.State, &d.CreatedBy, &d.CreatedAt)
		d.CreatedAt = d.CreatedAt.UTC()
		return &d, err
	})
	return out, mapError(err)
}
