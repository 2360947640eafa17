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
}

// RetentionPolicy computes where a person's record stands against the schedule
// in force. The retention package implements it; storage calls it whenever a
// retention input (dates of birth or death, involvements) changes, in the same
// transaction.
type RetentionPolicy interface {
	Assess(p *Person) PersonRetention
	Schedule() []RetentionRule
}

// DueObject is a stored original that a run is about to destroy.
type DueObject struct {
	DocumentID string
	ObjectKey  string
	VersionID  string // empty when unknown: every version is then listed and destroyed
}

// ObjectLockTarget is a document whose object's Object Lock state should be
// brought in line with its record: retain-until and legal hold.
type ObjectLockTarget struct {
	DocumentID  string
	ObjectKey   string
	RetainUntil Date
	LegalHold   bool
}

// RetentionStore keeps retention positions, holds and runs. Reads of a
// person's position and every change are audited.
type RetentionStore interface {
	// PersonRetention returns a person's position with the holds covering them.
	PersonRetention(ctx context.Context, personID string) (*PersonRetention, error)
	// CreateHold stores a hold. Returns EUnprocessable (no persons, unknown person).
	CreateHold(ctx context.Context, h *Hold) error
	// ReleaseHold lifts a hold. EConflict if already released.
	ReleaseHold(ctx context.Context, id, reason string) (*Hold, error)
	// Holds lists holds, newest first.
	Holds(ctx context.Context, p Page) ([]*Hold, string, error)
	// CreateRun queues a run. EConflict (run_in_progress) for a second live real run.
	CreateRun(ctx context.Context, dryRun bool, asOf Date) (*RetentionRun, error)
	// RetentionRun returns a run with its certificate. ENotFound.
	RetentionRun(ctx context.Context, id string) (*RetentionRun, error)
	// RunItems lists a run's items.
	RunItems(ctx context.Context, runID string, p Page) ([]*RunItem, string, error)
	// LiveRun returns the id of a queued or running real run, or "".
	LiveRun(ctx context.Context) (string, error)

	// The run engine's steps; each is idempotent, so an interrupted run resumes.

	// StartRun marks the run running; EConflict (run_finished) once done.
	StartRun(ctx context.Context, id string) (*RetentionRun, error)
	// PlanRun records every item due, held back or for review, once.
	PlanRun(ctx context.Context, id string) error
	// DestroyBatch destroys up to limit due documents: under a lock that
	// holds cannot be created during, it picks due documents whose person no
	// hold covers, calls destroy with their objects, and marks destroyed the
	// ones destroy did not report as failed. It returns how many it handled.
	DestroyBatch(ctx context.Context, runID string, limit int, destroy func([]DueObject) (map[string]error, error)) (int, error)
	// DestroyNotesAndIdentities destroys the due notes' bodies and, for each
	// due person with nothing left on their record, their identifying details.
	DestroyNotesAndIdentities(ctx context.Context, runID string) error
	// FinishRun writes and audits the destruction certificate.
	FinishRun(ctx context.Context, runID string) (*RetentionRun, error)
	// FailRun records why a run stopped.
	FailRun(ctx context.Context, runID, reason string) error

	// ObjectLockTargets returns up to limit documents whose object's lock
	// state differs from what the schedule and the holds require.
	ObjectLockTargets(ctx context.Context, today Date, limit int) ([]ObjectLockTarget, error)
	// RecordObjectLock records the lock state now set on a document's object.
	RecordObjectLock(ctx context.Context, t ObjectLockTarget) error
}
