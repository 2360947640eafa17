package postgres

import (
	"context"

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
