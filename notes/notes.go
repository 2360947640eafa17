// Package notes holds the rules for case notes from the council's policy:
// notes are never changed, corrections are new notes, only the four visit
// notes may be amended while reopened, and emails are never pasted in.
package notes

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/pasteguard"
)

// MaxBodyChars bounds a note's body. A longer note is almost certainly a
// pasted document, which belongs in the document store.
const MaxBodyChars = 100_000

// MaxReasonChars bounds a correction's or an amendment's reason: a reason
// says what was wrong and why in a sentence or two; anything longer is a
// note (or a document) of its own.
const MaxReasonChars = 2000

// clockSkew is how far ahead of the server's clock occurred_at may be before
// it counts as the future (clients' clocks drift).
const clockSkew = 2 * time.Minute

// Service applies the rules and stores notes.
type Service struct {
	Store casefile.NoteService
	// Audit records the scan's events; nil records none (tests of rules).
	Audit casefile.AuditService
	// RaiseTicket raises one ICT removal ticket for a scan finding (cmd wires
	// the tickets store in). While nil, a scan asked to raise tickets is
	// refused with tickets_not_available rather than silently raising none.
	RaiseTicket TicketRaiser
	// Refusals records each pasted-email refusal (for the reports); nil
	// records none (tests of rules).
	Refusals RefusalRecorder
	// ThirdParty, when set, warns of other persons a new note names.
	ThirdParty *ThirdParty
	Now        func() time.Time
}

// RefusalRecorder records that a note, a correction's reason or an
// amendment was refused for a pasted email: audit event
// note.refused_pasted_email on the person (personID, or the person of
// noteID), with the author's id and teams and the field, never the text.
type RefusalRecorder interface {
	RecordPastedEmailRefusal(ctx context.Context, personID, noteID, field, rule string) error
}

// refused records err when it is a pasted-email refusal of text in field,
// and returns it (or the recording's failure: a refusal is never left out
// of the record silently).
func (s *Service) refused(ctx context.Context, personID, noteID, field, text string, err error) error {
	if s.Refusals == nil || casefile.ErrorCode(err) != "pasted_email" {
		return err
	}
	f, _ := pasteguard.Check(text)
	if rerr := s.Refusals.RecordPastedEmailRefusal(ctx, personID, noteID, field, f.Rule); rerr != nil {
		return rerr
	}
	return err
}

// TicketRaiser raises a removal ticket for a finding (or finds the one raised
// before) and returns its id and whether it is new.
type TicketRaiser func(ctx context.Context, f Finding) (ticketID string, created bool, err error)

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
		return nil, s.refused(ctx, in.PersonID, "", "body", in.Body, err)
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
		id, err := uuid.Parse(in.CorrectsNoteID)
		if err != nil || len(in.CorrectsNoteID) != 36 {
			return nil, casefile.Errorf(casefile.EUnprocessable, "corrected_note_not_found",
				"corrects_note_id %q names no note: ids are UUIDs.", in.CorrectsNoteID)
		}
		if err := CheckReason("correction_reason", in.CorrectionReason); err != nil {
			return nil, s.refused(ctx, in.PersonID, "", "correction_reason", in.CorrectionReason, err)
		}
		cid := id.String()
		n.CorrectsNoteID = &cid
		n.CorrectionReason = strings.TrimSpace(in.CorrectionReason)
	} else if in.CorrectionReason != "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "correction_reason_without_note", "correction_reason goes with corrects_note_id.")
	}
	if s.ThirdParty != nil {
		ws, err := s.ThirdParty.Check(ctx, in.PersonID, in.Body)
		if err != nil {
			return nil, err
		}
		n.Warnings = ws
	}
	if err := s.Store.CreateNote(ctx, n, in.Body); err != nil {
		return nil, err
	}
	return n, nil
}

// CheckThirdParty returns the warnings a note with body would be given on
// personID's record, without recording anything (the pages' check before
// saving). None when the check is not configured.
func (s *Service) CheckThirdParty(ctx context.Context, personID, body string) ([]casefile.NoteWarning, error) {
	if s.ThirdParty == nil {
		return nil, nil
	}
	return s.ThirdParty.Check(ctx, personID, body)
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

// CheckReason applies the rules a correction's or amendment's reason must
// meet: it is content kept with the record, so it is bounded, and the
// pasted-email guard runs on it as on a body. field names it in refusals.
func CheckReason(field, reason string) error {
	if !utf8.ValidString(reason) || strings.ContainsRune(reason, 0) {
		return casefile.Errorf(casefile.EInvalid, "invalid_text", "%s must be UTF-8 text without NUL characters.", field)
	}
	if utf8.RuneCountInString(reason) > MaxReasonChars {
		return casefile.Errorf(casefile.EUnprocessable, "reason_too_long",
			"%s is longer than %d characters; say in a sentence or two what was wrong and why, and put anything longer in the note itself.",
			field, MaxReasonChars)
	}
	if f, pasted := pasteguard.Check(reason); pasted {
		return casefile.Errorf(casefile.EUnprocessable, "pasted_email",
			"The %s contains a pasted email (%s at line %d). Emails must not be pasted into case notes or their reasons: upload the email "+
				"as a document with POST /v1/persons/{id}/documents, then say in a sentence why.", field, strings.ReplaceAll(f.Rule, "_", " "), f.Line)
	}
	return nil
}

// Amend adds a version to a reopened visit note.
func (s *Service) Amend(ctx context.Context, id, body, reason string) (*casefile.Note, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, casefile.Errorf(casefile.EUnprocessable, "missing_reason", "An amendment must say why (reason).")
	}
	if err := CheckReason("reason", reason); err != nil {
		return nil, s.refused(ctx, "", id, "reason", reason, err)
	}
	if err := CheckBody(body); err != nil {
		return nil, s.refused(ctx, "", id, "body", body, err)
	}
	return s.Store.AmendNote(ctx, id, body, strings.TrimSpace(reason))
}

