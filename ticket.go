package casefile

import (
	"context"
	"time"
)

// Ticket kinds: the ICT requests the policy names.
const (
	TicketRemoval = "removal" // destroy content pasted where it must not be
	TicketReindex = "reindex" // move a note or document to the right person
	TicketReopen  = "reopen"  // let ICT amend a visit note once
)

// Ticket states: open → approved → done | failed, or open → rejected.
const (
	TicketOpen     = "open"
	TicketApproved = "approved"
	TicketDone     = "done"
	TicketFailed   = "failed"
	TicketRejected = "rejected"
)

// Ticket is an ICT service-desk request against one note or document.
type Ticket struct {
	ID                    string     `json:"id"`
	Kind                  string     `json:"kind"`
	State                 string     `json:"state"`
	TargetType            string     `json:"target_type"` // "note" or "document"
	TargetID              string     `json:"target_id"`
	PersonID              string     `json:"person_id"`
	ToPersonID            *string    `json:"to_person_id,omitempty"`
	Reason                string     `json:"reason"`
	ReplacementNoteID     *string    `json:"replacement_note_id,omitempty"`
	ReplacementDocumentID *string    `json:"replacement_document_id,omitempty"`
	RaisedBy              string     `json:"raised_by"`
	RaisedAt              time.Time  `json:"raised_at"`
	DecidedBy             string     `json:"decided_by,omitempty"`
	DecidedAt             *time.Time `json:"decided_at,omitempty"`
	DecisionReason        string     `json:"decision_reason,omitempty"`
	CompletedAt           *time.Time `json:"completed_at,omitempty"`
	Error                 string     `json:"error,omitempty"`
	Source                string     `json:"source"` // "api" or "scan"
}

// TicketFilter selects tickets.
type TicketFilter struct {
	State    string
	Kind     string
	PersonID string // raised against this person, or moving a record to them
	TargetID string
	Page
}

// TicketService stores ICT tickets and carries out their effects. Every
// transition and every effect is audited.
type TicketService interface {
	// CreateTicket raises a ticket against a note or document, filling
	// PersonID from the target. Returns ENotFound (target), EUnprocessable
	// (reopen of a non-visit note, reindex to the same or a missing person,
	// replacement on another person), EConflict (ticket_exists: another
	// ticket of any kind on the target is open or approved, or a removal of
	// it is done; target_not_active).
	CreateTicket(ctx context.Context, t *Ticket) error
	// Ticket returns a ticket. ENotFound.
	Ticket(ctx context.Context, id string) (*Ticket, error)
	// Tickets lists tickets, oldest first.
	Tickets(ctx context.Context, f TicketFilter) ([]*Ticket, string, error)
	// ApproveTicket moves an open ticket to approved and queues its work in
	// the same transaction. EConflict: invalid_transition; same_person (the
	// approver raised it: actors are compared by ID); second_ict_required (a
	// removal raised by ICT or an admin, approved by someone not ICT).
	ApproveTicket(ctx context.Context, id string) (*Ticket, error)
	// RejectTicket moves an open ticket to rejected. EConflict otherwise.
	RejectTicket(ctx context.Context, id, reason string) (*Ticket, error)
	// RetryTicket moves a failed ticket back to approved and queues it again.
	// EConflict (invalid_transition; ticket_exists when another ticket on
	// the target was raised meanwhile and is live).
	RetryTicket(ctx context.Context, id string) (*Ticket, error)
	// CloseReopenWindow closes the amendment window a reopen ticket opened.
	// EUnprocessable (not_a_reopen_ticket), EConflict (window_not_open).
	CloseReopenWindow(ctx context.Context, id string) (*Ticket, error)

	// The worker's steps. Each is idempotent, so that a retry after a crash
	// finishes the job without doing anything twice.

	// MarkDocumentRemoved sets the document and its attachments removed and
	// returns their object keys. EConflict (under_legal_hold).
	MarkDocumentRemoved(ctx context.Context, t *Ticket) ([]string, error)
	// ClearDocumentContent destroys the parsed text and metadata of the
	// removed document tree and marks the ticket done.
	ClearDocumentContent(ctx context.Context, t *Ticket) error
	// RemoveNote destroys every version's body and marks the ticket done.
	RemoveNote(ctx context.Context, t *Ticket) error
	// Reindex moves the target (with attachments) to ToPersonID and marks
	// the ticket done. EConflict (target_not_active, target_moved,
	// duplicate_on_person).
	Reindex(ctx context.Context, t *Ticket) error
	// OpenReopenWindow opens the amendment window and marks the ticket done.
	// EConflict (target_not_active, window_held).
	OpenReopenWindow(ctx context.Context, t *Ticket) error
	// FailTicket records why the work could not be done.
	FailTicket(ctx context.Context, id, reason string) error
	// RequeueStuckTickets hands approved tickets whose task was queued more
	// than olderThan ago back to the outbox relay (the queue may have lost
	// them), and returns their ids.
	RequeueStuckTickets(ctx context.Context, olderThan time.Duration) ([]string, error)
}
