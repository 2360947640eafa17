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

// ApproveTicket approves an open ticket and queues its work.
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
		if _, err := tx.Exec(ctx, "UPDATE tickets SET state = 'approved', decided_by = $2, decided_at = now() WHERE id = $1",
			id, casefile.ActorFrom(ctx).String()); err != nil {
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
		if _, err := tx.Exec(ctx, `UPDATE tickets SET state = 'rejected', decided_by = $2, decided_at = now(), decision_reason = $3
			WHERE id = $1`, id, casefile.ActorFrom(ctx).String(), reason); err != nil {
			return err
		}
		t.State, t.DecidedBy, t.DecisionReason = casefile.TicketRejected, casefile.ActorFrom(ctx).String(), reason
		now := db.now().UTC()
		t.DecidedAt = &now
		return db.appendAudit(ctx, tx, ticketAudit(t, "ticket.reject", map[string]any{"reason": reason}))
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
