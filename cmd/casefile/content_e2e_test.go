package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The content rules through the API, against the real services: reasons
// are guarded, bounded and gone after a removal (from the note, its
// versions, the note it corrects and a new export's chronology); a
// destroyed person's record takes no writes.
func TestContentRulesThroughTheAPI(t *testing.T) {
	s := startService(t, nil)
	prac, ict, ro := s.token("practitioner"), s.token("ict"), s.token("records_officer")
	amy, bob := s.person("CT-1", "2012-01-01"), s.person("CT-2", "2013-01-01")
	url := "/v1/persons/" + amy + "/notes"
	orig := s.must(201, "POST", url, prac, map[string]any{"type": "cin_visit", "occurred_at": "2026-01-01T10:00:00Z", "body": "Seen at home."})
	pasted := "See below\n\nFrom: Jo Head <head@school.example.org>\nSent: 01 March 2026 08:55\nTo: Duty Team\nSubject: Amy\n\nAmy absent."
	for _, tc := range []struct{ name, reason, code string }{
		{"pasted", pasted, "pasted_email"},
		{"long", strings.Repeat("x", 2001), "reason_too_long"},
	} {
		if r := s.do("POST", url, prac, map[string]any{"type": "correction", "occurred_at": "2026-01-02T10:00:00Z", "body": "Seen alone too.",
			"corrects_note_id": orig["id"], "correction_reason": tc.reason}); r.Status != 422 || r.ErrorCode() != tc.code {
			t.Errorf("correction_reason %s: %d %s, want 422 %s", tc.name, r.Status, r.Body, tc.code)
		}
		if r := s.do("POST", "/v1/notes/"+orig["id"].(string)+"/amendments", ict, map[string]any{"body": "Seen at home; alone.",
			"reason": tc.reason}); r.Status != 422 || r.ErrorCode() != tc.code {
			t.Errorf("amendment reason %s: %d %s, want 422 %s", tc.name, r.Status, r.Body, tc.code)
		}
	}

	// A correction whose reason names a third party is removed: the reason goes too.
	const secret = "Quuxreason Jo Bloggs"
	corr := s.must(201, "POST", url, prac, map[string]any{"type": "correction", "occurred_at": "2026-01-02T10:00:00Z",
		"body": "Correction: partner's name.", "corrects_note_id": orig["id"], "correction_reason": secret + " is the partner"})
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": corr["id"],
		"reason": "third party named"})
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	if done := s.waitTicket(t, ict, tk["id"].(string)); done["state"] != "done" {
		t.Fatalf("removal = %v", done)
	}
	for _, path := range []string{"/v1/notes/" + corr["id"].(string), "/v1/notes/" + corr["id"].(string) + "/versions",
		"/v1/notes/" + orig["id"].(string), url} {
		if r := s.do("GET", path, prac, nil); r.Status != 200 || bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("GET %s after removal: %d, shows the removed reason: %s", path, r.Status, r.Body)
		}
	}
	exp := s.must(202, "POST", "/v1/persons/"+amy+"/exports", ro, nil)
	eventually(t, 60*time.Second, "export done", func() bool {
		return s.must(200, "GET", "/v1/exports/"+exp["id"].(string), ro, nil)["state"] == "done"
	})
	zipped := s.do("GET", "/v1/exports/"+exp["id"].(string)+"/content", ro, nil)
	zr, err := zip.NewReader(bytes.NewReader(zipped.Body), int64(len(zipped.Body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("a new export's %s shows the removed reason", f.Name)
		}
	}

	// A destroyed person takes no writes (set as a retention run leaves them).
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	misfiled := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-03T10:00:00Z", "body": "Phoned."})
	if _, err := conn.Exec(ctx, `UPDATE persons SET given_name = NULL, family_name = NULL, date_of_birth = NULL, status = 'destroyed',
		identity_destroyed_at = now() WHERE id = $1`, bob); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		what, method, path, token string
		body                      any
	}{
		{"note", "POST", "/v1/persons/" + bob + "/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-03T10:00:00Z", "body": "x"}},
		{"involvement", "POST", "/v1/persons/" + bob + "/involvements", prac, map[string]any{"kind": "early_help", "started_on": "2020-01-01"}},
		{"export", "POST", "/v1/persons/" + bob + "/exports", ro, nil},
		{"re-index target", "POST", "/v1/tickets", prac, map[string]any{"kind": "reindex", "target_type": "note", "target_id": misfiled["id"],
			"to_person_id": bob, "reason": "wrong child"}},
	} {
		if r := s.do(w.method, w.path, w.token, w.body); r.Status != 409 || r.ErrorCode() != "person_destroyed" {
			t.Errorf("%s on a destroyed person: %d %s, want 409 person_destroyed", w.what, r.Status, r.Body)
		}
	}
	csv := "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\nL-1,CT-2,contact,2020-01-01 10:00,2020-01-01 11:00,old,Old note.\n"
	if out, err := s.cli("notes", "import", "--csv", writeTemp(t, csv)); err == nil || !strings.Contains(out, "person_destroyed") {
		t.Errorf("import onto a destroyed person: %v %s", err, out)
	}
}
