package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// docTreeIDs returns a document and its descendants.
func docTreeIDs(ctx context.Context, tx pgx.Tx, id string) ([]string, []string, error) {
	rows, err := tx.Query(ctx, `WITH RECURSIVE tree AS (SELECT id, object_key FROM documents WHERE id = $1
		UNION ALL SELECT c.id, c.object_key FROM documents c JOIN tree t ON c.parent_id = t.id) SELECT id, object_key FROM tree`, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids, keys []string
	for rows.Next() {
		var i, k string
		if err := rows.Scan(&i, &k); err != nil {
			return nil, nil, err
		}
		ids, keys = append(ids, i), append(keys, k)
	}
	return ids, keys, rows.Err()
}

// complete marks the ticket done and audits the effect, in tx.
func (db *DB) complete(ctx context.Context, tx pgx.Tx, t *casefile.Ticket, effect string, extra map[string]any) error {
	tag, err := tx.Exec(ctx, "UPDATE tickets SET state = 'done', completed_at = now(), error = NULL WHERE id = $1 AND state = 'approved'", t.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil // already done: a repeated delivery changes nothing
	}
	if extra == nil {
		extra = map[string]any{}
	}
	extra["approved_by"] = t.DecidedBy
	extra["raised_by"] = t.RaisedBy
	if err := db.appendAudit(ctx, tx, auditEntry{Action: effect, TargetType: t.TargetType, TargetID: t.TargetID, PersonID: t.PersonID,
		Details: mergeMap(map[string]any{"ticket_id": t.ID}, extra)}); err != nil {
		return err
	}
	t.State = casefile.TicketDone
	return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.done", nil))
}

func mergeMap(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// refuseUnderHold stops a removal while a legal hold covers the person: a
// hold (an inquiry's moratorium, litigation) outranks the policy's removal.
func refuseUnderHold(ctx context.Context, tx pgx.Tx, personID string) error {
	var names *string
	if err := tx.QueryRow(ctx, "SELECT "+heldBy("$1::uuid"), personID).Scan(&names); err != nil {
		return err
	}
	if names != nil {
		return casefile.Errorf(casefile.EConflict, "under_legal_hold",
			"The record is under a legal hold (%s); nothing on it can be destroyed until the records officer releases the hold.", *names)
	}
	return nil
}

// ticketStep runs one step of an approved ticket's work in a transaction
// that holds the ticket's row lock, so that two deliveries of the same task
// never run a step at once and the second finds the work done. A ticket that
// is no longer approved (done by the other delivery, failed, or sent back)
// makes the step do nothing. fn gets the ticket as stored now.
//
// The step also locks the target's row and reads where it is now. A removal
// or reopen acts on the person the target is on now, which a re-index may
// have changed since the ticket was raised: the hold checked, the bundles
// withdrawn and the audit trail written are that person's. The ticket is
// moved to that person (audited as ticket.follow on their trail). A re-index
// keeps the person it was raised against: it moves the target from there,
// and refuses (target_moved) when it is no longer there.
func (db *DB) ticketStep(ctx context.Context, id string, fn func(tx pgx.Tx, t *casefile.Ticket) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		t, err := lockTicket(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.State != casefile.TicketApproved {
			return nil
		}
		// A removal checks holds under the hold lock. Take it before the
		// target's row: a new hold takes it first and then the rows of the
		// documents it covers, so the other order could deadlock.
		if t.Kind == casefile.TicketRemoval {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
				return err
			}
		}
		if err := db.followTarget(ctx, tx, t); err != nil {
			return err
		}
		return fn(tx, t)
	})
}