// Finding is a stored note that contains a pasted email.
type Finding struct {
	NoteID   string `json:"note_id"`
	PersonID string `json:"person_id"`
	Rule     string `json:"rule"`
	Line     int    `json:"line"`
	// TicketID is the removal ticket raised (or raised before) for the note,
	// when the scan was asked to raise tickets.
	TicketID      string `json:"ticket_id,omitempty"`
	TicketCreated bool   `json:"ticket_created,omitempty"`
}

// ScanOptions says what a scan does besides listing findings.
type ScanOptions struct {
	RaiseTickets bool
}

// ScanSummary counts what a scan did.
type ScanSummary struct {
	Scanned       int `json:"scanned"`
	Found         int `json:"found"`
	TicketsRaised int `json:"tickets_raised"`
}

// ErrTicketsNotAvailable refuses a scan asked to raise tickets by a Service
// that has no TicketRaiser.
var ErrTicketsNotAvailable = casefile.Errorf(casefile.EConflict, "tickets_not_available",
	"Raising removal tickets from a scan is not available yet; scan without it to list the notes, and raise tickets with POST /v1/tickets.")

// Scan runs the guard over every stored active note, streaming them from the
// store in batches, and calls fn for each finding. Each finding is audited on
// the person's record, and the scan as a whole once.
func (s *Service) Scan(ctx context.Context, opt ScanOptions, fn func(Finding) error) (ScanSummary, error) {
	var sum ScanSummary
	if opt.RaiseTickets && s.RaiseTicket == nil {
		return sum, ErrTicketsNotAvailable
	}
	err := s.Store.ScanNotes(ctx, func(sn *casefile.StoredNote) error {
		sum.Scanned++
		pf, ok := pasteguard.Check(sn.Body)
		if !ok {
			return nil
		}
		sum.Found++
		f := Finding{NoteID: sn.ID, PersonID: sn.PersonID, Rule: pf.Rule, Line: pf.Line}
		if opt.RaiseTickets {
			id, created, err := s.RaiseTicket(ctx, f)
			if err != nil {
				return err
			}
			f.TicketID, f.TicketCreated = id, created
			if created {
				sum.TicketsRaised++
			}
		}
		if s.Audit != nil {
			details, _ := json.Marshal(map[string]any{"rule": f.Rule, "line": f.Line, "ticket_id": f.TicketID})
			if err := s.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "note.scan_finding", TargetType: "note",
				TargetID: f.NoteID, PersonID: f.PersonID, Details: details}); err != nil {
				return err
			}
		}
		return fn(f)
	})
	if err != nil {
		return sum, err
	}
	if s.Audit != nil {
		details, _ := json.Marshal(sum)
		if err := s.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "notes.scan", TargetType: "notes", TargetID: "all",
			Details: details}); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// PastedImport is an imported note that contains a pasted email. The legacy
// system's record is imported as it is; ICT raises a removal ticket for it.
type PastedImport struct {
	Line     int
	LegacyID string
	NoteID   string
	Rule     string
}

// ImportReport says what an import did.
type ImportReport struct {
	// Problems are the bad rows by line; when any, nothing was imported.
	Problems        []casefile.ImportProblem
	Imported        int
	AlreadyImported int
	Pasted          []PastedImport
}

// Import reads a legacy export and imports it, all or nothing. Every bad row
// is reported, those found in the file and those found against the database
// (unknown persons, corrected notes that do not exist). Notes that contain a
// pasted email are imported, since they are the legacy system's record, and
// listed in the report so that ICT can raise removal tickets.
func (s *Service) Import(ctx context.Context, r io.Reader) (*ImportReport, error) {
	rows, bad, err := ParseCSV(r, s.now())
	if err != nil {
		return nil, casefile.Errorf(casefile.EInvalid, "unreadable_file", "%s", err.Error())
	}
	rep := &ImportReport{Problems: bad}
	if len(bad) > 0 {
		return rep, nil
	}
	res, err := s.Store.ImportNotes(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(res.Problems) > 0 {
		rep.Problems = res.Problems
		sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Line < rep.Problems[j].Line })
		return rep, nil
	}
	rep.Imported, rep.AlreadyImported = res.Imported, res.AlreadyImported
	for _, row := range rows {
		if f, ok := pasteguard.Check(row.Body); ok {
			rep.Pasted = append(rep.Pasted, PastedImport{Line: row.Line, LegacyID: row.LegacyID, NoteID: res.NoteIDs[row.Line], Rule: f.Rule})
		} else if f, ok := pasteguard.Check(row.CorrectionReason); ok && row.CorrectionReason != "" {
			// A pasted email in the reason is removed with the note, like one in the body.
			rep.Pasted = append(rep.Pasted, PastedImport{Line: row.Line, LegacyID: row.LegacyID, NoteID: res.NoteIDs[row.Line],
				Rule: "correction_reason: " + f.Rule})
		}
	}
	return rep, nil
}
