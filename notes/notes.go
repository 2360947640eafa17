// Package notes holds the rules for case notes from the council's policy:
// notes are never changed, corrections are new notes, only the four visit
// notes may be amended while reopened, and emails are never pasted in.
package notes

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/pasteguard"
)

// MaxBodyChars bounds a note's body. A longer note is almost certainly a
// pasted document, which belongs in the document store.
const MaxBodyChars = 100_000

// clockSkew is how far ahead of the server's clock occurred_at may be before
// it counts as the future (clients' clocks drift).
const clockSkew = 2 * time.Minute

// Service applies the rules and stores notes.
type Service struct {
	Store casefile.NoteService
	Now   func() time.Time
}

// NewNote is what an author asks to record.
type NewNote struct {
	PersonID         string
	Type             string
	OccurredAt       time.Time
	Body             string
	CorrectsNoteID   string
	CorrectionReason string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// PastedEmailError is the refusal of a note that contains a pasted email.
func PastedEmailError(f pasteguard.Finding) error {
	return casefile.Errorf(casefile.EUnprocessable, "pasted_email",
		"This note contains a pasted email (%s at line %d). Emails must not be pasted into case notes: upload the email as a document "+
			"with POST /v1/persons/{id}/documents, then record a short note that summarises it.", strings.ReplaceAll(f.Rule, "_", " "), f.Line)
}

// Create validates and stores a note.
func (s *Service) Create(ctx context.Context, in NewNote) (*casefile.Note, error) {
	if _, ok := casefile.LookupNoteType(in.Type); !ok {
		var codes []string
		for _, t := range casefile.NoteTypes {
			codes = append(codes, t.Code)
		}
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_type", "type %q is not a note type; use one of %s (GET /v1/note-types).",
			in.Type, strings.Join(codes, ", "))
	}
	if in.OccurredAt.IsZero() {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_occurred_at", "occurred_at is required: when the contact or event happened (RFC 3339).")
	}
	if in.OccurredAt.After(s.now().Add(clockSkew)) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "occurred_in_future",
			"occurred_at %s is in the future; a note records what has happened.", in.OccurredAt.UTC().Format(time.RFC3339))
	}
	if err := CheckBody(in.Body); err != nil {
		return nil, err
	}
	n := &casefile.Note{PersonID: in.PersonID, Type: in.Type, OccurredAt: in.OccurredAt.UTC().Truncate(time.Microsecond)}
	if in.CorrectsNoteID != "" || in.Type == "correction" {
		if in.CorrectsNoteID == "" {
			return nil, casefile.Errorf(casefile.EUnprocessable, "missing_corrects_note_id", "A correction must name the note it corrects in corrects_note_id.")
		}
		if strings.TrimSpace(in.CorrectionReason) == "" {
			return nil, casefile.Errorf(casefile.EUnprocessable, "missing_correction_reason",
				"A correction must say why (correction_reason): what was wrong or missing, and why.")
		}
		id := in.CorrectsNoteID
		n.CorrectsNoteID = &id
		n.CorrectionReason = strings.TrimSpace(in.CorrectionReason)
	} else if in.CorrectionReason != "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "correction_reason_without_note", "correction_reason goes with corrects_note_id.")
	}
	if err := s.Store.CreateNote(ctx, n, in.Body); err != nil {
		return nil, err
	}
	return n, nil
}

// CheckBody applies the rules every note body must meet, including the
// pasted-email guard.
func CheckBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return casefile.Errorf(casefile.EUnprocessable, "missing_body", "body is required.")
	}
	if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
		return casefile.Errorf(casefile.EInvalid, "invalid_text", "body must be UTF-8 text without NUL characters.")
	}
	if utf8.RuneCountInString(body) > MaxBodyChars {
		return casefile.Errorf(casefile.EUnprocessable, "body_too_long",
			"body is longer than %d characters; upload long material as a document and summarise it in the note.", MaxBodyChars)
	}
	if f, pasted := pasteguard.Check(body); pasted {
		return PastedEmailError(f)
	}
	return nil
}

// Amend adds a version to a reopened visit note.
func (s *Service) Amend(ctx context.Context, id, body, reason string) (*casefile.Note, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_reason", "An amendment must say why (reason).")
	}
	if err := CheckBody(body); err != nil {
		return nil, err
	}
	return s.Store.AmendNote(ctx, id, body, strings.TrimSpace(reason))
}

// Finding is a stored note that contains a pasted email.
type Finding struct {
	NoteID   string `json:"note_id"`
	PersonID string `json:"person_id"`
	Rule     string `json:"rule"`
	Line     int    `json:"line"`
}

// Scan runs the guard over every stored note and calls fn for each finding.
// It returns how many notes it read.
func (s *Service) Scan(ctx context.Context, fn func(Finding) error) (int, error) {
	n := 0
	err := s.Store.ScanNotes(ctx, func(sn *casefile.StoredNote) error {
		n++
		if f, ok := pasteguard.Check(sn.Body); ok {
			return fn(Finding{NoteID: sn.ID, PersonID: sn.PersonID, Rule: f.Rule, Line: f.Line})
		}
		return nil
	})
	return n, err
}