// followTarget locks the ticket's target and, for a removal or reopen whose
// target is now on another person, moves the ticket there.
func (db *DB) followTarget(ctx context.Context, tx pgx.Tx, t *casefile.Ticket) error {
	person, _, _, _, err := targetOf(ctx, tx, t.TargetType, t.TargetID, true)
	if err != nil || t.Kind == casefile.TicketReindex || person == t.PersonID {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE tickets SET person_id = $2 WHERE id = $1", t.ID, person); err != nil {
		return err
	}
	from := t.PersonID
	t.PersonID = person
	return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.follow", map[string]any{"from_person_id": from,
		"why": "the " + t.TargetType + " was re-indexed to this record after the ticket was raised"}))
}

// MarkDocumentRemoved marks the document tree removed (first step of a
// removal), so that reads show it removed and content answers 410 at once.
// It returns the object keys still to destroy (those no other record's
// active document names); none when the ticket is no longer approved.
func (db *DB) MarkDocumentRemoved(ctx context.Context, t *casefile.Ticket) ([]string, error) {
	var keys []string
	err := db.ticketStep(ctx, t.ID, func(tx pgx.Tx, t *casefile.Ticket) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, "SELECT status FROM documents WHERE id = $1", t.TargetID).Scan(&status); err != nil {
			return err
		}
		if status == casefile.StatusActive {
			// Once removed, a hold placed later does not undo the removal:
			// the content is already unreadable and the retry must finish.
			if err := refuseUnderHold(ctx, tx, t.PersonID); err != nil {
				return err
			}
		}
		ids, ks, err := docTreeIDs(ctx, tx, t.TargetID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE documents SET status = 'removed', removed_at = coalesce(removed_at, now()), removal_ticket_id = $2
			WHERE id = ANY($1) AND status = 'active'`, ids, t.ID)
		if err != nil {
			return err
		}
		// An object that another record still files (a sibling link) stays:
		// the last record to let it go destroys it.
		if keys, err = objectsLetGo(ctx, tx, ks, nil); err != nil || tag.RowsAffected() == 0 {
			return err // a retry: the bundles were withdrawn the first time
		}
		return db.withdrawExports(ctx, tx, t.PersonID, t)
	})
	return keys, err
}

// removedFilename is what a removed or destroyed document is called: the
// sender chose its filename ("Referral re Amy Pond – allegation against J
// Smith.pdf"), and that is content.
const removedFilename = `'removed-' || id::text`

// ClearDocumentContent destroys what was parsed from the removed documents
// and their filenames, completes the ticket, and then purges the old row
// versions.
func (db *DB) ClearDocumentContent(ctx context.Context, t *casefile.Ticket) error {
	err := db.ticketStep(ctx, t.ID, func(tx pgx.Tx, t *casefile.Ticket) error {
		ids, _, err := docTreeIDs(ctx, tx, t.TargetID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE documents SET body_text = NULL, email = NULL, parse_warnings = '[]', title = '',
			text_state = 'none', text_source = NULL, text_warning = NULL,
			filename = `+removedFilename+` WHERE id = ANY($1) AND status = 'removed'`, ids); err != nil {
			return err
		}
		return db.complete(ctx, tx, t, "document.remove", map[string]any{"documents": len(ids)})
	})
	if err == nil {
		db.purgeDead(ctx, true, "documents")
	}
	return err
}

// RemoveNote destroys a note's content, every version, and completes the
// ticket, in one transaction: status first (the trigger allows bodies to be
// cleared only then), then every version's body; after the commit it purges
// the old row versions.
func (db *DB) RemoveNote(ctx context.Context, t *casefile.Ticket) error {
	err := db.removeNote(ctx, t)
	if err == nil {
		db.purgeDead(ctx, true, "notes", "note_versions")
	}
	return err
}

