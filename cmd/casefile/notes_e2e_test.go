package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestCaseNotesEndToEnd(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	ict := s.token("ict")
	pid := s.person("N-1", "2014-05-05")
	other := s.person("N-2", "2013-01-01")
	url := "/v1/persons/" + pid + "/notes"

	visit := s.must(201, "POST", url, prac, map[string]any{"type": "cla_placement_visit", "occurred_at": "2026-03-02T10:00:00Z",
		"body": "Visited Amy at her placement; seen alone in her room."})
	call := s.must(201, "POST", url, prac, map[string]any{"type": "telephone_call", "occurred_at": "2026-03-01T09:00:00Z",
		"body": "Emailed school re attendance, awaiting reply. Spoke to the head about attendance of 80%."})
	if !filled(visit, "recorded_at") || visit["author"] != "test-practitioner" || visit["versions"] != float64(1) {
		t.Fatalf("note = %v", visit)
	}
	// recorded_at is the server's, whatever the caller sends.
	if r := s.do("POST", url, prac, map[string]any{"type": "contact", "occurred_at": "2026-03-01T09:00:00Z", "body": "x",
		"recorded_at": "2020-01-01T00:00:00Z"}); r.Status != 400 || r.ErrorCode() != "unknown_field" {
		t.Fatalf("caller-supplied recorded_at: %d %s", r.Status, r.Body)
	}

	refused := []struct {
		name string
		body map[string]any
		code string
	}{
		{"pasted email", map[string]any{"type": "contact", "occurred_at": "2026-03-01T09:00:00Z",
			"body": "Copy of email below\n\nFrom: Jo Head <head@school.example.org>\nSent: 01 March 2026 08:55\nTo: Duty\nSubject: Amy\n\nAmy absent."}, "pasted_email"},
		{"future", map[string]any{"type": "contact", "occurred_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "body": "x"}, "occurred_in_future"},
		{"bad type", map[string]any{"type": "gossip", "occurred_at": "2026-03-01T09:00:00Z", "body": "x"}, "invalid_type"},
		{"correction without reason", map[string]any{"type": "correction", "occurred_at": "2026-03-03T09:00:00Z", "body": "x",
			"corrects_note_id": call["id"]}, "missing_correction_reason"},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			got := s.do("POST", url, prac, r.body)
			if got.Status != 422 || got.ErrorCode() != r.code {
				t.Fatalf("%d %s, want 422 %s", got.Status, got.Body, r.code)
			}
		})
	}
	if r := s.do("POST", url, prac, map[string]any{"type": "contact", "occurred_at": "2026-03-01T09:00:00Z", "body": "Copied below:\nFrom: Jo Head <head@school.example.org>\nSent: 01 March 2026 08:55\nTo: Duty Team\nSubject: Amy"}); r.Status != 422 || !strings.Contains(r.JSON()["error"].(map[string]any)["message"].(string), "upload the email as a document") {
		t.Fatalf("pasted_email message does not tell the author what to do: %s", r.Body)
	}

	if r := s.do("POST", url, prac, map[string]any{"type": "correction", "occurred_at": "2026-03-03T09:00:00Z", "body": "x",
		"corrects_note_id": "not-a-uuid", "correction_reason": "y"}); r.Status != 422 || r.ErrorCode() != "corrected_note_not_found" {
		t.Fatalf("correction of a non-id: %d %s", r.Status, r.Body)
	}
	types := s.must(200, "GET", "/v1/note-types", s.token("auditor"), nil)["items"].([]any)
	var codes, visits []string
	for _, x := range types {
		m := x.(map[string]any)
		codes = append(codes, m["code"].(string))
		if m["visit"] == true {
			visits = append(visits, m["code"].(string))
		}
	}
	if strings.Join(visits, ",") != "cla_placement_visit,cp_plan_visit,cin_visit,iro_visit_to_child" || len(codes) != 12 {
		t.Fatalf("note types = %v (visits %v)", codes, visits)
	}

	// A correction is a new note; the original stays as it was.
	corr := s.must(201, "POST", url, prac, map[string]any{"type": "correction", "occurred_at": "2026-03-03T09:00:00Z",
		"body": "Correction: attendance is 90%, not 80%.", "corrects_note_id": call["id"], "correction_reason": "Figure misheard on the phone"})
	got := s.must(200, "GET", "/v1/notes/"+call["id"].(string), prac, nil)
	if got["body"] != call["body"] || len(got["corrections"].([]any)) != 1 || got["corrections"].([]any)[0].(map[string]any)["id"] != corr["id"] {
		t.Fatalf("corrected note = %v", got)
	}
	if r := s.do("POST", "/v1/persons/"+other+"/notes", prac, map[string]any{"type": "correction", "occurred_at": "2026-03-03T09:00:00Z",
		"body": "x", "corrects_note_id": call["id"], "correction_reason": "y"}); r.Status != 422 || r.ErrorCode() != "correction_on_other_person" {
		t.Fatalf("correction on another person: %d %s", r.Status, r.Body)
	}

	// Chronological: occurred_at order, not creation order.
	list := s.must(200, "GET", url, prac, nil)["items"].([]any)
	var order []string
	for _, n := range list {
		order = append(order, n.(map[string]any)["id"].(string))
	}
	if strings.Join(order, ",") != strings.Join([]string{call["id"].(string), visit["id"].(string), corr["id"].(string)}, ",") {
		t.Fatalf("order = %v", order)
	}
	if hits := s.must(200, "GET", url+"?q=placement", prac, nil)["items"].([]any); len(hits) != 1 || hits[0].(map[string]any)["id"] != visit["id"] {
		t.Fatalf("search placement = %v", hits)
	}
	if hits := s.must(200, "GET", url+"?q=attendance", prac, nil)["items"].([]any); len(hits) != 2 {
		t.Fatalf("search attendance = %d hits", len(hits))
	}

	// Never changed: the API refuses, and so does the database.
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		if r := s.do(m, "/v1/notes/"+visit["id"].(string), prac, map[string]any{"body": "x"}); r.Status != 405 || r.ErrorCode() != "case_notes_are_immutable" {
			t.Fatalf("%s note: %d %s", m, r.Status, r.Body)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"UPDATE note_versions SET body = 'edited' WHERE note_id = '" + visit["id"].(string) + "'",
		"UPDATE note_versions SET body = NULL WHERE note_id = '" + visit["id"].(string) + "'",
		"DELETE FROM note_versions WHERE note_id = '" + visit["id"].(string) + "'",
		"DELETE FROM notes WHERE id = '" + visit["id"].(string) + "'",
		"UPDATE notes SET occurred_at = now() WHERE id = '" + visit["id"].(string) + "'",
		"INSERT INTO note_versions (note_id, version, body, body_sha256, created_by) VALUES ('" + visit["id"].(string) + "', 2, 'sneaky', 'x', 'x')",
	} {
		if _, err := conn.Exec(ctx, sql); err == nil {
			t.Errorf("the database allowed: %s", sql)
		}
	}

	// Visit notes: amendment only while reopened; every version kept.
	vid := visit["id"].(string)
	if r := s.do("POST", "/v1/notes/"+vid+"/amendments", ict, map[string]any{"body": "amended", "reason": "r"}); r.Status != 409 || r.ErrorCode() != "not_reopened" {
		t.Fatalf("amend without reopen: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/v1/notes/"+vid+"/amendments", prac, map[string]any{"body": "amended", "reason": "r"}); r.Status != 403 {
		t.Fatalf("practitioner amending: %d", r.Status)
	}
	if _, err := conn.Exec(ctx, "UPDATE notes SET reopened_by_ticket = gen_random_uuid() WHERE id = $1", vid); err != nil {
		t.Fatal(err)
	}
	s.must(201, "POST", "/v1/notes/"+vid+"/amendments", ict, map[string]any{"body": "Visited Amy at her placement; seen alone; bedroom checked.", "reason": "Bedroom check omitted"})
	if r := s.do("POST", "/v1/notes/"+vid+"/amendments", ict, map[string]any{"body": "again", "reason": "r"}); r.Status != 409 {
		t.Fatalf("second amendment in one window: %d %s", r.Status, r.Body)
	}
	vs := s.must(200, "GET", "/v1/notes/"+vid+"/versions", prac, nil)["items"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["body"] != visit["body"] || vs[1].(map[string]any)["reason"] != "Bedroom check omitted" {
		t.Fatalf("versions = %v", vs)
	}

	// Scan finds a pasted email that came in through the legacy import.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n"+
		"L1,N-1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Fine note\n"+
		"L2,N-1,wizardry,2019-01-02 10:00,2019-01-02 12:00,old.user,Bad type\n"+
		"L3,N-1,contact,not a date,2019-01-02 12:00,old.user,Bad date\n"), 0o600)
	out, err := s.cli("notes", "import", "--csv", bad)
	if err == nil || !strings.Contains(out, "bad.csv:3:") || !strings.Contains(out, "bad.csv:4:") || strings.Contains(out, "bad.csv:2:") {
		t.Fatalf("import of a file with bad rows: %v\n%s", err, out)
	}
	if n := len(s.must(200, "GET", url+"?limit=500", prac, nil)["items"].([]any)); n != 3 {
		t.Fatalf("a bad file imported something: %d notes", n)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body,corrects_legacy_id,correction_reason\n"+
		"L1,N-1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Fine note,,\n"+
		"L2,N-1,contact,2019-01-02T10:00:00Z,2019-01-02T12:00:00Z,old.user,\"See below\n-----Original Message-----\nFrom: x\",,\n"+
		"L3,N-1,correction,2019-01-03 10:00,2019-01-03 12:00,old.user,Corrects L1,L1,Wrong day\n"), 0o600)
	out, err = s.cli("notes", "import", "--csv", good)
	if err != nil || !strings.Contains(out, "imported 3 note(s), 0 already imported, 1 with pasted emails") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err = s.cli("notes", "import", "--csv", good)
	if err != nil || !strings.Contains(out, "imported 0 note(s), 3 already imported") {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
	first := s.must(200, "GET", url, prac, nil)["items"].([]any)[0].(map[string]any)
	if first["recorded_at"] != "2019-01-01T12:00:00Z" || first["imported"] != true {
		t.Fatalf("imported note = %v", first)
	}
	scan := s.must(200, "POST", "/v1/notes/scan", ict, nil)
	findings := scan["findings"].([]any)
	if len(findings) != 1 || findings[0].(map[string]any)["rule"] != "original_message_separator" {
		t.Fatalf("scan = %v", scan)
	}
	out, err = s.cli("notes", "scan")
	if err != nil || !strings.Contains(out, "1 contain pasted emails") {
		t.Fatalf("notes scan: %v %s", err, out)
	}

	// --raise-tickets raises one removal ticket per note, and never a second.
	out, err = s.cli("notes", "scan", "--raise-tickets")
	if err != nil || !strings.Contains(out, "1 removal ticket(s) raised") {
		t.Fatalf("notes scan --raise-tickets: %v %s", err, out)
	}
	again := s.must(200, "POST", "/v1/notes/scan?raise_tickets=true", ict, nil)
	if f := again["findings"].([]any)[0].(map[string]any); again["tickets_raised"] != float64(0) || !filled(f, "ticket_id") || f["ticket_created"] == true {
		t.Fatalf("second scan raising tickets = %v", again)
	}
	if r := s.do("POST", "/v1/notes/scan?raise_tickets=maybe", ict, nil); r.Status != 400 {
		t.Fatalf("raise_tickets=maybe: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/v1/notes/scan", prac, nil); r.Status != 403 {
		t.Fatalf("practitioner scanning: %d", r.Status)
	}

	// Problems only the database can see are all reported too, by line.
	worse := filepath.Join(dir, "worse.csv")
	os.WriteFile(worse, []byte("legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body,corrects_legacy_id,correction_reason\n"+
		"M1,N-404,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Nobody,,\n"+
		"M2,N-2,correction,2019-01-01 10:00,2019-01-01 12:00,old.user,Wrong record,L1,Because\n"+
		"M3,N-1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Fine,,\n"+
		"L1,N-1,contact,2019-01-01 10:00,2019-01-01 12:00,old.user,Changed since,,\n"), 0o600)
	out, err = s.cli("notes", "import", "--csv", worse)
	if err == nil || !strings.Contains(out, "worse.csv:2: no person") || !strings.Contains(out, "worse.csv:3: corrects_legacy_id \"L1\" is a note on another person") ||
		strings.Contains(out, "worse.csv:4") || !strings.Contains(out, "worse.csv:5: legacy_id \"L1\" was imported before") ||
		!strings.Contains(out, "3 bad row(s); nothing was imported") {
		t.Fatalf("import with database problems: %v\n%s", err, out)
	}
	out, err = s.cli("notes", "import", "--csv", good)
	if err != nil || !strings.Contains(out, "nothing new to import") {
		t.Fatalf("third import: %v\n%s", err, out)
	}

	// The example in docs/notes.md imports as documented.
	s.person("LCS-100", "2012-02-29")
	docEx := filepath.Join(dir, "legacy-notes.csv")
	os.WriteFile(docEx, []byte(`legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body,corrects_legacy_id,correction_reason
L1001,LCS-100,home_visit,2019-01-07 10:00,2019-01-07 15:12,j.smith,"Visited; nobody in. Card left.",,
L1002,LCS-100,correction,2019-01-08 09:00,2019-01-08 09:30,j.smith,Card was left on the 7th not the 6th.,L1001,Wrong date in the first note
`), 0o600)
	if out, err := s.cli("notes", "import", "--csv", docEx); err != nil || !strings.Contains(out, "imported 2 note(s), 0 already imported, 0 with pasted emails") {
		t.Fatalf("docs example: %v\n%s", err, out)
	}

	// Reads and creations are audited.
	evs := s.must(200, "GET", "/v1/audit?person_id="+pid+"&limit=500", s.Admin, nil)["items"].([]any)
	count := map[string]int{}
	for _, e := range evs {
		count[e.(map[string]any)["action"].(string)]++
	}
	if count["note.create"] != 6 || count["note.read"] < 3 || count["note.search"] != 2 || count["note.amend"] != 1 || count["note.scan_finding"] != 4 {
		t.Fatalf("audit counts = %v", count)
	}
}
