package casefile

import (
	"context"
	"time"
)

// TaskDisclosureBuild builds a finalised disclosure's bundle.
const TaskDisclosureBuild = "disclosure:build"

// Disclosure purposes.
const (
	PurposeSubjectAccess = "subject_access"
	PurposeCourt         = "court"
	PurposeOther         = "other"
)

// ValidPurpose reports whether p is a disclosure purpose.
func ValidPurpose(p string) bool {
	return p == PurposeSubjectAccess || p == PurposeCourt || p == PurposeOther
}

// Disclosure states.
const (
	DisclosureDraft            = "draft"             // being reviewed: redactions, withholdings, decisions
	DisclosureAwaitingApproval = "awaiting_approval" // submitted; a second person must approve
	DisclosureFinalising       = "finalising"        // the bundle is being built
	DisclosureReady            = "ready"             // the bundle can be downloaded
	DisclosureFailed           = "failed"            // the build failed; see Error
	DisclosureWithdrawn        = "withdrawn"         // something it held was removed, or the record destroyed
)

// Disclosure is a reviewed release of a person's record (a subject access
// request, a court's order): the record's items with spans redacted and
// documents withheld, each for a reason, built into a bundle in which the
// redacted text is not present at all.
type Disclosure struct {
	ID         string               `json:"id"`
	PersonID   string               `json:"person_id"`
	Purpose    string               `json:"purpose"`
	Requester  string               `json:"requester"`
	ReceivedOn Date                 `json:"received_on"`
	DueOn      Date                 `json:"due_on"`
	State      string               `json:"state"`
	CreatedBy  string               `json:"created_by"`
	CreatedAt  time.Time            `json:"created_at"`
	Approvals  []DisclosureApproval `json:"approvals"`
	// SubmittedBy is who asked for the bundle to be built (finalise).
	SubmittedBy   string     `json:"submitted_by,omitempty"`
	SubmittedByID string     `json:"-"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	Size          int64      `json:"size,omitempty"`
	SHA256        string     `json:"sha256,omitempty"`
	Error         string     `json:"error,omitempty"`

	Redactions   []*Redaction          `json:"redactions"`
	Withholdings []*Withholding        `json:"withholdings"`
	Decisions    []*SuggestionDecision `json:"suggestion_decisions"`
	// Reviewed lists the items as they were when the disclosure was
	// finalised; the bundle holds these and fails if one changed.
	Reviewed []ReviewedItem `json:"-"`
}

// DisclosureApproval is a second reviewer's approval.
type DisclosureApproval struct {
	By   string    `json:"by"`
	ByID string    `json:"by_id,omitempty"`
	At   time.Time `json:"at"`
}

// Disclosure item types.
const (
	ItemNote     = "note"
	ItemDocument = "document"
)

// Redaction hides the code points [Start, End) of an item's disclosure text.
type Redaction struct {
	ID         string    `json:"id"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Start      int       `json:"start"`
	End        int       `json:"end"`
	Reason     string    `json:"reason"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
	// TextSHA256 is the sha256 of the item's text the offsets count in.
	TextSHA256 string `json:"-"`
}

// Withholding leaves a whole document out of the bundle.
type Withholding struct {
	ID         string    `json:"id"`
	DocumentID string    `json:"document_id"`
	Reason     string    `json:"reason"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// SuggestionDecision records a reviewer's answer to a suggested span:
// accepted (it became RedactionID) or rejected.
type SuggestionDecision struct {
	TargetType  string    `json:"target_type"`
	TargetID    string    `json:"target_id"`
	Start       int       `json:"start"`
	End         int       `json:"end"`
	Kind        string    `json:"kind"`
	Decision    string    `json:"decision"` // accept, reject
	RedactionID string    `json:"redaction_id,omitempty"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// ReviewedItem is an item as finalised: its type, id and text's sha256.
type ReviewedItem struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	TextSHA256 string `json:"text_sha256"`
}

// DisclosureInput opens a disclosure.
type DisclosureInput struct {
	Purpose    string
	Requester  string
	ReceivedOn Date
	DueOn      Date
}

// DisclosureSource is what a disclosure is made of: the subject, the notes
// (active ones, current body) and the active documents with their text.
type DisclosureSource struct {
	Disclosure *Disclosure
	Person     *Person
	Notes      []*Note
	Documents  []*Document
}

// DisclosureStore keeps disclosures. Changes are audited with offsets,
// reason codes and item ids, never the text.
type DisclosureStore interface {
	// CreateDisclosure opens a draft. Returns ENotFound, EConflict (record destroyed).
	CreateDisclosure(ctx context.Context, personID string, in DisclosureInput) (*Disclosure, error)
	// Disclosure returns one with its redactions, withholdings and
	// decisions, audited as a read of the record. Returns ENotFound.
	Disclosure(ctx context.Context, id string) (*Disclosure, error)
	// PersonDisclosures lists a person's disclosures (audited read).
	PersonDisclosures(ctx context.Context, personID string) ([]*Disclosure, error)
	// DisclosureDraft returns the disclosure and its record's content,
	// audited as a read of the record (action). Returns ENotFound.
	DisclosureDraft(ctx context.Context, id, action string) (*DisclosureSource, error)
	// DisclosureSource is DisclosureDraft unaudited, for the operations
	// that are themselves audited (a redaction's check, the build).
	DisclosureSource(ctx context.Context, id string) (*DisclosureSource, error)
	// AddRedaction, RemoveRedaction, Withhold, Unwithhold and
	// DecideSuggestion change a draft. Return ENotFound, EConflict (not a draft).
	AddRedaction(ctx context.Context, id string, r *Redaction) error
	RemoveRedaction(ctx context.Context, id, redactionID string) error
	Withhold(ctx context.Context, id, documentID, reason string) (*Withholding, error)
	Unwithhold(ctx context.Context, id, documentID string) error
	DecideSuggestion(ctx context.Context, id string, d *SuggestionDecision, r *Redaction) error
	// FinaliseDisclosure moves a draft on: to awaiting_approval when
	// approvers > 1, else to finalising with its build queued.
	FinaliseDisclosure(ctx context.Context, id string, approvers int, reviewed []ReviewedItem) (*Disclosure, error)
	// ApproveDisclosure records a second person's approval and queues the
	// build; EConflict same_person when the approver submitted it.
	ApproveDisclosure(ctx context.Context, id string) (*Disclosure, error)
	// ReturnDisclosure sends a disclosure awaiting approval back to draft.
	ReturnDisclosure(ctx context.Context, id string) (*Disclosure, error)
	// StartDisclosureBuild returns a finalising disclosure for its build;
	// EConflict when it is in any other state.
	StartDisclosureBuild(ctx context.Context, id string) (*DisclosureSource, error)
	// FinishDisclosureBuild records the stored bundle, or the failure.
	FinishDisclosureBuild(ctx context.Context, id, objectKey string, size int64, sha256, errText string) error
	// DisclosureObject returns a ready bundle's object key and audits the
	// download. Returns ENotFound, EConflict while not ready, EGone.
	DisclosureObject(ctx context.Context, id string) (*Disclosure, string, error)
	// DisclosureCandidates lists the persons on the system other than
	// exclude, for the third-party suggestions (names and references only).
	DisclosureCandidates(ctx context.Context, exclude string) ([]*Person, error)
	// OverdueDisclosures lists the disclosures not ready, failed-and-left or
	// withdrawn whose due date is before asOf (ids, dates, states only).
	OverdueDisclosures(ctx context.Context, asOf Date) ([]*Disclosure, error)
}

// Overdue reports whether the disclosure is still open (not ready, not
// withdrawn) after its due date, on the day asOf.
func (d *Disclosure) Overdue(asOf Date) bool {
	return d.State != DisclosureReady && d.State != DisclosureWithdrawn && d.DueOn.Before(asOf)
}

// StatutoryDue is the date a request received on received must be answered
// by: one calendar month later, or the last day of that month when it has no
// such day (the ICO's rule: received 31 January, due 28 February).
func StatutoryDue(received Date) Date {
	y, m := received.Year, received.Month+1
	if m > 12 {
		y, m = y+1, 1
	}
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d := received.Day
	if d > last {
		d = last
	}
	return Date{y, m, d}
}
