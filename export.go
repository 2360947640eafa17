package casefile

import "time"

// Export is a disclosure bundle of a person's record.
type Export struct {
	ID          string     `json:"id"`
	PersonID    string     `json:"person_id"`
	State       string     `json:"state"` // queued, running, done, failed
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Size        int64      `json:"size,omitempty"`
	SHA256      string     `json:"sha256,omitempty"`
	Error       string     `json:"error,omitempty"`
}
