package casefile

import "time"

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

	// ObjectKey is the server-generated key of the original in the bucket.
	ObjectKey string `json:"-"`
	// DeclaredContentType is what the uploader said; ContentType is sniffed.
	DeclaredContentType string `json:"-"`
	// Text is the extracted text kept for search; destroyed with the content.
	Text string `json:"-"`
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
}
