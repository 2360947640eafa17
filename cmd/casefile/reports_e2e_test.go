package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The reports through the API, on the whole service: who may read which,
// the refusals of bad queries, JSON and CSV, and the events the reports
// count recorded by the routes that make them (a pasted email refused, a
// verification of the audit log). Each report's figures are proved against
// a fixture in package reports.
func TestReportsAPI(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_LATE_NOTE_DAYS": "3"})
	prac, pracID := s.tokenWithID("Jo Bloggs", "practitioner")
	ro, aud, mgr := s.token("records_officer"), s.token("auditor"), s.token("manager")
	amy := s.person("RP-1", "2015-01-01")

	// A pasted email refused through the API is recorded for the report,
	// on Amy's trail, without its text.
	r := s.do("POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-01T10:00:00Z",
		"body": "From: Head Teacher\nSent: 02 March 2026 09:00\nTo: Duty\nSubject: Attendance\n\nAmy was absent."})
	if r.Status != 422 || r.ErrorCode() != "pasted_email" {
		t.Fatalf("pasted note: %d %s", r.Status, r.Body)
	}
	// A note recorded four days after it happened: late at three days.
	s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact",
		"occurred_at": time.Now().Add(-4 * 24 * time.Hour).UTC().Format(time.RFC3339), "body": "Phoned mum."})
	evs := s.must(200, "GET", "/v1/audit?action=note.refused_pasted_email&person_id="+amy, s.Admin, nil)["items"].([]any)
	if len(evs) != 1 || strings.Contains(string(mustJSON(t, evs)), "Head Teacher") ||
		evs[0].(map[string]any)["details"].(map[string]any)["author_id"] != pracID {
		t.Fatalf("refusal events: %v", evs)
	}

	rep := s.must(200, "GET", "/v1/reports/pasted-email-refusals", ro, nil)
	rows := rep["rows"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["author"] != "Jo Bloggs" || rows[0].(map[string]any)["team"] != "No team" ||
		rep["totals"].(map[string]any)["refusals"] != float64(1) || rep["scope"].(map[string]any)["all"] != true {
		t.Fatalf("refusals report: %v", rep)
	}
	late := s.must(200, "GET", "/v1/reports/late-notes", aud, nil)["totals"].(map[string]any)
	if late["notes"] != float64(1) || late["late"] != float64(1) || late["late_after_days"] != float64(3) {
		t.Fatalf("late notes totals: %v", late)
	}

	// CSV: a header row, then the rows; a download.
	c := s.do("GET", "/v1/reports/late-notes?format=csv&from=2026-01-01", ro, nil)
	recs, err := csv.NewReader(strings.NewReader(string(c.Body))).ReadAll()
	if c.Status != 200 || err != nil || !strings.HasPrefix(c.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(c.Header.Get("Content-Disposition"), `filename="late-notes_2026-01-01_`) ||
		len(recs) != 2 || strings.Join(recs[0], ",") != "team_id,team,author_id,author,notes,late,late_pct" || recs[1][3] != "Jo Bloggs" {
		t.Fatalf("csv: %d %v %s %v", c.Status, c.Header, c.Body, err)
	}

	// A verification of the audit log is kept for audit-integrity.
	s.must(200, "GET", "/v1/audit/verify", aud, nil)
	integ := s.must(200, "GET", "/v1/reports/audit-integrity", aud, nil)["totals"].(map[string]any)
	if integ["last_verification_ok"] != true || integ["verifications"] != float64(1) || integ["failures"] != float64(0) {
		t.Fatalf("audit-integrity: %v", integ)
	}

	// A manager sees their teams only: a token is in no team, so nothing.
	m := s.must(200, "GET", "/v1/reports/late-notes", mgr, nil)
	if len(m["rows"].([]any)) != 0 || m["scope"].(map[string]any)["all"] != false {
		t.Fatalf("manager without teams: %v", m)
	}
	for _, c := range []struct {
		path, token string
		status      int
		code        string
	}{
		{"/v1/reports/holds", mgr, 403, "report_not_for_managers"},
		{"/v1/reports/late-notes", prac, 403, "forbidden"},
		{"/v1/reports/late-notes", s.Admin, 403, "forbidden"},
		{"/v1/reports/nonsense", ro, 404, "unknown_report"},
		{"/v1/reports/late-notes?from=yesterday", ro, 400, "invalid_from"},
		{"/v1/reports/late-notes?to=2026-13-01", ro, 400, "invalid_to"},
		{"/v1/reports/late-notes?from=2026-03-02&to=2026-03-01", ro, 400, "invalid_range"},
		{"/v1/reports/late-notes?format=pdf", ro, 400, "invalid_format"},
	} {
		if r := s.do("GET", c.path, c.token, nil); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("GET %s = %d %s, want %d %s", c.path, r.Status, r.Body, c.status, c.code)
		}
	}
	// Every report read is audited, with no content.
	reads := s.must(200, "GET", "/v1/audit?action=report.read", s.Admin, nil)["items"].([]any)
	if len(reads) != 5 {
		t.Fatalf("report.read events: %d", len(reads))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
