package notes

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council/casefile"
)

// ImportColumns are the columns of a legacy notes export: a header row naming
// them (in any order) and one row per note. corrects_legacy_id and
// correction_reason are optional columns and may be empty.
var ImportColumns = []string{"legacy_id", "person_external_ref", "type", "occurred_at", "recorded_at", "author", "body",
	"corrects_legacy_id", "correction_reason"}

var requiredColumns = []string{"legacy_id", "person_external_ref", "type", "occurred_at", "recorded_at", "author", "body"}

// maxLegacyIDLen bounds a legacy id (it is stored as the note's legacy_ref).
const maxLegacyIDLen = 200

// ParseCSV reads and checks a whole legacy export (RFC 4180). It returns
// every bad row with its line number, so that the file can be fixed in one
// go; nothing should be imported from a file with any bad row. An error
// means the file as a whole cannot be read (no header, unknown columns).
func ParseCSV(r io.Reader, now time.Time) ([]*casefile.NoteImport, []casefile.ImportProblem, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked per row, to report the line rather than stop
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty; it needs a header row: " + strings.Join(ImportColumns, ","))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known(name) {
			return nil, nil, fmt.Errorf("the header row has unknown column %q; columns are %s", h, strings.Join(ImportColumns, ","))
		}
		if _, dup := col[name]; dup {
			return nil, nil, fmt.Errorf("the header row names column %q twice", name)
		}
		col[name] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("the header row lacks column %q; columns are %s", c, strings.Join(ImportColumns, ","))
		}
	}
	var rows []*casefile.NoteImport
	var bad []casefile.ImportProblem
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, casefile.ImportProblem{Line: pe.StartLine, Msg: pe.Err.Error()})
				continue
			}
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			bad = append(bad, casefile.ImportProblem{Line: line,
				Msg: fmt.Sprintf("the row has %d fields; the header has %d", len(rec), len(header))})
			continue
		}
		row, problems := parseRow(rec, col, now)
		row.Line = line
		if prev, dup := seen[row.LegacyID]; dup && row.LegacyID != "" {
			problems = append(problems, fmt.Sprintf("legacy_id %q is also on line %d", row.LegacyID, prev))
		} else if row.LegacyID != "" {
			seen[row.LegacyID] = line
		}
		if len(problems) > 0 {
			bad = append(bad, casefile.ImportProblem{Line: line, Msg: strings.Join(problems, "; ")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func known(name string) bool {
	for _, c := range ImportColumns {
		if c == name {
			return true
		}
	}
	return false
}

// parseRow checks one row. The body is kept exactly as exported: it is the
// legal record.
func parseRow(rec []string, col map[string]int, now time.Time) (*casefile.NoteImport, []string) {
	raw := func(c string) string {
		if i, ok := col[c]; ok {
			return rec[i]
		}
		return ""
	}
	get := func(c string) string { return strings.TrimSpace(raw(c)) }
	row := &casefile.NoteImport{LegacyID: get("legacy_id"), PersonRef: get("person_external_ref"), Type: get("type"),
		Author: get("author"), Body: raw("body"), CorrectsLegacyID: get("corrects_legacy_id"),
		CorrectionReason: get("correction_reason")}
	var problems []string
	for _, c := range requiredColumns {
		if get(c) == "" {
			problems = append(problems, c+" is empty")
		}
	}
	if len(row.LegacyID) > maxLegacyIDLen {
		problems = append(problems, fmt.Sprintf("legacy_id is longer than %d characters", maxLegacyIDLen))
	}
	if _, ok := casefile.LookupNoteType(row.Type); row.Type != "" && !ok {
		problems = append(problems, fmt.Sprintf("type %q is not a note type (see GET /v1/note-types)", row.Type))
	}
	var err error
	if s := get("occurred_at"); s != "" {
		if row.OccurredAt, err = parseTime(s); err != nil {
			problems = append(problems, "occurred_at: "+err.Error())
		}
	}
	if s := get("recorded_at"); s != "" {
		if row.RecordedAt, err = parseTime(s); err != nil {
			problems = append(problems, "recorded_at: "+err.Error())
		}
	}
	if !row.RecordedAt.IsZero() && row.RecordedAt.After(now.Add(clockSkew)) {
		problems = append(problems, "recorded_at is in the future")
	}
	if !row.OccurredAt.IsZero() && row.OccurredAt.After(now.Add(clockSkew)) {
		problems = append(problems, "occurred_at is in the future")
	}
	if !row.OccurredAt.IsZero() && !row.RecordedAt.IsZero() && row.OccurredAt.After(row.RecordedAt.Add(clockSkew)) {
		problems = append(problems, "occurred_at is after recorded_at: a note cannot be recorded before it happened")
	}
	for _, f := range []struct{ name, v string }{{"body", row.Body}, {"author", row.Author}, {"correction_reason", row.CorrectionReason}} {
		if !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			problems = append(problems, f.name+" is not UTF-8 text (export the file as UTF-8)")
		}
	}
	if utf8.RuneCountInString(row.CorrectionReason) > MaxReasonChars {
		problems = append(problems, fmt.Sprintf("correction_reason is longer than %d characters; a reason says in a sentence or two what was wrong", MaxReasonChars))
	}
	if (row.CorrectsLegacyID == "") != (row.CorrectionReason == "") {
		problems = append(problems, "corrects_legacy_id and correction_reason go together: a correction names its note and says why")
	}
	return row, problems
}

// parseTime accepts RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" taken as UTC, as
// case management exports write it. Times are kept to the microsecond, as
// PostgreSQL stores them.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-01-31T09:30:00Z or 2026-01-31 09:30", s)
}
