package casefile

import (
	"context"
	"time"
)

// Export is a disclosure bundle of a person's record.
type Export struct {
	ID          string     `json:"id"`
	PersonID    string     `json:"person_id"`
	State       string     `json:"state"` // queued, running, done, failed, withdrawn, expired
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Size        int64      `json:"size,omitempty"`
	SHA256      string     `json:"sha256,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// ExportNote is a note as it appears in a disclosure bundle: removed notes
// keep only their tombstone, never their content.
type ExportNote struct {
	Note
	History []*NoteVersion `json:"history"`
}

// ExportSource reads what goes into a person's disclosure bundle. Reads here
// are not audited one by one: the export itself is audited.
type ExportSource interface {
	// ExportPerson returns the person. Returns ENotFound.
	ExportPerson(ctx context.Context, personID string) (*Person, error)
	// ExportNotes calls fn for each note of the person in chronological order
	// (occurred_at, then recorded_at), with every version; destroyed notes are
	// left out, removed notes come with a tombstone and no body.
	ExportNotes(ctx context.Context, personID string, fn func(*ExportNote) error) error
	// ExportDocuments calls fn for each active document of the person, parents
	// before their attachments, oldest first.
	ExportDocuments(ctx context.Context, personID string, fn func(*Document) error) error
	// AuditHead returns the sequence number and hash of the newest audit event.
	AuditHead(ctx context.Context) (int64, string, error)
}

// ExportService records exports and their state.
type ExportService interface {
	// CreateExport queues an export of the person. Returns ENotFound.
	CreateExport(ctx context.Context, personID string) (*Export, error)
	// Exports lists exports, newest first, and the next cursor; that each
	// listed person's record was exported is a read, audited.
	Exports(ctx context.Context, p Page) ([]*Export, string, error)
	// Export returns an export. Returns ENotFound.
	Export(ctx context.Context, id string) (*Export, error)
	// StartExport marks a queued export (or one a worker began and did not
	// finish) running and returns it; EConflict (export_<state>) when it is
	// done, failed, withdrawn or expired: a redelivered task builds nothing.
	StartExport(ctx context.Context, id string) (*Export, error)
	// FinishExport records the stored bundle (or the failure when err != "").
	FinishExport(ctx context.Context, id, objectKey string, size int64, sha256, auditHash, errText string) error
	// ExportObject returns the object key of a finished bundle and audits the
	// download. Returns ENotFound, EConflict while it is not ready.
	ExportObject(ctx context.Context, id string) (*Export, string, error)
	// ExpireExports expires the bundles finished before before (their objects
	// are destroyed with the other retired bundles) and returns how many.
	ExpireExports(ctx context.Context, before time.Time) (int, error)
	// RetiredBundles lists the objects of withdrawn bundles (a removal took
	// something they hold) and expired ones still to destroy;
	// BundlesDestroyed records them gone.
	RetiredBundles(ctx context.Context) ([]string, error)
	BundlesDestroyed(ctx context.Context, keys []string) error
}