func (db *DB) removeNote(ctx context.Context, t *casefile.Ticket) error {
	return db.ticketStep(ctx, t.ID, func(tx pgx.Tx, t *casefile.Ticket) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		if err := refuseUnderHold(ctx, tx, t.PersonID); err != nil {
			return err
		}
		// The correction's reason goes with the body: it is content too.
		if tag, err := tx.Exec(ctx, `UPDATE notes SET status = 'removed', removed_at = coalesce(removed_at, now()), removal_ticket_id = $2,
			reopened_by_ticket = NULL, correction_reason = NULL WHERE id = $1 AND status = 'active'`, t.TargetID, t.ID); err != nil {
			return err
		} else if tag.RowsAffected() > 0 {
			if err := db.withdrawExports(ctx, tx, t.PersonID, t); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE note_versions SET body = NULL, reason = NULL WHERE note_id = $1
			AND (body IS NOT NULL OR reason IS NOT NULL)`, t.TargetID)
		if err != nil {
			return err
		}
		return db.complete(ctx, tx, t, "note.remove", map[string]any{"versions_destroyed": tag.RowsAffected()})
	})
}

// Reindex moves the target (a note with its corrections, or a document with
// its attachments) to the right person and completes the ticket, in one transaction. It refuses, failing
// the ticket, when the target is no longer active or no longer on the person
// the ticket was raised against, or when the right person already holds the
// same file.
func (db *DB) Reindex(ctx context.Context, t *casefile.Ticket) error {
	return db.ticketStep(ctx, t.ID, func(tx pgx.Tx, t *casefile.Ticket) error {
		to := *t.ToPersonID
		var person, status string
		var sha *string
		var err error
		var corrects *string
		switch t.TargetType {
		case "note":
			err = tx.QueryRow(ctx, "SELECT person_id, status, corrects_note_id FROM notes WHERE id = $1 FOR UPDATE", t.TargetID).
				Scan(&person, &status, &corrects)
		case "document":
			err = tx.QueryRow(ctx, "SELECT person_id, status, sha256 FROM documents WHERE id = $1 FOR UPDATE", t.TargetID).Scan(&person, &status, &sha)
		}
		if err != nil {
			return err
		}
		if status != casefile.StatusActive {
			return casefile.Errorf(casefile.EConflict, "target_not_active", "The %s was %s before the re-index could run.", t.TargetType, status)
		}
		if person != t.PersonID {
			return casefile.Errorf(casefile.EConflict, "target_moved",
				"The %s is no longer on the record this ticket was raised against (it is on %s now).", t.TargetType, person)
		}
		var moved int64
		switch t.TargetType {
		case "note":
			if corrects != nil {
				return casefile.Errorf(casefile.EConflict, "target_is_correction",
					"This note corrects note %s; re-index that note, and its corrections move with it.", *corrects)
			}
			// The note moves with its corrections (and theirs): a correction
			// is part of the note it corrects, and must not stay behind on
			// the wrong child's record.
			tag, err := tx.Exec(ctx, `WITH RECURSIVE family AS (
					SELECT id FROM notes WHERE id = $1
					UNION SELECT n.id FROM notes n JOIN family f ON n.corrects_note_id = f.id)
				UPDATE notes SET person_id = $2 WHERE id IN (SELECT id FROM family) AND person_id = $3`, t.TargetID, to, t.PersonID)
			if err != nil {
				return err
			}
			moved = tag.RowsAffected()
		case "document":
			var dup string
			err := tx.QueryRow(ctx, `SELECT id FROM documents WHERE person_id = $1 AND sha256 = $2 AND parent_id IS NULL
				AND status = 'active' LIMIT 1`, to, sha).Scan(&dup)
			if err == nil {
				return casefile.Errorf(casefile.EConflict, "duplicate_on_person",
					"The right person's record already holds the same file (document %s); raise a removal ticket for this copy instead.", dup)
			}
			if err != pgx.ErrNoRows {
				return err
			}
			ids, _, err := docTreeIDs(ctx, tx, t.TargetID)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, "UPDATE documents SET person_id = $2 WHERE id = ANY($1)", ids, to)
			if err != nil {
				return err
			}
			moved = tag.RowsAffected()
			// Object Lock dates and legal holds follow the person the
			// documents are on now.
			if err := enqueueTx(ctx, tx, casefile.TaskRetentionSync, "ticket:"+t.ID+":sync", map[string]string{"ticket_id": t.ID}); err != nil {
				return err
			}
		}
		// The old person's bundles built or being built hold what moved:
		// they are withdrawn, as after a removal.
		if err := db.withdrawExports(ctx, tx, t.PersonID, t); err != nil {
			return err
		}
		// Both records' trails show the move.
		if err := db.appendAudit(ctx, tx, auditEntry{Action: t.TargetType + ".reindex_in", TargetType: t.TargetType, TargetID: t.TargetID,
			PersonID: to, Details: map[string]any{"from_person_id": t.PersonID, "ticket_id": t.ID, "items": moved,
				"approved_by": t.DecidedBy, "raised_by": t.RaisedBy}}); err != nil {
			return err
		}
		return db.complete(ctx, tx, t, t.TargetType+".reindex_out", map[string]any{"to_person_id": to, "items": moved})
	})
}

// OpenReopenWindow lets ICT amend the visit note once, and completes the
// ticket. It refuses, failing the ticket, when the note is no longer active
// or another reopen ticket holds it open.
func (db *DB) OpenReopenWindow(ctx context.Context, t *casefile.Ticket) error {
	return db.ticketStep(ctx, t.ID, func(tx pgx.Tx, t *casefile.Ticket) error {
		var status string
		var holder *string
		if err := tx.QueryRow(ctx, "SELECT status, reopened_by_ticket FROM notes WHERE id = $1 FOR UPDATE", t.TargetID).
			Scan(&status, &holder); err != nil {
			return err
		}
		if status != casefile.StatusActive {
			return casefile.Errorf(casefile.EConflict, "target_not_active", "The note was %s before it could be reopened.", status)
		}
		if holder != nil && *holder != t.ID {
			return casefile.Errorf(casefile.EConflict, "window_held",
				"Reopen ticket %s already holds this note open; amend the note or close that ticket first, then retry this one.", *holder)
		}
		if _, err := tx.Exec(ctx, "UPDATE notes SET reopened_by_ticket = $2 WHERE id = $1", t.TargetID, t.ID); err != nil {
			return err
		}
		return db.complete(ctx, tx, t, "note.reopen", nil)
	})
}

// RequeueStuckTickets hands the work of approved tickets back to the relay
// when it was handed to the queue more than olderThan ago and the ticket is
// still approved: the queue may have lost it (Redis restarted without its
// data) or given up on it. The relay enqueues it again under the same task
// id, so a task still in the queue counts once. It returns the tickets.
func (db *DB) RequeueStuckTickets(ctx context.Context, olderThan time.Duration) ([]string, error) {
	var ids []string
	ctx = casefile.WithActor(ctx, casefile.SystemActor("ticket-sweep"))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE outbox o SET enqueued_at = NULL FROM tickets t
			WHERE t.state = 'approved' AND o.id = (SELECT max(x.id) FROM outbox x
				WHERE x.task_type = $1 AND x.payload->>'ticket_id' = t.id::text)
			AND o.enqueued_at < now() - make_interval(secs => $2)
			RETURNING t.id::text`, casefile.TaskTicketProcess, olderThan.Seconds())
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		for _, id := range ids {
			t, err := lockTicket(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := db.appendAudit(ctx, tx, ticketAudit(t, "ticket.requeue", nil)); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// FailTicket records a failure.
func (db *DB) FailTicket(ctx context.Context, id, reason string) error {
	return db.ticketStep(ctx, id, func(tx pgx.Tx, t *casefile.Ticket) error {
		if _, err := tx.Exec(ctx, "UPDATE tickets SET state = 'failed', error = $2 WHERE id = $1", id, reason); err != nil {
			return err
		}
		t.State = casefile.TicketFailed
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.fail", map[string]any{"error": reason}))
	})
}
