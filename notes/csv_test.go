package notes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseCSVReportsEveryBadRowByLine(t *testing.T) {
	in := "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body,corrects_legacy_id,correction_reason\r\n" +
		"L1,P1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,\"Two\r\nline body, with a comma and \"\"quotes\"\"\",,\n" + // lines 2-3
		"L2,P1,wizardry,2019-01-02 10:00,2019-01-02 12:00,old.user,Bad type,,\n" + // 4
		"L3,P1,contact,31/01/2019,2019-01-02 12:00,old.user,Bad date,,\n" + // 5
		"L4,P1,contact,2019-01-03 10:00,2019-01-02 12:00,old.user,Recorded before it happened,,\n" + // 6
		"L5,P1,contact,2030-01-01 10:00,2030-01-01 12:00,old.user,Future,,\n" + // 7
		"L1,P1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Duplicate id,,\n" + // 8
		"L6,,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,   ,,\n" + // 9
		"L7,P1,correction,2019-01-04 10:00,2019-01-04 12:00,old.user,No reason,L1,\n" + // 10
		"L8,P1,contact,2019-01-04 10:00\n" + // 11
		"L9,P1,contact,2019-01-04 10:00,2019-01-04 12:00,old.user,\"unterminated\n" // 12
	rows, bad, err := notes.ParseCSV(strings.NewReader(in), now)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, b := range bad {
		lines = append(lines, b.Line)
	}
	if diff := cmp.Diff([]int{4, 5, 6, 7, 8, 9, 10, 11, 12}, lines); diff != "" {
		t.Fatalf("bad lines (-want +got):\n%s\n%+v", diff, bad)
	}
	for i, want := range []string{"not a note type", "occurred_at", "recorded before it happened", "in the future",
		`also on line 2`, "person_external_ref is empty; body is empty", "go together", "has 4 fields"} {
		if !strings.Contains(bad[i].Msg, want) {
			t.Errorf("line %d: %q does not say %q", bad[i].Line, bad[i].Msg, want)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("good rows = %d", len(rows))
	}
	want := &casefile.NoteImport{Line: 2, LegacyID: "L1", PersonRef: "P1", Type: "contact",
		OccurredAt: time.Date(2019, 1, 1, 10, 0, 0, 0, time.UTC), RecordedAt: time.Date(2019, 1, 1, 12, 0, 0, 0, time.UTC),
		Author: "old.user", Body: "Two\nline body, with a comma and \"quotes\""} // encoding/csv turns CRLF in a quoted field into LF
	if diff := cmp.Diff(want, rows[0]); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}

func TestParseCSVHeader(t *testing.T) {
	for name, tc := range map[string]struct{ in, err string }{
		"empty":          {"", "empty"},
		"missing column": {"legacy_id,person_external_ref,type,occurred_at,recorded_at,author\n", `lacks column "body"`},
		"unknown column": {"legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body,corects_legacy_id\n", `unknown column "corects_legacy_id"`},
		"twice":          {"legacy_id,legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n", "twice"},
	} {
		_, _, err := notes.ParseCSV(strings.NewReader(tc.in), now)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", name, err, tc.err)
		}
	}
	// Any column order, a byte-order mark, optional columns left out, RFC 3339 times.
	in := "\ufeffbody,author,recorded_at,occurred_at,type,person_external_ref,legacy_id\n" +
		"Seen at school,a.user,2019-05-01T12:00:00+01:00,2019-05-01T10:00:00Z,cin_visit,P2,X-1\n"
	rows, bad, err := notes.ParseCSV(strings.NewReader(in), now)
	if err != nil || len(bad) != 0 || len(rows) != 1 {
		t.Fatalf("rows %v bad %v err %v", rows, bad, err)
	}
	if rows[0].RecordedAt != time.Date(2019, 5, 1, 11, 0, 0, 0, time.UTC) || rows[0].Type != "cin_visit" || rows[0].Body != "Seen at school" {
		t.Errorf("row = %+v", rows[0])
	}
}
