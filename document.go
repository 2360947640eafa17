package casefile

import (
	"context"
	"time"
)

// Document kinds.
const (
	DocumentEmail      = "email"      // an uploaded .eml or Outlook .msg
	DocumentFile       = "file"       // any other uploaded file
	DocumentAttachment = "attachment" // extracted from an email (or from winmail.dat, or a forwarded message)
)

// Document categories a practitioner may choose.
var DocumentCategories = []string{"correspondence", "letter", "report", "assessment", "other"}

// Record statuses shared by documents and notes.
const (
	StatusActive    = "active"
	StatusRemoved   = "removed"   // destroyed by an approved ICT removal ticket
	StatusDestroyed = "destroyed" // destroyed by a retention run
)

// Document is a stored file on a person's record: the original bytes are kept
// exactly as received in the object store; this is its metadata.
type Document struct {
	ID            string      `json:"id"`
	PersonID      string      `json:"person_id"`
	Kind          string      `json:"kind"`
	ParentID      *string     `json:"parent_id,omitempty"`
	Filename      string      `json:"filename"`
	Title         string      `json:"title"`
	Category      string      `json:"category"`
	ContentType   string      `json:"content_type"`
	Size          int64       `json:"size"`
	SHA256        string      `json:"sha256"`
	Status        string      `json:"status"`
	CreatedAt     time.Time   `json:"created_at"`
	CreatedBy     string      `json:"created_by"`
	ParseWarnings []string    `json:"parse_warnings"`
	Email         *EmailMeta  `json:"email,omitempty"`
	Attachments   []*Document `json:"attachments"`
	Duplicate     bool        `json:"duplicate,omitempty"`
	Tombstone     *Tombstone  `json:"tombstone,omitempty"`
	// TextState says where the extraction of the document's text stands
	// (TextPending, TextDone, TextFailed, TextNone), TextSource how the text
	// was had, and TextWarning why it failed or is incomplete.
	TextState   string `json:"text_state,omitempty"`
	TextSource  string `json:"text_source,omitempty"`
	TextWarning string `json:"text_warning,omitempty"`
	// LinkedFrom is the document (on another person's record) this one was
	// filed from by a link: both name one stored object.
	LinkedFrom *string `json:"linked_from,omitempty"`

	// ObjectKey is the server-generated key of the original in the bucket,
	// and ObjectVersion the version S3 gave it (empty if the server gave none).
	ObjectKey     string `json:"-"`
	ObjectVersion string `json:"-"`
	// DeclaredContentType is what the uploader said; ContentType is sniffed.
	DeclaredContentType string `json:"-"`
	// Text is the extracted text kept for search; destroyed with the content.
	Text string `json:"-"`
	// RetainUntil is the Object Lock retain-until date set on the object.
	RetainUntil *Date `json:"-"`
}

// Text states of a document: its text is waiting to be extracted, was
// extracted (or parsed), could not be, or there is none to have (a kind of
// file without text, or content that is gone).
const (
	TextPending = "pending"
	TextDone    = "done"
	TextFailed  = "failed"
	TextNone    = "none"
)

// Text sources: parsed from an email at upload, extracted from a file's own
// text, or read from its images by OCR.
const (
	TextParsed    = "parsed"
	TextExtracted = "extracted"
	TextOCR       = "ocr"
)

// TextJob is what the extraction of a document's text needs to know.
type TextJob struct {
	DocumentID  string
	PersonID    string
	ObjectKey   string
	Filename    string
	ContentType string
	Size        int64
	// Attempts counts the extractions started, this one included.
	Attempts int
}

// ExtractedText is the outcome of a document's extraction.
type ExtractedText struct {
	State   string // TextDone, TextFailed or TextNone
	Source  string // TextExtracted or TextOCR; "" with no text
	Text    string
	Warning string
}

// TextStore keeps the text extracted from documents. Work the service does
// itself, off the request path (the document:extract task).
type TextStore interface {
	// StartText takes the extraction of an active document whose text is
	// pending for lease (no other StartText gets it meanwhile), counts the
	// attempt, and returns what it needs; nil when there is nothing to do
	// (done already, removed, destroyed, or taken by another worker).
	// ENotFound.
	StartText(ctx context.Context, documentID string, lease time.Duration) (*TextJob, error)
	// ReleaseText gives back an extraction StartText took that did not run
	// to its end for want of something else (the object store failed, the
	// worker is stopping): the lease ends, and the attempt is not counted.
	ReleaseText(ctx context.Context, documentID string) error
	// SaveText records a document's text and audits it, only while the
	// document is active and its text pending, in the same statement, so
	// that text never lands on a document removed meanwhile. It reports
	// whether it was recorded.
	SaveText(ctx context.Context, documentID string, t ExtractedText) (bool, error)
	// QueueTextBackfill queues the extraction of up to limit active
	// documents whose text is pending and that were last queued (and last
	// started) before before, oldest first, and returns how many it queued.
	QueueTextBackfill(ctx context.Context, before time.Time, limit int) (int, error)
}

