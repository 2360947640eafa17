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
	Action      string `json:"action"` // destroy, or review
	Source      string `json:"source"`
}

// PersonRetention is where a person's record stands against the schedule.
type PersonRetention struct {
	PersonID      string `json:"person_id"`
	RecordClass   string `json:"record_class"`
	Trigger       string `json:"trigger"`
	TriggerDate   *Date  `json:"trigger_date"`
	DisposalDueOn *Date  `json:"disposal_due_on"`
	Open          bool   `json:"open_involvement"`
	// Action is what the schedule says happens at the disposal date:
	// "destroy", or "review" (a records officer decides; never destroyed
	// by a run).
	Action string  `json:"action"`
	Reason string  `json:"reason"`
	Holds  []*Hold `json:"holds"`
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

// Run states. A real run goes queued → running (planning) →
// awaiting_approval → approved → running (destroying) → done; a list not
// approved is rejected, or expired when no decision came in time. A dry run
// goes queued → running → done. Any run can end failed.
const (
	RunQueued           = "queued"
	RunRunning          = "running"
	RunAwaitingApproval = "awaiting_approval"
	RunApproved         = "approved"
	RunRejected         = "rejected"
	RunExpired          = "expired"
	RunDone             = "done"
	RunFailed           = "failed"
)

// Disposal approval modes (CASEFILE_DISPOSAL_APPROVAL).
const (
	// ApprovalRequired: every real run, the nightly one included, stops at
	// awaiting_approval until enough records officers approve its list.
	ApprovalRequired = "required"
	// ApprovalAutomatic: a real run requested by a person counts as that
	// person's approval; a run the system starts still waits for people.
	ApprovalAutomatic = "automatic"
)

// DisposalSettings are the rules disposal approval follows.
type DisposalSettings struct {
	Approval   string // ApprovalRequired or ApprovalAutomatic
	Approvers  int    // different people who must approve a list (1 or more)
	SettleDays int    // a record whose dates or involvements changed this recently is held for review
	ListDays   int    // a list not approved within this many days expires
}

// DefaultDisposal is the safe default: one person approves, 30 days settle,
// lists expire after 30 days.
func DefaultDisposal() DisposalSettings {
	return DisposalSettings{Approval: ApprovalRequired, Approvers: 1, SettleDays: 30, ListDays: 30}
}

// Approval is one person's approval of a run's disposal list.
type Approval struct {
	ID         string    `json:"id"` // the user's or token's id
	Name       string    `json:"name"`
	ApprovedAt time.Time `json:"approved_at"`
}

// RetentionRun is one sweep of the schedule: a dry run reports, a real run
// lists what is due and, once approved, destroys it.
type RetentionRun struct {
	ID          string       `json:"id"`
	State       string       `json:"state"` // see the Run* states
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
	// Approval of a real run's disposal list.
	ApprovalsRequired int         `json:"approvals_required,omitempty"`
	Approvals         []*Approval `json:"approvals,omitempty"`
	AwaitingSince     *time.Time  `json:"awaiting_since,omitempty"`
	ExpiresAt         *time.Time  `json:"expires_at,omitempty"` // when an unapproved list expires
	ApprovedAt        *time.Time  `json:"approved_at,omitempty"`
	RejectedBy        string      `json:"rejected_by,omitempty"`
	RejectReason      string      `json:"reject_reason,omitempty"`
}

// RunItem is one record a run found due, held back, or destroyed.
type RunItem struct {
	ItemType      string     `json:"item_type"` // document, note, person
	ItemID        string     `json:"item_id"`
	PersonID      string     `json:"person_id"`
	RecordClass   string     `json:"record_class"`
	SHA256        string     `json:"sha256,omitempty"`
	TriggerDate   *Date      `json:"trigger_date,omitempty"`
	DisposalDueOn *Date      `json:"disposal_due_on"`
	State         string     `json:"state"` // due, held_back, review, destroyed
	Why           string     `json:"why,omitempty"`
	DestroyedAt   *time.Time `json:"destroyed_at,omitempty"`
}

// Certificate is the destruction certificate of a real run: every destroyed
// item by id, class, sha256 and date, with no content. It is kept.
type Certificate struct {
	RunID      string    `json:"run_id"`
	AsOf       Date      `json:"as_of"`
	IssuedAt   time.Time `json:"issued_at"`
	ApprovedBy string    `json:"approved_by"` // the approvers' names
	// Approvers are the people who approved the list, by id and name.
	Approvers []*Approval `json:"approvers"`
	Items     []*RunItem  `json:"items"`
	SHA256    string      `json:"sha256"` // of the canonical JSON of the items
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

// Review reasons: why a record past its date is kept.
const (
	ReviewOpenInvolvement = "open_involvement"
	ReviewHold            = "hold"
	ReviewExclusion       = "exclusion"
	ReviewSettlePeriod    = "settle_period"
	ReviewScheduleChanged = "schedule_changed"
	ReviewClass           = "review_class"
	// ReviewKept: a records officer decided to keep the record until a date.
	ReviewKept = "kept"
)

// Review decisions a records officer takes on a record in the review queue.
const (
	// DecisionKeep keeps the record out of disposal lists until a date.
	DecisionKeep = "keep"
	// DecisionReturn sends the record to the next disposal list: it ends
	// earlier keep decisions and exclusions, and overrides the settle
	// period, a schedule change and a "review" class. An open involvement
	// or a hold still keeps it.
	DecisionReturn = "return"
)

// ReviewDecision is a records officer's decision on a record past its
// date. Reason is the officer's text: it is kept on the decision (and
// destroyed with the record), the audit log keeps only its digest.
type ReviewDecision struct {
	ID          string    `json:"id"`
	PersonID    string    `json:"person_id"`
	Decision    string    `json:"decision"`        // DecisionKeep or DecisionReturn
	Until       *Date     `json:"until,omitempty"` // keep: the day the record comes back for review
	Reason      string    `json:"reason"`
	DecidedBy   string    `json:"decided_by"`
	DecidedByID string    `json:"decided_by_id"`
	DecidedAt   time.Time `json:"decided_at"`
}

// ReviewReason is one reason a record past its date is kept.
type ReviewReason struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Until  *Date  `json:"until,omitempty"` // when this reason lapses, if it does by itself
}

// ReviewEntry is a record past its disposal date that is kept, with why.
type ReviewEntry struct {
	PersonID      string          `json:"person_id"`
	RecordClass   string          `json:"record_class"`
	TriggerDate   *Date           `json:"trigger_date"`
	DisposalDueOn *Date           `json:"disposal_due_on"`
	Reasons       []*ReviewReason `json:"reasons"`
}

// RunFilter selects retention runs.
type RunFilter struct {
	State string // empty for all
	Page
}

// Exclusion takes records out of a run's disposal list for review.
type Exclusion struct {
	ItemIDs  []string `json:"item_ids"`
	Reason   string   `json:"reason"`
	ReviewOn Date     `json:"review_on"`
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
	// LiveRun returns the id of the real run queued, running, awaiting
	// approval or approved, or "".
	LiveRun(ctx context.Context) (string, error)
	// ExcludeFromRun takes the records of the named items (any item of a
	// person takes their whole record) out of a run awaiting approval and
	// into the review queue until ReviewOn. Returns ENotFound, EConflict
	// (run_not_awaiting_approval, run_expired), EUnprocessable
	// (unknown_item, review_on_past).
	ExcludeFromRun(ctx context.Context, runID string, x Exclusion) (*RetentionRun, error)
	// ApproveRun records the actor's approval of a run's disposal list;
	// with enough different approvers the run is queued to destroy it.
	// Returns ENotFound, EForbidden (system_cannot_approve), EConflict
	// (same_person, run_not_awaiting_approval, run_expired).
	ApproveRun(ctx context.Context, runID string) (*RetentionRun, error)
	// RejectRun closes a run awaiting approval without destroying anything.
	RejectRun(ctx context.Context, runID, reason string) (*RetentionRun, error)
	// ReviewQueue lists records past their date that are kept, with why,
	// and the next cursor. Each listed person's read is audited.
	ReviewQueue(ctx context.Context, p Page) ([]*ReviewEntry, string, error)
	// DecideReview records a records officer's decision on a record past
	// its date (keep until d.Until, or return to the next disposal list),
	// filling in d's id, who and when. Returns ENotFound, EForbidden
	// (system_cannot_decide), EConflict (not_past_its_date, under_hold,
	// open_involvement, record_destroyed), EUnprocessable (keep_until_past,
	// missing_reason).
	DecideReview(ctx context.Context, d *ReviewDecision) error
	// Runs lists retention runs, newest first, and the next cursor.
	Runs(ctx context.Context, f RunFilter) ([]*RetentionRun, string, error)
}

// LockChange is a change the object store must make to a document's
// original: its legal hold, or its governance retain-until date.
type LockChange struct {
	DocumentID  string
	Key         string
	LegalHold   bool
	RetainUntil Date
}
