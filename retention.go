package casefile

import "time"

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
