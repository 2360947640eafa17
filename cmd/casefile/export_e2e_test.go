package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"archive/zip"

	"github.com/jackc/pgx/v5"
)

// seedRecord writes a record straight into the stores, as the documents and
// notes APIs would: notes with a correction, an amended visit note and a
// removed note, and an email with an attachment. It returns the note ids.
func seedRecord(t *testing.T, s *service, personID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	store := s.s3store(t)
	ids := map[string]string{
		"visit": "0190a0c0-0000-7000-8000-000000000001", "wrong": "0190a0c0-0000-7000-8000-000000000002",
		"correction": "0190a0c0-0000-7000-8000-000000000003", "removed": "0190a0c0-0000-7000-8000-000000000004",
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	note := func(id, typ, at, body string, corrects *string, reason *string) {
		exec(`INSERT INTO notes (id, person_id, type, occurred_at, author, corrects_note_id, correction_reason) VALUES ($1,$2,$3,$4,'sw.jones',$5,$6)`,
			id, personID, typ, at, corrects, reason)
		exec(`INSERT INTO note_versions (note_id, version, body, body_sha256, created_by) VALUES ($1,1,$2,'x','sw.jones')`, id, body)
	}
	note(ids["visit"], "cla_placement_visit", "2026-01-05T10:00:00Z", "Visited Amy at her placement. Seen alone.", nil, nil)
	note(ids["wrong"], "telephone_call", "2026-01-06T09:00:00Z", "Spoke to the school: attendance 80%.", nil, nil)
	reason := "Attendance figure was wrong"
	note(ids["correction"], "correction", "2026-01-07T09:00:00Z", "Correction: attendance is 90%, not 80%.", &([]string{ids["wrong"]})[0], &reason)
	note(ids["removed"], "contact", "2026-01-08T09:00:00Z", "From: someone@example.org Sent: Monday SECRET-PASTED-TEXT", nil, nil)
	// The visit note was reopened by ICT and amended once.
	exec(`UPDATE notes SET reopened_by_ticket = gen_random_uuid() WHERE id = $1`, ids["visit"])
	exec(`INSERT INTO note_versions (note_id, version, body, body_sha256, created_by, reason) VALUES ($1,2,'Visited Amy at her placement. Seen alone; room checked.','y','ict.smith','Room check omitted')`, ids["visit"])
	exec(`UPDATE notes SET reopened_by_ticket = NULL, current_version = 2 WHERE id = $1`, ids["visit"])
	// The pasted email was removed under a ticket.
	exec(`UPDATE notes SET status = 'removed', removed_at = now(), removal_ticket_id = gen_random_uuid() WHERE id = $1`, ids["removed"])
	exec(`UPDATE note_versions SET body = NULL WHERE note_id = $1`, ids["removed"])

	put := func(id string, parent *string, kind, name string, body []byte) {
		key := "documents/" + id
		if _, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "application/octet-stream", time.Now().AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		exec(`INSERT INTO documents (id, person_id, kind, parent_id, filename, category, content_type, size, sha256, object_key, created_by)
			VALUES ($1,$2,$3,$4,$5,'correspondence','application/octet-stream',$6,$7,$8,'sw.jones')`,
			id, personID, kind, parent, name, len(body), hex.EncodeToString(sum[:]), key)
	}
	emailID := "0190a0c0-0000-7000-8000-0000000000e1"
	put(emailID, nil, "email", "Re: contact arrangements.eml", []byte("From: a@example.org\r\nSubject: contact\r\n\r\nhello\r\n"))
	put("0190a0c0-0000-7000-8000-0000000000e2", &emailID, "attachment", "../../plan.pdf", []byte("%PDF-1.4 plan"))
	put("0190a0c0-0000-7000-8000-0000000000e3", nil, "file", "removed.txt", []byte("removed document"))
	exec(`UPDATE documents SET status = 'removed' WHERE id = '0190a0c0-0000-7000-8000-0000000000e3'`)
	return ids
}

func TestExportBundleEndToEnd(t *testing.T) {
	s := startService(t, nil)
	ro := s.token("records_officer")
	personID := s.person("EXP-1", "2012-02-29")
	ids := seedRecord(t, s, personID)

	if r := s.do("POST", "/v1/persons/"+personID+"/exports", s.token("practitioner"), nil); r.Status != 403 {
		t.Fatalf("practitioner export: %d", r.Status)
	}
	e := s.must(202, "POST", "/v1/persons/"+personID+"/exports", ro, nil)
	id := e["id"].(string)
	eventually(t, 30*time.Second, "export done", func() bool {
		st := s.must(200, "GET", "/v1/exports/"+id, ro, nil)["state"]
		if st == "failed" {
			t.Fatalf("export failed: %v", s.must(200, "GET", "/v1/exports/"+id, ro, nil))
		}
		return st == "done"
	})
	r := s.do("GET", "/v1/exports/"+id+"/content", ro, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("content: %d %s", r.Status, r.Header)
	}
	path := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(path, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := s.cli("export", "verify", path)
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("export verify: %v %s", err, out)
	}

	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc) //nolint:errcheck
		rc.Close()
		files[f.Name] = b.String()
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	want := []string{"chronology.html", "chronology.pdf", "documents/001-Re_contact_arrangements.eml",
		"documents/001-Re_contact_arrangements.eml.attachments/01-plan.pdf", "manifest.json"}
	for _, w := range want {
		if _, ok := files[w]; !ok {
			t.Errorf("bundle lacks %s; has %v", w, names)
		}
	}
	if len(files) != len(want) {
		t.Errorf("bundle has %v, want exactly %v (no removed document)", names, want)
	}
	html := files["chronology.html"]
	for _, must := range []string{"Visited Amy at her placement. Seen alone.", "room checked", "Room check omitted",
		"Corrects <a href=\"#note-" + ids["wrong"], "Corrected by <a href=\"#note-" + ids["correction"], "This note was removed on"} {
		if !strings.Contains(html, must) {
			t.Errorf("chronology.html lacks %q", must)
		}
	}
	if strings.Contains(html, "SECRET-PASTED-TEXT") || strings.Contains(files["chronology.pdf"], "SECRET-PASTED-TEXT") {
		t.Error("the removed note's content is in the bundle")
	}
	if !strings.HasPrefix(files["chronology.pdf"], "%PDF-") {
		t.Error("chronology.pdf is not a PDF")
	}
	if !strings.Contains(files["manifest.json"], `"external_ref": "EXP-1"`) {
		t.Errorf("manifest: %.300s", files["manifest.json"])
	}

	// Tampering with one byte is caught.
	bad := bytes.Replace(r.Body, []byte("%PDF-1.4 plan"), []byte("%PDF-1.4 plaN"), 1)
	badPath := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(badPath, bad, 0o600) //nolint:errcheck
	if out, err := s.cli("export", "verify", badPath); err == nil || !strings.Contains(out, "plan.pdf") {
		t.Fatalf("verify of a tampered bundle: %v %s", err, out)
	}

	// The export and its download are audited.
	evs := s.must(200, "GET", "/v1/audit?person_id="+personID, s.Admin, nil)
	var actions []string
	for _, e := range evs["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	joined := strings.Join(actions, ",")
	for _, a := range []string{"export.request", "export.build", "export.download"} {
		if !strings.Contains(joined, a) {
			t.Errorf("audit lacks %s: %v", a, actions)
		}
	}
}
