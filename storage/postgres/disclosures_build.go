package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// queueBuild moves a disclosure to finalising and queues its build in the
// same transaction (each build a task of its own: a failed disclosure
// returned to draft and finalised again builds again).
func queueBuild(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, "UPDATE disclosures SET state = 'finalising', error = NULL WHERE id = $1", id); err != nil {
		return err
	}
	return enqueueTx(ctx, tx, casefile.TaskDisclosureBuild, "disclosure:"+id+":"+newID(), map[string]string{"disclosure_id": id})
}

// FinaliseDisclosure records who finalised a draft and the items as they
// were reviewed; with one approver the build is queued, with more the
// disclosure waits for a second person's approval.
func (db *DB) FinaliseDisclosure(ctx context.Context, id string, approvers int, reviewed []casefile.ReviewedItem) (*casefile.Disclosure, error) {
	a := casefile.ActorFrom(ctx)
	var d *casefile.Disclosure
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		dr, err := lockDraft(ctx, tx, id)
		if err != nil {
			return err
		}
		items, err := json.Marshal(reviewed)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET submitted_by = $2, submitted_by_id = $3, submitted_at = now(),
			reviewed = $4, approvals = '[]', state = 'awaiting_approval' WHERE id = $1`, id, a.String(), a.ID, items); err != nil {
			return err
		}
		action := "disclosure.submit"
		if approvers <= 1 {
			action = "disclosure.finalise"
			if err := queueBuild(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: action, TargetType: "disclosure", TargetID: id, PersonID: dr.PersonID,
			Details: map[string]any{"items": len(reviewed), "approvers": approvers}}); err != nil {
			return err
		}
		d, err = disclosureTx(ctx, tx, id, false)
		return err
	})
	return d, err
}

// lockAwaitingDisclosure locks a disclosure awaiting approval.
func lockAwaitingDisclosure(ctx context.Context, tx pgx.Tx, id string) (personID, submitter, submitterID string, err error) {
	if !validUUID(id) {
		return "", "", "", notFound("Disclosure")
	}
	var state string
	err = tx.QueryRow(ctx, "SELECT person_id, state, coalesce(submitted_by, ''), coalesce(submitted_by_id, '') FROM disclosures WHERE id = $1 FOR UPDATE", id).
		Scan(&personID, &state, &submitter, &submitterID)
	if err == pgx.ErrNoRows {
		return "", "", "", notFound("Disclosure")
	}
	if err == nil && state != casefile.DisclosureAwaitingApproval {
		err = casefile.Errorf(casefile.EConflict, "disclosure_not_awaiting_approval", "This disclosure is %s; only one awaiting approval is approved or returned.", state)
	}
	return personID, submitter, submitterID, err
}

// ApproveDisclosure records a second person's approval and queues the
// build. The person who finalised it cannot approve it.
func (db *DB) ApproveDisclosure(ctx context.Context, id string) (*casefile.Disclosure, error) {
	a := casefile.ActorFrom(ctx)
	var d *casefile.Disclosure
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		personID, submitter, submitterID, err := lockAwaitingDisclosure(ctx, tx, id)
		if err != nil {
			return err
		}
		if (a.ID != "" && a.ID == submitterID) || (a.ID == "" && a.String() == submitter) {
			return casefile.Errorf(casefile.EConflict, "same_person",
				"You finalised this disclosure; a different person must approve it (CASEFILE_DISCLOSURE_APPROVERS=2).")
		}
		ap, err := json.Marshal([]casefile.DisclosureApproval{{By: a.String(), ByID: a.ID, At: db.now().UTC()}})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE disclosures SET approvals = approvals || $2::jsonb WHERE id = $1", id, ap); err != nil {
			return err
		}
		if err := queueBuild(ctx, tx, id); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.approve", TargetType: "disclosure", TargetID: id, PersonID: personID}); err != nil {
			return err
		}
		d, err = disclosureTx(ctx, tx, id, false)
		return err
	})
	return d, err
}

// ReturnDisclosure sends a disclosure awaiting approval, or one whose build
// failed, back to draft for more review.
func (db *DB) ReturnDisclosure(ctx context.Context, id string) (*casefile.Disclosure, error) {
	var d *casefile.Disclosure
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if !validUUID(id) {
			return notFound("Disclosure")
		}
		var personID, state string
		err := tx.QueryRow(ctx, "SELECT person_id, state FROM disclosures WHERE id = $1 FOR UPDATE", id).Scan(&personID, &state)
		if err == pgx.ErrNoRows {
			return notFound("Disclosure")
		}
		if err != nil {
			return err
		}
		if state != casefile.DisclosureAwaitingApproval && state != casefile.DisclosureFailed {
			return casefile.Errorf(casefile.EConflict, "disclosure_not_returnable",
				"This disclosure is %s; only one awaiting approval or whose build failed goes back to draft.", state)
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET state = 'draft', approvals = '[]', submitted_by = NULL,
			submitted_by_id = NULL, submitted_at = NULL, reviewed = '[]' WHERE id = $1`, id); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.return", TargetType: "disclosure", TargetID: id, PersonID: personID,
			Details: map[string]any{"from": state}}); err != nil {
			return err
		}
		d, err = disclosureTx(ctx, tx, id, false)
		return err
	})
	return d, err
}

