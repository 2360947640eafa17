package main

import (
	"bytes"
	"testing"
	"time"
)

// One email about two siblings is filed on both records (a link): one
// object, a document on each record. Destroying the first record under the
// retention schedule (approved by a records officer) leaves the sibling's
// copy, email and attachment, downloadable byte for byte while a hold
// stands on the sibling's record; the object goes only when the sibling's
// record lets it go too, by an ICT removal.
func TestLinkedEmailSurvivesTheOtherRecordsDestruction(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_RETENTION_SETTLE_DAYS": "0"})
	prac, ro, ict := s.token("practitioner"), s.token("records_officer"), s.token("ict")
	today := time.Now().UTC()
	// Amy's early help record is due today (kept to age 30); Rory's is not.
	amy, rory := s.person("LNK-AMY", day(today.AddDate(-30, 0, 0))), s.person("LNK-RORY", day(today.AddDate(-20, 0, 0)))
	for _, p := range []string{amy, rory} {
		s.must(201, "POST", "/v1/persons/"+p+"/involvements", prac, map[string]any{"kind": "early_help",
			"started_on": day(today.AddDate(-25, 0, 0)), "ended_on": day(today.AddDate(-24, 0, 0))})
	}
	s.must(201, "POST", "/v1/persons/"+amy+"/relationships", prac, map[string]any{"to_person_id": rory, "kind": "sibling"})
	email := []byte("From: head@school.example.org\r\nSubject: Amy and Rory\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nBoth children were absent.\r\n--B\r\nContent-Type: application/pdf\r\n" +
		"Content-Disposition: attachment; filename=register.pdf\r\n\r\n%PDF-1.4 register\r\n--B--\r\n")
	doc := s.must(201, "POST", "/v1/persons/"+amy+"/documents?filename=absence.eml", prac, email, "Content-Type", "message/rfc822")
	docID := doc["id"].(string)
	attID := doc["attachments"].([]any)[0].(map[string]any)["id"].(string)
	attBytes := s.do("GET", "/v1/documents/"+attID+"/content", prac, nil).Body

	link := s.must(201, "POST", "/v1/documents/"+docID+"/links", prac, map[string]any{"person_id": rory})
	linkID := link["id"].(string)
	linkAtt := link["attachments"].([]any)[0].(map[string]any)
	if link["person_id"] != rory || link["linked_from"] != docID || link["sha256"] != doc["sha256"] || linkAtt["linked_from"] != attID {
		t.Fatalf("link = %v", link)
	}
	if again := s.must(200, "POST", "/v1/documents/"+docID+"/links", prac, map[string]any{"person_id": rory}); again["id"] != linkID || again["duplicate"] != true {
		t.Fatalf("linking twice = %v", again)
	}
	for name, c := range map[string]struct {
		path, person, code string
		status             int
	}{
		"the same person":     {"/v1/documents/" + docID + "/links", amy, "same_person", 409},
		"an attachment alone": {"/v1/documents/" + attID + "/links", rory, "attachment_not_linkable", 422},
		"no person":           {"/v1/documents/" + docID + "/links", "", "missing_person_id", 422},
	} {
		if r := s.do("POST", c.path, prac, map[string]any{"person_id": c.person}); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("linking %s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := s.do("POST", "/v1/documents/"+docID+"/links", ro, map[string]any{"person_id": rory}); r.Status != 403 {
		t.Errorf("a records officer (who cannot upload) linking: %d", r.Status)
	}
	if a := auditActions(s, amy); a["document.link_out"] != 1 {
		t.Errorf("Amy's trail: %v", a)
	}
	if a := auditActions(s, rory); a["document.link_in"] != 1 {
		t.Errorf("Rory's trail: %v", a)
	}

	// A hold on Rory's record; Amy's record is destroyed with approval.
	hold := s.must(201, "POST", "/v1/holds", ro, map[string]any{"name": "Care proceedings", "reason": "Court", "person_ids": []string{rory}})
	run := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false})
	s.waitState(t, ro, run["id"].(string), "awaiting_approval")
	s.must(202, "POST", "/v1/retention/runs/"+run["id"].(string)+"/approve", ro, nil)
	s.waitRun(t, ro, run["id"].(string))
	for _, id := range []string{docID, attID} {
		if r := s.do("GET", "/v1/documents/"+id+"/content", prac, nil); r.Status != 410 || r.ErrorCode() != "destroyed" {
			t.Fatalf("Amy's copy %s after destruction: %d %s", id, r.Status, r.Body)
		}
	}
	if p := s.must(200, "GET", "/v1/persons/"+amy, s.Admin, nil); p["status"] != "destroyed" {
		t.Fatalf("Amy's record after the run: %v", p)
	}
	s.checkStored(t, prac, link, email)
	if r := s.do("GET", "/v1/documents/"+linkAtt["id"].(string)+"/content", prac, nil); r.Status != 200 || !bytes.Equal(r.Body, attBytes) {
		t.Fatalf("Rory's attachment after Amy's destruction: %d, %d bytes", r.Status, len(r.Body))
	}
	keys := []string{"documents/" + docID, "documents/" + attID}
	for _, k := range keys {
		if n := s.objectVersions(t, k); n == 0 {
			t.Fatalf("object %s destroyed with Amy's record although Rory's record files it", k)
		}
	}
	if r := s.do("POST", "/v1/documents/"+linkID+"/links", prac, map[string]any{"person_id": amy}); r.Status != 409 || r.ErrorCode() != "person_destroyed" {
		t.Fatalf("linking to a destroyed record: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/v1/documents/"+docID+"/links", prac, map[string]any{"person_id": rory}); r.Status != 409 || r.ErrorCode() != "document_not_active" {
		t.Fatalf("linking a destroyed document: %d %s", r.Status, r.Body)
	}

	// Removal on Rory's record: refused while the hold stands, then the
	// last record lets the object go.
	removal := func() map[string]any {
		tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document", "target_id": linkID,
			"reason": "Filed in error"})
		s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
		return s.waitTicket(t, ict, tk["id"].(string))
	}
	if st := removal(); st["state"] != "failed" {
		t.Fatalf("removal under Rory's hold = %v", st)
	}
	s.checkStored(t, prac, link, email)
	s.must(200, "POST", "/v1/holds/"+hold["id"].(string)+"/release", ro, map[string]any{"reason": "Proceedings over"})
	if st := removal(); st["state"] != "done" {
		t.Fatalf("removal on the last record = %v", st)
	}
	if r := s.do("GET", "/v1/documents/"+linkID+"/content", prac, nil); r.Status != 410 || r.ErrorCode() != "removed" {
		t.Fatalf("Rory's copy after removal: %d %s", r.Status, r.Body)
	}
	for _, k := range keys {
		if n := s.objectVersions(t, k); n != 0 {
			t.Fatalf("object %s: %d versions left after the last record let it go", k, n)
		}
	}
}
