package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
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
	if err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "signed by the service's key") ||
		!strings.Contains(out, "matches its export.build audit event") {
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
		"documents/001-Re_contact_arrangements.eml.attachments/01-plan.pdf", "manifest.json", "manifest.sig"}
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

	// Tampering with one byte is caught by the manifest: the entry is
	// rewritten with a valid CRC, so the zip itself reads cleanly and it is
	// the manifest comparison that catches it.
	tamper := func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "plan.pdf") {
			return bytes.Replace(b, []byte("%PDF-1.4 plan"), []byte("%PDF-1.4 plaN"), 1)
		}
		return b
	}
	bad := rewriteBundle(t, r.Body, tamper, false, nil)
	if out, err := s.cli("export", "verify", writeBundle(t, bad)); err == nil || !strings.Contains(out, "plan.pdf: sha256") ||
		!strings.Contains(out, "manifest says") {
		t.Fatalf("verify of a tampered bundle: %v %s", err, out)
	}
	// The same edit with the manifest recomputed to match: the manifest's
	// signature no longer holds.
	resigned := rewriteBundle(t, r.Body, tamper, true, nil)
	if out, err := s.cli("export", "verify", writeBundle(t, resigned)); err == nil || !strings.Contains(out, "signature") {
		t.Fatalf("verify of an edited bundle with a recomputed manifest: %v %s", err, out)
	}
	// And signed again with a key of the forger's own: not the service's key.
	_, forger, _ := ed25519.GenerateKey(nil)
	forged := rewriteBundle(t, r.Body, tamper, true, forger)
	if out, err := s.cli("export", "verify", writeBundle(t, forged)); err == nil || !strings.Contains(out, "not the service's") {
		t.Fatalf("verify of an edited bundle signed with another key: %v %s", err, out)
	}
	// The untouched bundle verifies against the key the service publishes,
	// also given explicitly, with no service at all.
	key := s.must(200, "GET", "/v1/exports/signing-key", s.token("practitioner"), nil)
	keyID, _ := key["key_id"].(string)
	if !strings.HasPrefix(keyID, "ed25519:") || !strings.Contains(out, keyID) {
		t.Fatalf("signing key %v; verify said %s", key, out)
	}
	pemFile := filepath.Join(t.TempDir(), "casefile.pub")
	os.WriteFile(pemFile, []byte(key["public_key_pem"].(string)), 0o600) //nolint:errcheck
	var vout, verr bytes.Buffer
	if err := run(context.Background(), []string{"export", "verify", "--key", pemFile, path}, func(string) string { return "" }, &vout, &verr); err != nil ||
		!strings.Contains(vout.String(), "intact") || !strings.Contains(vout.String(), keyID) {
		t.Fatalf("verify with --key and no service: %v %s %s", err, vout.String(), verr.String())
	}
	vout.Reset()
	if err := run(context.Background(), []string{"export", "verify", "--key", pemFile, writeBundle(t, forged)}, func(string) string { return "" }, &vout, &verr); err == nil {
		t.Fatalf("verify of a forged bundle with --key: %s", vout.String())
	}
	if out, err := s.cli("export", "signing-key"); err != nil || !strings.Contains(out, keyID) || !strings.Contains(out, "BEGIN PUBLIC KEY") {
		t.Fatalf("casefile export signing-key: %v %s", err, out)
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

func writeBundle(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rewriteBundle writes the bundle again entry by entry (valid CRCs), with
// edit applied to each entry's bytes; with remanifest, the manifest's sizes
// and sha256s are recomputed to match, and with signer the manifest is
// signed again with it (the old signature kept otherwise).
func rewriteBundle(t *testing.T, body []byte, edit func(string, []byte) []byte, remanifest bool, signer ed25519.PrivateKey) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		entries[f.Name] = edit(f.Name, b)
		order = append(order, f.Name)
	}
	if remanifest {
		var m map[string]any
		if err := json.Unmarshal(entries["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		for _, f := range m["files"].([]any) {
			f := f.(map[string]any)
			b := entries[f["path"].(string)]
			sum := sha256.Sum256(b)
			f["sha256"], f["size"] = hex.EncodeToString(sum[:]), len(b)
		}
		entries["manifest.json"], _ = json.MarshalIndent(m, "", "  ")
		if signer != nil {
			pub := signer.Public().(ed25519.PublicKey)
			id := sha256.Sum256(pub)
			entries["manifest.sig"], _ = json.Marshal(map[string]string{"algorithm": "ed25519",
				"key_id": "ed25519:" + hex.EncodeToString(id[:8]), "signature": base64.StdEncoding.EncodeToString(ed25519.Sign(signer, entries["manifest.json"]))})
		}
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[name]) //nolint:errcheck
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
