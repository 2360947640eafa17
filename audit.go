package casefile

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent is one entry of the tamper-evident audit log. Events record who,
// what, when and ids, never note bodies or document content, so that content
// can be destroyed while its trail stays. Each event's Hash covers its fields
// and PrevHash, forming a chain.
type AuditEvent struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// ActorID is the user's or token's id (empty for system and command-line
	// work, and for events recorded before ids were kept).
	ActorID    string          `json:"actor_id,omitempty"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	PersonID   string          `json:"person_id,omitempty"`
	Details    json.RawMessage `json:"details"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// AuditFilter selects audit events.
type AuditFilter struct {
	PersonID string
	Action   string // an action, or a family ending in ".*"
	TargetID string
	// Actor is an actor's name or id (user or token).
	Actor string
	Since *time.Time
	Until *time.Time
	// Newest lists the newest first (the cursor then pages back in time).
	Newest bool
	Page
}

// AuditVerification is the result of checking the hash chain.
type AuditVerification struct {
	OK          bool   `json:"ok"`
	Events      int64  `json:"events"`
	FirstBadSeq *int64 `json:"first_bad_seq,omitempty"`
	Problem     string `json:"problem,omitempty"`
	// AnchoredAt is when the latest anchor checked was written: the heads
	// the bucket keeps outside the database (package anchor); every anchor
	// in the bucket is checked.
	AnchoredAt *time.Time `json:"anchored_at,omitempty"`
	// Anchors is how many anchors (every version of each) were checked.
	Anchors int `json:"anchors,omitempty"`
}

// Fail records a problem found at event seq; the first one found stands.
func (v *AuditVerification) Fail(seq int64, problem string) {
	if v.OK {
		v.OK = false
		v.FirstBadSeq = &seq
		v.Problem = problem
	}
}

// AuditHead is a chain's newest event, as anchors record it.
type AuditHead struct {
	Chain int    `json:"chain"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
}

// AuditService reads and checks the audit log. Events are appended by the
// storage methods that make the change, in the same transaction.
type AuditService interface {
	// AuditEvents lists events in sequence order.
	AuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, string, error)
	// VerifyAudit recomputes the hash chain from the first event.
	VerifyAudit(ctx context.Context) (*AuditVerification, error)
	// RecordEvent appends an event not tied to a stored change (for example,
	// a download or a failed attempt). Actor is taken from ctx.
	RecordEvent(ctx context.Context, ev *AuditEvent) error
}
