package casefile

import (
	"context"
	"time"
)

// RetentionRule is one rule of the schedule in force.
type RetentionRule struct {
	RecordClass string `json:"record_class"`
	Period      string `json:"period"`
	Trigger     string `json:"trigger"`
	Source      string `json:"source"`
}

// PersonRetention is where a person's record stands against the schedule.
type PersonRetention struct {
	PersonID      string  `json:"person_id"`
	RecordClass   string  `json:"record_class"`
	Trigger       string  `json:"trigger"`
	TriggerDate   *Date   `json:"trigger_date"`
	DisposalDueOn *Date   `json:"disposal_due_on"`
	Open          bool    `json:"open_involvement"`
	Reason        string  `json:"reason"`
	Holds         []*Hold `json:"holds"`
}

// Hold stops destruction of what it covers while it stands.
type Hold struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Reason     string     `json:"reason"`
	All        bool       `json:"all"`
	PersonIDs  []string   `json:"person_ids"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
	ReleasedBy string     `json:"released_by,omitempty"`
	// ReleaseReason says why the hold was lifted.
	ReleaseReason string `json:"release_reason,omitempty"`
}

// RetentionRun is one sweep of the schedule: a dry run reports, a real run destroys.
type RetentionRun struct {
	ID          string       `json:"id"`
	State       string       `json:"state"` // queued, running, done, failed
	DryRun      bool         `json:"dry_run"`
	AsOf        Date         `json:"as_of"`
	RequestedBy string       `json:"requested_by"`
	RequestedAt time.Time    `json:"requested_at"`
	FinishedAt  *time.Time   `json:"finished_at,omitempty"`
	Due         int          `json:"due"`
	Destroyed   int          `json:"destroyed"`
	HeldBack    int          `json:"held_back"`
	Review      int          `json:"review"` // past their date but an involvement is open, or changed since planning
	Items       []*RunItem   `json:"items,omitempty"`
	Certificate *Certificate `json:"certificate"`
	Error       string       `json:"error,omitempty"`
}

// RunItem is one record a run found due, held back, or destroyed.
type RunItem struct {
	ItemType      string     `json:"item_type"` // document, note, person
	ItemID        string     `json:"item_id"`
	PersonID      string     `json:"person_id"`
	RecordClass   string     `json:"record_class"`
	SHA256        string     `json:"sha256,omitempty"`
	DisposalDueOn *Date      `json:"disposal_due_on"`
	State         string     `json:"state"` // due, held_back, review, destroyed
	Why           string     `json:"why,omitempty"`
	DestroyedAt   *time.Time `json:"destroyed_at,omitempty"`
}

// Certificate is the destruction certificate of a real run: every destroyed
// item by id, class, sha256 and date, with no content. It is kept.
type Certificate struct {
	RunID      string     `json:"run_id"`
	AsOf       Date       `json:"as_of"`
	IssuedAt   time.Time  `json:"issued_at"`
	ApprovedBy string     `json:"approved_by"`
	Items      []*RunItem `json:"items"`
	SHA256     string     `json:"sha256"` // of the canonical JSON of the items
	// ResidualCopies says where copies of the destroyed content remain
	// outside the service's reach, and for how long: PostgreSQL's
	// write-ahead log, database and object-store backups (the operator's
	// statement, CASEFILE_BACKUP_NOTE).
	ResidualCopies string `json:"residual_copies"`
}

// RetentionPolicy computes where a person's record stands against the schedule
// in force. The retention package implements it; storage calls it whenever a
// retention input (dates of birth or death, involvements) changes, in the same
// transaction.
type RetentionPolicy interface {
	Assess(p *Person) PersonRetention
	Schedule() []RetentionRule
}

// Run item states.
const (
	ItemDue       = "due"
	ItemHeldBack  = "held_back"
	ItemReview    = "review"
	ItemDestroyed = "destroyed"
)

// RunItemFilter selects the items of a run.
type RunItemFilter struct {
	State string // empty for all
	Page
}

// RetentionStore stores holds and retention runs and reports positions.
// Every change and every read of a person's position is audited under the
// actor carried by ctx.
type RetentionStore interface {
	// PersonRetention returns the person's position with the holds that
	// cover them. Returns ENotFound.
	PersonRetention(ctx context.Context, personID string) (*PersonRetention, error)
	// CreateHold stores h (named persons or all) and queues the legal holds
	// on the objects it covers. Returns EUnprocessable (unknown_person) if
	// a named person does not exist.
	CreateHold(ctx context.Context, h *Hold) error
	// ReleaseHold lifts a hold. Returns ENotFound, EConflict
	// (hold_released).
	ReleaseHold(ctx context.Context, id, reason string) (*Hold, error)
	// Holds lists holds, newest first, and the next cursor.
	Holds(ctx context.Context, p Page) ([]*Hold, string, error)
	// CreateRun queues a run as of asOf. Returns EConflict (run_in_progress)
	// when a real run is already queued or running.
	CreateRun(ctx context.Context, dryRun bool, asOf Date) (*RetentionRun, error)
	// RetentionRun returns a run with its certificate. Returns ENotFound.
	RetentionRun(ctx context.Context, id string) (*RetentionRun, error)
	// RunItems lists a run's items in a stable order and the next cursor.
	// Returns ENotFound, EInvalid (invalid_cursor).
	RunItems(ctx context.Context, runID string, f RunItemFilter) ([]*RunItem, string, error)
	// LiveRun returns the id of the real run queued or running, or "".
	LiveRun(ctx context.Context) (string, error)
}

// LockChange is a change the object store must make to a document's
// original: its legal hold, or its governance retain-until date.
type LockChange struct {
	DocumentID  string
	Key         string
	LegalHold   bool
	RetainUntil Date
}
