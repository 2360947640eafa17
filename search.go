package casefile

import (
	"context"
	"time"
)

// SearchHit is one note or document of a record that a search found.
// Snippet is the passage that matched, as HTML: the text escaped, each
// matching word inside <mark></mark>, nothing else; it may be put into a
// page as it is.
type SearchHit struct {
	Type       string    `json:"type"` // "note" or "document"
	ID         string    `json:"id"`
	Snippet    string    `json:"snippet"`
	Rank       float64   `json:"rank"`
	NoteType   string    `json:"note_type,omitempty"`  // notes
	OccurredAt time.Time `json:"occurred_at,omitzero"` // notes
	Title      string    `json:"title,omitempty"`      // documents
	Filename   string    `json:"filename,omitempty"`   // documents
	Kind       string    `json:"kind,omitempty"`       // documents: email, file, attachment
	CreatedAt  time.Time `json:"created_at,omitzero"`  // documents
	Subject    string    `json:"subject,omitempty"`    // emails
	ParentID   *string   `json:"parent_id,omitempty"`  // attachments
}

// SearchQuery is one search over one person's record. Page counts from 1.
type SearchQuery struct {
	PersonID string
	Query    string
	Page     int
	Limit    int
}

// SearchResults is one page of a search, best first. NextPage is 0 on the
// last page; Total counts every hit.
type SearchResults struct {
	Items    []*SearchHit `json:"items"`
	Total    int          `json:"total"`
	Page     int          `json:"page"`
	NextPage int          `json:"next_page,omitempty"`
}

// Search limits.
const (
	MaxSearchQueryChars = 200
	DefaultSearchLimit  = 20
	MaxSearchLimit      = 100
	MaxSearchPage       = 50
)

// SearchService searches inside one person's record.
type SearchService interface {
	// SearchRecord finds the active notes (their current text) and active
	// documents (title, filename, email subject, sender and recipients, and
	// text) of a person that hold every word of q (web-search syntax:
	// "quoted phrases", -excluded, or), best first. Removed and destroyed
	// content is never found. Audited as a search of the record, without
	// what was typed. ENotFound (person), EInvalid (missing_q, q_too_long,
	// invalid_page).
	SearchRecord(ctx context.Context, q SearchQuery) (*SearchResults, error)
}