// StartDisclosureBuild returns a finalising disclosure with its content for
// the build; any other state is EConflict (a redelivered task builds nothing).
func (db *DB) StartDisclosureBuild(ctx context.Context, id string) (*casefile.DisclosureSource, error) {
	var src *casefile.DisclosureSource
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		d, err := disclosureTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if d.State != casefile.DisclosureFinalising {
			return casefile.Errorf(casefile.EConflict, "disclosure_"+d.State, "This disclosure is %s; it is not built.", d.State)
		}
		src, err = db.sourceTx(ctx, tx, d)
		return err
	})
	return src, err
}

// FinishDisclosureBuild records the stored bundle, or the failure. A
// disclosure withdrawn meanwhile stays withdrawn and its object is left for
// RetiredBundles to destroy.
func (db *DB) FinishDisclosureBuild(ctx context.Context, id, objectKey string, size int64, sha, errText string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var personID, state string
		if err := tx.QueryRow(ctx, "SELECT person_id, state FROM disclosures WHERE id = $1 FOR UPDATE", id).Scan(&personID, &state); err != nil {
			return err
		}
		if errText != "" {
			if state != casefile.DisclosureFinalising {
				return nil
			}
			if _, err := tx.Exec(ctx, "UPDATE disclosures SET state = 'failed', error = $2, finished_at = now() WHERE id = $1", id, errText); err != nil {
				return err
			}
			return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.fail", TargetType: "disclosure", TargetID: id, PersonID: personID,
				Details: map[string]string{"error": errText}})
		}
		newState := casefile.DisclosureReady
		if state == casefile.DisclosureWithdrawn {
			newState = state
		}
		if _, err := tx.Exec(ctx, `UPDATE disclosures SET state = $2, object_key = $3, size = $4, sha256 = $5, finished_at = now()
			WHERE id = $1`, id, newState, objectKey, size, sha); err != nil {
			return err
		}
		if newState == casefile.DisclosureWithdrawn {
			return nil
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.build", TargetType: "disclosure", TargetID: id, PersonID: personID,
			Details: map[string]any{"size": size, "sha256": sha}})
	})
}

// DisclosureObject returns a ready bundle's object key and audits the download.
func (db *DB) DisclosureObject(ctx context.Context, id string) (*casefile.Disclosure, string, error) {
	var d *casefile.Disclosure
	var key string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if d, err = disclosureTx(ctx, tx, id, false); err != nil {
			return err
		}
		switch d.State {
		case casefile.DisclosureReady:
		case casefile.DisclosureWithdrawn:
			return casefile.Errorf(casefile.EGone, "disclosure_withdrawn", "This bundle was withdrawn and destroyed: %s", d.Error)
		default:
			return casefile.Errorf(casefile.EConflict, "disclosure_not_ready", "This disclosure is %s; its bundle can be downloaded once it is ready.", d.State)
		}
		if err := tx.QueryRow(ctx, "SELECT object_key FROM disclosures WHERE id = $1", id).Scan(&key); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "disclosure.download", TargetType: "disclosure", TargetID: id, PersonID: d.PersonID})
	})
	return d, key, err
}

// withdrawDisclosures withdraws the person's disclosures being built or
// ready when something on the record is removed or the record destroyed,
// in that transaction, and audits each; their objects are destroyed with
// the retired export bundles (RetiredBundles).
func (db *DB) withdrawDisclosures(ctx context.Context, tx pgx.Tx, persons []string, why string) error {
	rows, err := tx.Query(ctx, `UPDATE disclosures SET state = 'withdrawn', error = $2
		WHERE person_id = ANY($1) AND state IN ('finalising', 'ready') RETURNING id, person_id`, persons, why)
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
		entries[i] = auditEntry{Action: "disclosure.withdraw", TargetType: "disclosure", TargetID: w.id, PersonID: w.person,
			Details: map[string]any{"reason": why}}
	}
	return db.appendAudits(ctx, tx, entries)
}
