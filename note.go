package casefile

import (
	"context"
	"time"
)

// NoteType is a kind of case note a practitioner records.
type NoteType struct {
	Code        string `json:"code"`
	Label       string `json:"label"`
	Visit       bool   `json:"visit"` // the four visit types may be amended while ICT has reopened them
	Description string `json:"description"`
}

// NoteTypes is the fixed list of case-note types. The four visit types are the
// policy's exception to "never change a case note". Codes are stable: stored
// notes and legacy imports name them.
var NoteTypes = []NoteType{
	{"contact", "Contact", false, "Contact with the child, family or a professional not covered by another type."},
	{"home_visit", "Home visit", false, "A visit to the family home other than a statutory visit."},
	{"cla_placement_visit", "CLA placement visit", true, "Statutory visit to a child looked after in their placement."},
	{"cp_plan_visit", "CP plan visit", true, "Statutory visit to a child subject to a child protection plan."},
	{"cin_visit", "CIN visit", true, "Visit to a child in need under their plan."},
	{"iro_visit_to_child", "IRO visit to child", true, "The Independent Reviewing Officer's visit to the child."},
	{"telephone_call", "Telephone call", false, "A telephone or video call, made or received."},
	{"meeting", "Meeting", false, "A meeting: strategy discussion, core group, review, professionals' meeting."},
	{"non_attendance", "Non-attendance", false, "A scheduled meeting or visit that did not take place, and why."},
	{"management_oversight", "Management oversight", false, "A manager's direction, decision or oversight of the case."},
	{"correction", "Correction", false, "Corrects an earlier note: names it and says why."},
	{"other", "Other", false, "Anything else relevant to the person."},
}

// LookupNoteType returns the note type with code, if any.
func LookupNoteType(code string) (NoteType, bool) {
	for _, t := range NoteTypes {
		if t.Code == code {
			return t, true
		}
	}
	return NoteType{}, false
}

// Note is a case note: a legal record that is never changed. A correction is
// a new note naming the one it corrects. Visit notes may gain versions while
// reopened by an ICT ticket; every version is kept.
type Note struct {
	ID               string     `json:"id"`
	PersonID         string     `json:"person_id"`
	Type             string     `json:"type"`
	OccurredAt       time.Time  `json:"occurred_at"`
	RecordedAt       time.Time  `json:"recorded_at"`
	Author           string     `json:"author"`
	Body             *string    `json:"body"` // nil once removed or destroyed
	CorrectsNoteID   *string    `json:"corrects_note_id,omitempty"`
	CorrectionReason string     `json:"correction_reason,omitempty"`
	Status           string     `json:"status"`
	Versions         int        `json:"versions"`
	Imported         bool       `json:"imported,omitempty"`
	ReopenedBy       *string    `json:"reopened_by_ticket_id,omitempty"`
	Corrections      []*Note    `json:"corrections,omitempty"`
	Tombstone        *Tombstone `json:"tombstone,omitempty"`
	// Warnings are told to the author of a new note, which is kept all the
	// same (a third_party warning: it names another person on the system).
	Warnings []NoteWarning `json:"warnings,omitempty"`
}

// NoteWarning is one warning about a new note: Code "third_party" says that
// Match, words of the note as written, names the person PersonID, who has a
// record and no recorded relationship to this note's person.
type NoteWarning struct {
	Code     string `json:"code"`
	PersonID string `json:"person_id"`
	Match    string `json:"match"`
}

// ThirdPartyStore reads what the third-party check compares a note with.
// Nothing it returns is shown as it is, so it audits nothing: a warning shows
// only a person's id and the note's own words.
type ThirdPartyStore interface {
	// PersonsVersion changes whenever a person is added, renamed or
	// destroyed (the newest updated_at).
	PersonsVersion(ctx context.Context) (string, error)
	// CheckablePersons lists every active person, with names, reference and
	// NHS number.
	CheckablePersons(ctx context.Context) ([]*Person, error)
	// RelatedPersons returns the person and everyone related to them (either
	// way round). ENotFound.
	RelatedPersons(ctx context.Context, personID string) ([]*Person, error)
	// Relations maps every person with a relationship to the ids of the
	// persons related to them (either way round), for a scan.
	Relations(ctx context.Context) (map[string][]string, error)
}

// NoteVersion is one version of a note's body, oldest first.
type NoteVersion struct {
	Version   int       `json:"version"`
	Body      *string   `json:"body"` // nil once removed or destroyed
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Reason    string    `json:"reason,omitempty"`
	TicketID  *string   `json:"ticket_id,omitempty"`
}

// IsVisitNoteType reports whether code is one of the four visit types the
// policy lets ICT reopen for amendment.
func IsVisitNoteType(code string) bool {
	t, ok := LookupNoteType(code)
	return ok && t.Visit
}

// NoteFilter selects a person's notes.
type NoteFilter struct {
	PersonID string
	Query    string // full-text search over current bodies
	Page
}

// NoteImport is one legacy note brought in from the previous case
// management system, keeping its own recorded_at.
type NoteImport struct {
	Line             int // the line of the source file the row starts on
	LegacyID         string
	PersonRef        string
	Type             string
	OccurredAt       time.Time
	RecordedAt       time.Time
	Author           string
	Body             string
	CorrectsLegacyID string
	CorrectionReason string
}

// ImportProblem is a row of an import that cannot be brought in, by line.
type ImportProblem struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

// NoteImportResult says what an import did. When Problems is not empty,
// nothing was imported.
type NoteImportResult struct {
	Imported        int
	AlreadyImported int
	Problems        []ImportProblem
	// NoteIDs maps each row's line to its note (new or already imported).
	NoteIDs map[int]string
}

// StoredNote is a note's current body as the scan reads it.
type StoredNote struct {
	ID       string
	PersonID string
	Body     string
}

// NoteService stores case notes. Notes are never updated or deleted; reads
// and creations are audited under the actor in ctx.
type NoteService interface {
	// CreateNote stores n with body as version 1; RecordedAt and Author are
	// the server's. Returns ENotFound (person), EUnprocessable
	// (corrected_note_not_found, correction_on_other_person).
	CreateNote(ctx context.Context, n *Note, body string) error
	// Note returns a note with the corrections that point at it. ENotFound.
	Note(ctx context.Context, id string) (*Note, error)
	// Notes lists a person's notes chronologically (occurred_at, recorded_at),
	// or those whose current body matches f.Query (full-text). ENotFound
	// (person), EInvalid (invalid_cursor).
	Notes(ctx context.Context, f NoteFilter) ([]*Note, string, error)
	// NoteVersions lists every version, oldest first. ENotFound.
	NoteVersions(ctx context.Context, id string) ([]*NoteVersion, error)
	// AmendNote adds a version to a visit note that an ICT reopen ticket holds
	// open, recording that ticket, and closes the window in the same
	// transaction. Returns ENotFound, EUnprocessable (not_a_visit_note), EGone
	// (removed, destroyed), EConflict (not_reopened).
	AmendNote(ctx context.Context, id, body, reason string) (*Note, error)
	// ScanNotes calls fn for every active note's current body, in batches,
	// without holding all notes in memory.
	ScanNotes(ctx context.Context, fn func(*StoredNote) error) error
	// ImportNotes checks every row against the database (persons, notes
	// imported before, corrected notes) and, when no row has a problem,
	// stores the new ones in one transaction. Rows imported before (same
	// legacy id and content) are counted, not stored again.
	ImportNotes(ctx context.Context, rows []*NoteImport) (*NoteImportResult, error)
}
