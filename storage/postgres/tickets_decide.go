package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

func invalidTransition(t *casefile.Ticket, to string) error {
	return casefile.Errorf(casefile.EConflict, "invalid_transition", "This ticket is %s; it cannot be %s.", t.State, to)
}

// secondPerson refuses an approval by whoever raised the ticket: no one
// acts alone on what cannot be undone. People are compared by the actor's
// id (a user's or token's id: two people may share a name, and a token's name
// is free text); a ticket raised before ids were kept is compared by name,
// which refuses more, never less. A removal raised by someone who could
// decide tickets themselves (ICT, admin) needs a second ICT person: the
// policy gives removals to ICT, and an admin is not a second ICT person.
func secondPerson(ctx context.Context, tx pgx.Tx, t *casefile.Ticket) error {
	var raiserID, raiserRole *string
	if err := tx.QueryRow(ctx, "SELECT raised_by_id, raised_by_role FROM tickets WHERE id = $1", t.ID).Scan(&raiserID, &raiserRole); err != nil {
		return err
	}
	a := casefile.ActorFrom(ctx)
	same := a.String() == t.RaisedBy
	if raiserID != nil && a.ID != "" {
		same = a.ID == *raiserID
	}
	if same {
		return casefile.Errorf(casefile.EConflict, "same_person",
			"You raised this ticket, so someone else must approve it: no one acts alone on what cannot be undone. Ask another member of the ICT service desk.")
	}
	if t.Kind == casefile.TicketRemoval && raiserRole != nil && a.Role != casefile.RoleICT &&
		(casefile.Role(*raiserRole) == casefile.RoleICT || casefile.Role(*raiserRole) == casefile.RoleAdmin) {
		return casefile.Errorf(casefile.EConflict, "second_ict_required",
			"This removal was raised by %s (%s), so a second member of the ICT service desk must approve it.", t.RaisedBy, *raiserRole)
	}
	return nil
}

// ApproveTicket approves an open ticket and queues its work. The approver
// must be someone other than the raiser (secondPerson).
func (db *DB) ApproveTicket(ctx context.Context, id string) (*casefile.Ticket, error) {
	var t *casefile.Ticket
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.State != casefile.TicketOpen {
			return invalidTransition(t, "approved")
		}
		if err := secondPerson(ctx, tx, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE tickets SET state = 'approved', decided_by = $2, decided_at = now(), decided_by_id = nullif($3, '') WHERE id = $1",
			id, casefile.ActorFrom(ctx).String(), casefile.ActorFrom(ctx).ID); err != nil {
			return err
		}
		now := db.now().UTC()
		t.State, t.DecidedBy, t.DecidedAt = casefile.TicketApproved, casefile.ActorFrom(ctx).String(), &now
		if err := enqueueTx(ctx, tx, casefile.TaskTicketProcess, "ticket:"+id, map[string]string{"ticket_id": id}); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.approve", nil))
	})
	return t, err
}

// RejectTicket rejects an open ticket.
func (db *DB) RejectTicket(ctx context.Context, id, reason string) (*casefile.Ticket, error) {
	var t *casefile.Ticket
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.State != casefile.TicketOpen {
			return invalidTransition(t, "rejected")
		}
		// The raiser may reject their own ticket (withdraw it): nothing on
		// the record changes, and the rejection is audited.
		if _, err := tx.Exec(ctx, `UPDATE tickets SET state = 'rejected', decided_by = $2, decided_at = now(), decision_reason = $3,
			decided_by_id = nullif($4, '') WHERE id = $1`, id, casefile.ActorFrom(ctx).String(), reason, casefile.ActorFrom(ctx).ID); err != nil {
			return err
		}
		t.State, t.DecidedBy, t.DecisionReason = casefile.TicketRejected, casefile.ActorFrom(ctx).String(), reason
		now := db.now().UTC()
		t.DecidedAt = &now
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.reject", typedText(nil, "reason", reason)))
	})
	return t, err
}

// RetryTicket re-queues a failed ticket.
func (db *DB) RetryTicket(ctx context.Context, id string) (*casefile.Ticket, error) {
	var t *casefile.Ticket
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.State != casefile.TicketFailed {
			return invalidTransition(t, "retried")
		}
		if _, _, _, _, err := targetOf(ctx, tx, t.TargetType, t.TargetID, true); err != nil {
			return err
		}
		if err := refuseSecondLive(ctx, tx, t); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE task_id LIKE $1", "ticket:"+id+"%").Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE tickets SET state = 'approved', error = NULL WHERE id = $1", id); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return casefile.Errorf(casefile.EConflict, "ticket_exists",
					"Another %s ticket for this %s was raised since this one failed; carry on with that one.", t.Kind, t.TargetType)
			}
			return err
		}
		if err := enqueueTx(ctx, tx, casefile.TaskTicketProcess, "ticket:"+id+":retry:"+strconv.Itoa(n), map[string]string{"ticket_id": id}); err != nil {
			return err
		}
		t.State, t.Error = casefile.TicketApproved, ""
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.retry", nil))
	})
	return t, err
}

// CloseReopenWindow closes a reopen ticket's amendment window.
func (db *DB) CloseReopenWindow(ctx context.Context, id string) (*casefile.Ticket, error) {
	var t *casefile.Ticket
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.Kind != casefile.TicketReopen {
			return casefile.Errorf(casefile.EUnprocessable, "not_a_reopen_ticket", "Only reopen tickets open an amendment window.")
		}
		tag, err := tx.Exec(ctx, "UPDATE notes SET reopened_by_ticket = NULL WHERE id = $1 AND reopened_by_ticket = $2", t.TargetID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return casefile.Errorf(casefile.EConflict, "window_not_open", "This ticket holds no amendment window open.")
		}
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.close_window", nil))
	})
	return t, err
}