// EmailMeta is what was parsed from an email's headers.
type EmailMeta struct {
	MessageID string     `json:"message_id"`
	Subject   string     `json:"subject"`
	From      string     `json:"from"`
	To        []string   `json:"to"`
	Cc        []string   `json:"cc"`
	Date      *time.Time `json:"date"`
	InReplyTo string     `json:"in_reply_to,omitempty"`
}

// Tombstone says why content is gone. It never holds the content.
type Tombstone struct {
	Reason      string     `json:"reason"`
	TicketID    string     `json:"ticket_id,omitempty"`
	RunID       string     `json:"retention_run_id,omitempty"`
	RequestedBy string     `json:"requested_by,omitempty"`
	ApprovedBy  string     `json:"approved_by,omitempty"`
	At          *time.Time `json:"at"`
	// The re-entered note and the email uploaded as a document that the
	// removal ticket named, as the policy asks ("deleted, re-entered and
	// documents stored as appropriate").
	ReplacementNoteID     string `json:"replacement_note_id,omitempty"`
	ReplacementDocumentID string `json:"replacement_document_id,omitempty"`
}

// ObjectRef names the stored object of a document.
type ObjectRef struct {
	DocumentID string
	PersonID   string
	Key        string
}

// DocumentStore keeps document metadata. Reads and changes are audited under
// the actor in ctx.
type DocumentStore interface {
	// CheckPerson returns ENotFound unless the person exists and is active.
	CheckPerson(ctx context.Context, personID string) error
	// CheckUpload is CheckPerson and DuplicateOf in one: an error unless
	// the person exists and is active, then the active top-level document
	// with these bytes on the record, or nil.
	CheckUpload(ctx context.Context, personID, sha256 string) (*Document, error)
	// DocumentByIdempotencyKey returns the document the actor created with
	// key, or ENotFound.
	DocumentByIdempotencyKey(ctx context.Context, key string) (*Document, error)
	// DuplicateOf returns the active top-level document with these bytes on
	// the person's record, or ENotFound.
	DuplicateOf(ctx context.Context, personID, sha256 string) (*Document, error)
	// CreateDocument stores d and its attachment tree in one transaction and
	// audits the upload. Returns EConflict (duplicate_document) when the same
	// bytes became active on the record meanwhile.
	CreateDocument(ctx context.Context, d *Document, idempotencyKey string) error
	// Document returns a document with its attachments. ENotFound.
	Document(ctx context.Context, id string) (*Document, error)
	// ShowDocument is Document for an answer that shows a stored document
	// other than a read of it (an upload's duplicate, an idempotent
	// replay): the read is audited with via saying which.
	ShowDocument(ctx context.Context, id, via string) (*Document, error)
	// Documents lists a person's top-level documents, newest first.
	Documents(ctx context.Context, personID string, p Page) ([]*Document, string, error)
	// OpenDocument audits a download and returns the document. Returns
	// EGone (removed, destroyed) when its content no longer exists.
	OpenDocument(ctx context.Context, id string) (*Document, error)
	// LinkDocument files the top-level document id (with its attachments)
	// on personID's record as well: one stored object, a document on each
	// record under that record's retention, holds and removals. When the
	// same bytes are already active on that record it returns that
	// document and existed. ENotFound; EUnprocessable (an attachment, no
	// such person); EConflict (same_person, document_not_active,
	// person_destroyed).
	LinkDocument(ctx context.Context, id, personID string) (d *Document, existed bool, err error)
	// ActiveObjectKeys returns which of keys an active document's object is
	// stored under.
	ActiveObjectKeys(ctx context.Context, keys []string) (map[string]bool, error)
	// ActiveObjects returns up to limit active documents whose object keys
	// come after the key after, in byte order (the order S3 lists keys in).
	ActiveObjects(ctx context.Context, after string, limit int) ([]ObjectRef, error)
}
