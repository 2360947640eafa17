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

// ImportColumns are the columns of a legacy notes export, in any order, with
// a header row. corrects_legacy_id and correction_reason may be empty.
var ImportColumns = []string{"legacy_id", "person_external_ref", "type", "occurred_at", "recorded_at", "author", "body",
	"corrects_legacy_id", "correction_reason"}

var requiredColumns = map[string]bool{"legacy_id": true, "person_external_ref": true, "type": true, "occurred_at": true,
	"recorded_at": true, "author": true, "body": true}

// LineError is a bad row of an import file.
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseCSV reads and checks a whole legacy export. It returns every bad row,
// so that the file can be fixed in one go; nothing is imported from a file
// with any bad row.
func ParseCSV(r io.Reader) ([]*casefile.NoteImport, []LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, nil, fmt.Errorf("the header row lacks column %q; columns are %s", c, strings.Join(ImportColumns, ","))
		}
	}
	var rows []*casefile.NoteImport
	var bad []LineError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{pe.StartLine, pe.Err.Error()})
				continue
			}
			return nil, nil, err
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		var problems []string
		row := &casefile.NoteImport{Line: line, LegacyID: get("legacy_id"), PersonRef: get("person_external_ref"), Type: get("type"),
			Author: get("author"), Body: get("body"), CorrectsLegacyID: get("corrects_legacy_id"), CorrectionReason: get("correction_reason")}
		for c := range requiredColumns {
			if get(c) == "" {
				problems = append(problems, c+" is empty")
			}
		}
		if _, ok := casefile.LookupNoteType(row.Type); row.Type != "" && !ok {
			problems = append(problems, fmt.Sprintf("type %q is not a note type", row.Type))
		}
		var perr error
		if row.OccurredAt, perr = parseTime(get("occurred_at")); get("occurred_at") != "" && perr != nil {
			problems = append(problems, "occurred_at: "+perr.Error())
		}
		if row.RecordedAt, perr = parseTime(get("recorded_at")); get("recorded_at") != "" && perr != nil {
			problems = append(problems, "recorded_at: "+perr.Error())
		}
		if !row.RecordedAt.IsZero() && row.RecordedAt.After(time.Now().Add(clockSkew)) {
			problems = append(problems, "recorded_at is in the future")
		}
		if !row.OccurredAt.IsZero() && row.OccurredAt.After(time.Now().Add(clockSkew)) {
			problems = append(problems, "occurred_at is in the future")
		}
		if !utf8.ValidString(row.Body) || strings.ContainsRune(row.Body, 0) {
			problems = append(problems, "body is not UTF-8 text")
		}
		if (row.CorrectsLegacyID == "") != (row.CorrectionReason == "") {
			problems = append(problems, "corrects_legacy_id and correction_reason go together")
		}
		if prev, dup := seen[row.LegacyID]; dup && row.LegacyID != "" {
			problems = append(problems, fmt.Sprintf("legacy_id %q already used on line %d", row.LegacyID, prev))
		}
		seen[row.LegacyID] = line
		if len(problems) > 0 {
			bad = append(bad, LineError{line, strings.Join(problems, "; ")})
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// parseTime accepts RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" taken as UTC, as
// case management exports write it.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-01-31T09:30:00Z or 2026-01-31 09:30", s)
}
