package casefile

import (
	"context"
	"time"
)

// ReportScope says whose figures a report covers: everyone's (records
// officers, auditors), or those of the teams named (a manager's teams).
type ReportScope struct {
	All     bool
	TeamIDs []string
}

// ReportRange is the period a report covers: [From, To), instants in UTC
// (the API's from and to are dates; To is the day after the last one).
type ReportRange struct {
	From, To time.Time
	// Zone names (IANA) the zone whose weeks a report counts in; "" is UTC.
	Zone string
}

// LateNotesRow counts one author's notes recorded in the period, within one
// of the teams they were in when they wrote them (TeamID "" for none).
type LateNotesRow struct {
	TeamID, Team     string
	AuthorID, Author string
	Notes, Late      int
}

// RefusalsRow counts the pasted-email refusals of one author within one of
// their teams (at the time) in one ISO week.
type RefusalsRow struct {
	Week             string // 2026-W10
	WeekStart        Date   // its Monday
	TeamID, Team     string
	AuthorID, Author string
	Refusals         int
}

// TicketFact is one ticket as the tickets report counts it.
type TicketFact struct {
	Kind        string
	State       string
	RaisedAt    time.Time
	CompletedAt *time.Time // done: when it was carried out
	DecidedAt   *time.Time // rejected: when
}

// DisposalsDueRow counts, for one record class, the active records whose
// disposal date has passed (Overdue) or falls within 30, 90 and 365 days of
// the report's date, and how many of those are under a hold.
type DisposalsDueRow struct {
	RecordClass                string
	Overdue, In30, In90, In365 int
	Held                       int
}

// HoldRow is one legal hold that stood during the period, and what it covers
// now: records, and their active notes and documents.
type HoldRow struct {
	ID, Name, PlacedBy string
	PlacedAt           time.Time
	ReleasedAt         *time.Time
	AllRecords         bool
	Persons            int
	Notes, Documents   int
}

// AccessRow counts one actor's break-glass uses and reads of restricted
// records in the period, within one of their teams (TeamID "" for none).
type AccessRow struct {
	TeamID, Team    string
	ActorID, Actor  string
	BreakGlass      int
	RestrictedReads int
	Records         int // distinct restricted records read or opened
}

// AuditCheck is one verification of the audit log, or one anchor written
// (or that failed). Problem is the checker's own words: seq numbers and
// hashes, never content.
type AuditCheck struct {
	Kind        string // verify, anchor
	At          time.Time
	Actor       string
	OK          bool
	Events      *int64
	FirstBadSeq *int64
	Problem     string
	AnchoredAt  *time.Time
	Anchors     *int
	AnchorKey   string
}

// AuditChecks are the checks of the period, newest first, and the latest
// verification and anchor whenever they were.
type AuditChecks struct {
	Checks     []AuditCheck
	LastVerify *AuditCheck
	LastAnchor *AuditCheck
}

// ReportStore reads the facts the reports count. Every method reads
// ids, names of staff, dates and counts: nothing of a person's record.
type ReportStore interface {
	// LateNotes counts notes recorded in r (not imported, not corrections)
	// and those recorded more than lateAfter after they occurred.
	LateNotes(ctx context.Context, r ReportRange, s ReportScope, lateAfter time.Duration) (rows []LateNotesRow, notes, late int, err error)
	// PastedEmailRefusals counts note.refused_pasted_email events in r.
	PastedEmailRefusals(ctx context.Context, r ReportRange, s ReportScope) (rows []RefusalsRow, total int, err error)
	// TicketFacts returns the tickets outstanding now (open, approved,
	// failed), and those raised, done or rejected in r; a manager's scope is
	// the tickets raised by members of their teams.
	TicketFacts(ctx context.Context, r ReportRange, s ReportScope) ([]TicketFact, error)
	// DisposalsDue counts active records by class and disposal date from asOf.
	DisposalsDue(ctx context.Context, asOf Date) ([]DisposalsDueRow, error)
	// HoldCoverage lists the holds that stood at any time in r.
	HoldCoverage(ctx context.Context, r ReportRange) ([]HoldRow, error)
	// AccessUses counts break-glass uses and reads of restricted records in r.
	AccessUses(ctx context.Context, r ReportRange, s ReportScope) (rows []AccessRow, breakGlass, reads int, err error)
	// AuditChecks lists the checks in r.
	AuditChecks(ctx context.Context, r ReportRange) (*AuditChecks, error)
	// RecordAuditCheck keeps one check.
	RecordAuditCheck(ctx context.Context, c *AuditCheck) error
}
