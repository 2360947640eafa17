package casefile

import (
	"context"
	"time"
)

// ChronologyFilter asks for one page of a person's chronology: their notes
// and top-level documents together, in the order things happened.
type ChronologyFilter struct {
	PersonID string
	// Notes and Documents say which kinds the caller may see; a kind left
	// out is neither read nor audited.
	Notes, Documents bool
	// Query, when set, keeps only the notes whose current body matches it
	// (full-text) and no documents.
	Query string
	// Newest orders the chronology newest first; otherwise oldest first.
	Newest bool
	// Cursor is an entry's Cursor: the page starts after that entry, or
	// ends before it when Before is set. Empty starts at the beginning.
	Cursor string
	Before bool
	Limit  int
}

// ChronologyEntry is one thing on a person's chronology: a note or a
// top-level document, at the time its event happened (a note's occurred_at;
// an email's date, or when a file was filed).
type ChronologyEntry struct {
	At       time.Time
	Note     *Note
	Document *Document // without its attachments: Attachments counts them
	// Attachments is how many files a document directly carries.
	Attachments int
	// Corrections is how many later notes correct a note.
	Corrections int
	// Cursor names the entry's place, for ChronologyFilter.Cursor.
	Cursor string
}

// ChronologyReader reads a person's chronology a page at a time.
type ChronologyReader interface {
	// Chronology returns one page of entries in the order asked for, and
	// whether more entries lie beyond the page in the direction walked
	// (after its last entry; before its first when f.Before). The read is
	// audited as one read of the record. Returns ENotFound (person),
	// EInvalid (invalid_cursor).
	Chronology(ctx context.Context, f ChronologyFilter) ([]*ChronologyEntry, bool, error)
}
