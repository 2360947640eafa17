// Package tickets carries out approved ICT tickets: removal of content that
// must not be on a record (a pasted email), re-indexing a note or document
// to the right person, and reopening a visit note for one amendment.
//
// Each step is idempotent and the order makes a crash harmless: a document is
// marked removed (so reads show it gone) before its objects are destroyed,
// and the ticket is marked done only in the transaction of the last step, so
// a retry finishes what an interrupted run began.
package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/council/casefile"
)

// Blobs destroys stored objects (every version).
type Blobs interface {
	Destroy(ctx context.Context, key string) error
}

// Processor handles the ticket:process task.
type Processor struct {
	Store casefile.TicketService
	Blobs Blobs
	// FinalAttempt reports whether the queue will give up on the task if
	// this delivery fails; the ticket is then marked failed, so that ICT sees
	// it rather than a ticket approved for ever. Nil means never final.
	FinalAttempt func(ctx context.Context) bool
	// AfterWithdrawal, when set, runs once a removal or re-index is done:
	// the ticket withdrew the person's export bundles, and this destroys them.
	AfterWithdrawal func(ctx context.Context) error
	Log             *slog.Logger
	// afterMark, when set, runs between marking a document removed and
	// destroying its objects (tests use it to simulate a crash there).
	afterMark func() error
}

// Payload is the task payload.
type Payload struct {
	TicketID string `json:"ticket_id"`
}

// Handle carries out one approved ticket. Redelivery of a done ticket does
// nothing; a backing service that is down makes the task retry; any other
// failure is recorded on the ticket as failed, for ICT to see and retry.
func (p *Processor) Handle(ctx context.Context, payload []byte) error {
	var pl Payload
	if err := json.Unmarshal(payload, &pl); err != nil || pl.TicketID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "ticket task payload: %s", payload)
	}
	t, err := p.Store.Ticket(ctx, pl.TicketID)
	if err != nil {
		return err
	}
	if t.State != casefile.TicketApproved {
		return nil
	}
	err = p.carryOut(ctx, t)
	if err == nil {
		if t.Kind != casefile.TicketReopen && p.AfterWithdrawal != nil {
			// The export bundles the removal or re-index withdrew go too;
			// what cannot be destroyed now is left to the exports' sweep.
			if err := p.AfterWithdrawal(ctx); err != nil {
				p.log().Warn("withdrawn export bundles not destroyed yet; the sweep will", "ticket_id", t.ID, "err", err)
			}
		}
		return nil
	}
	retryable := casefile.ErrorKind(err) == casefile.EUnavailable || errors.Is(err, context.Canceled) || ctx.Err() != nil
	if retryable && (ctx.Err() != nil || p.FinalAttempt == nil || !p.FinalAttempt(ctx)) {
		return err // handed back to the queue; the retry finishes the job
	}
	if casefile.ErrorKind(err) == casefile.EInternal || retryable {
		p.log().Error("ticket failed", "ticket_id", t.ID, "kind", t.Kind, "err", err)
	}
	why := casefile.ErrorMessage(err) + " (" + casefile.ErrorCode(err) + ")"
	if retryable {
		why = "gave up after repeated attempts: " + why
	}
	return p.Store.FailTicket(context.WithoutCancel(ctx), t.ID, why)
}

func (p *Processor) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// StuckAfter is how long an approved ticket's task may sit in the queue
// before the sweep hands it to the relay again.
const StuckAfter = 15 * time.Minute

// Sweep is the tickets' part of the periodic reconciliation: approved
// tickets whose task the queue lost (Redis restarted without its data) are
// queued again. A task still in the queue keeps its id, so nothing runs twice.
func (p *Processor) Sweep(ctx context.Context) error {
	ids, err := p.Store.RequeueStuckTickets(ctx, StuckAfter)
	if len(ids) > 0 {
		p.log().Warn("approved tickets queued again", "tickets", ids)
	}
	return err
}

func (p *Processor) carryOut(ctx context.Context, t *casefile.Ticket) error {
	switch {
	case t.Kind == casefile.TicketRemoval && t.TargetType == "document":
		keys, err := p.Store.MarkDocumentRemoved(ctx, t)
		if err != nil {
			return err
		}
		if p.afterMark != nil {
			if err := p.afterMark(); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := p.Blobs.Destroy(ctx, k); err != nil {
				return err
			}
		}
		return p.Store.ClearDocumentContent(ctx, t)
	case t.Kind == casefile.TicketRemoval && t.TargetType == "note":
		return p.Store.RemoveNote(ctx, t)
	case t.Kind == casefile.TicketReindex:
		return p.Store.Reindex(ctx, t)
	case t.Kind == casefile.TicketReopen:
		return p.Store.OpenReopenWindow(ctx, t)
	}
	return casefile.Errorf(casefile.EInvalid, "invalid_ticket", "ticket %s: unknown kind %s on %s", t.ID, t.Kind, t.TargetType)
}
