package casefile

import "time"

// NoteType is a kind of case note a practitioner records.
type NoteType struct {
	Code        string `json:"code"`
	Label       string `json:"label"`
	Visit       bool   `json:"visit"` // the four visit types may be amended while ICT has reopened them
	Description string `json:"description"`
}

// NoteTypes is the fixed list of case-note types. The four visit types are the
// policy's exception to "never change a case note".
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
	{"correspondence_summary", "Correspondence summary", false, "A summary of correspondence whose original is uploaded as a document."},
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
