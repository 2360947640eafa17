package casefile

import "time"

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
