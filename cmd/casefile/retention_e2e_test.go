package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile/storage/s3"
)

func (s *service) s3store(t *testing.T) *s3.Store {
	st, err := s3.Open(context.Background(), s3.Config{Endpoint: s.env["CASEFILE_S3_ENDPOINT"], AccessKey: s.env["CASEFILE_S3_ACCESS_KEY"],
		SecretKey: s.env["CASEFILE_S3_SECRET_KEY"], Bucket: s.env["CASEFILE_S3_BUCKET"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (s *service) waitRun(t *testing.T, token, id string) map[string]any {
	t.Helper()
	var r map[string]any
	eventually(t, 60*time.Second, "retention run "+id, func() bool {
		r = s.must(200, "GET", "/v1/retention/runs/"+id, token, nil)
		if r["state"] == "failed" {
			t.Fatalf("run failed: %v", r)
		}
		return r["state"] == "done"
	})
	return r
}

func (s *service) runItemsByState(t *testing.T, token, id string) map[string][]string {
	items := s.must(200, "GET", "/v1/retention/runs/"+id+"/items?limit=500", token, nil)["items"].([]any)
	out := map[string][]string{}
	for _, it := range items {
		m := it.(map[string]any)
		out[m["state"].(string)] = append(out[m["state"].(string)], m["item_type"].(string)+":"+m["item_id"].(string))
	}
	return out
}

func TestRetentionEndToEnd(t *testing.T) {
	// The records here are all made today: no settle period, so that what
	// is due by its dates is listed at once (settling is tested on its own).
	s := startService(t, map[string]string{"CASEFILE_RETENTION_SETTLE_DAYS": "0"})
	prac, ro := s.token("practitioner"), s.token("records_officer")
	today := time.Now().UTC()
	dob := func(days int) string { return today.AddDate(-30, 0, days).Format("2006-01-02") }

	// Early help records are kept until age 30.
	type rec struct{ id, doc, att, note string }
	mk := func(ref, birth string, open bool) rec {
		id := s.person(ref, birth)
		inv := map[string]any{"kind": "early_help", "started_on": today.AddDate(-25, 0, 0).Format("2006-01-02")}
		if !open {
			inv["ended_on"] = today.AddDate(-24, 0, 0).Format("2006-01-02")
		}
		s.must(201, "POST", "/v1/persons/"+id+"/involvements", prac, inv)
		email := fmt.Sprintf("From: school@example.org\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"+
			"--B\r\nContent-Type: text/plain\r\n\r\nAbout %s\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n\r\n%%PDF %s\r\n--B--\r\n", ref, ref, ref)
		d := s.must(201, "POST", "/v1/persons/"+id+"/documents?filename=e.eml", prac, []byte(email), "Content-Type", "message/rfc822")
		n := s.must(201, "POST", "/v1/persons/"+id+"/notes", prac, map[string]any{"type": "contact", "occurred_at": today.AddDate(-24, 0, 0).Format(time.RFC3339), "body": "Met " + ref})
		return rec{id, d["id"].(string), d["attachments"].([]any)[0].(map[string]any)["id"].(string), n["id"].(string)}
	}
	due := mk("DUE", dob(0), false)
	tomorrow := mk("TOMORROW", dob(1), false)
	held := mk("HELD", dob(-10), false)
	open := mk("OPEN", dob(-10), true)

	pos := s.must(200, "GET", "/v1/persons/"+due.id+"/retention", prac, nil)
	if pos["record_class"] != "early_help" || pos["disposal_due_on"] != today.Format("2006-01-02") {
		t.Fatalf("retention position = %v", pos)
	}
	sched := s.must(200, "GET", "/v1/retention/schedule", prac, nil)["items"].([]any)
	if len(sched) != 8 || !filled(sched[0].(map[string]any), "source") {
		t.Fatalf("schedule = %v", sched)
	}
	hold := s.must(201, "POST", "/v1/holds", ro, map[string]any{"name": "IICSA moratorium", "reason": "Public inquiry", "person_ids": []string{held.id}})
	if r := s.do("POST", "/v1/holds", prac, map[string]any{"name": "x", "reason": "y", "all": true}); r.Status != 403 {
		t.Fatalf("practitioner placing a hold: %d", r.Status)
	}
	if r := s.do("POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false, "as_of": "2099-01-01"}); r.Status != 422 || r.ErrorCode() != "as_of_needs_dry_run" {
		t.Fatalf("real run with as_of: %d %s", r.Status, r.Body)
	}

	// A dry run lists what is due, what is held back and why, and what needs review.
	dry := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": true})
	s.waitRun(t, ro, dry["id"].(string))
	st := s.runItemsByState(t, ro, dry["id"].(string))
	if len(st["due"]) != 4 || len(st["held_back"]) != 4 || len(st["review"]) != 4 || len(st["destroyed"]) != 0 {
		t.Fatalf("dry run items = %v", st)
	}
	for _, i := range st["due"] {
		if !strings.Contains(i, due.id) && !strings.Contains(i, due.doc) && !strings.Contains(i, due.att) && !strings.Contains(i, due.note) {
			t.Fatalf("dry run: %s is not the due person's", i)
		}
	}
	whatIf := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": true, "as_of": today.AddDate(0, 0, 1).Format("2006-01-02")})
	if r := s.waitRun(t, ro, whatIf["id"].(string)); r["due"] != float64(8) {
		t.Fatalf("what-if tomorrow: due %v", r["due"])
	}

	// The real run lists exactly what is due today and waits for a records
	// officer; approved, it destroys that.
	real := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false})
	s.waitState(t, ro, real["id"].(string), "awaiting_approval")
	if st := s.runItemsByState(t, ro, real["id"].(string)); len(st["due"]) != 4 || len(st["destroyed"]) != 0 {
		t.Fatalf("disposal list = %v", st)
	}
	if r := s.do("GET", "/v1/documents/"+due.doc+"/content", prac, nil); r.Status != 200 {
		t.Fatalf("a listed document before approval: %d", r.Status)
	}
	s.must(202, "POST", "/v1/retention/runs/"+real["id"].(string)+"/approve", ro, nil)
	run := s.waitRun(t, ro, real["id"].(string))
	cert := run["certificate"].(map[string]any)
	var certIDs []string
	for _, it := range cert["items"].([]any) {
		m := it.(map[string]any)
		certIDs = append(certIDs, m["item_id"].(string))
		if m["record_class"] != "early_help" || (m["item_type"] != "person" && !filled(m, "sha256")) {
			t.Errorf("certificate item = %v", m)
		}
	}
	if len(certIDs) != 4 || run["destroyed"] != float64(4) || run["held_back"] != float64(4) || cert["approved_by"] != "test-records_officer" || !filled(cert, "sha256") {
		t.Fatalf("run = %v", run)
	}
	for _, id := range []string{due.id, due.doc, due.att, due.note} {
		if !strings.Contains(strings.Join(certIDs, ","), id) {
			t.Errorf("certificate lacks %s", id)
		}
	}
	for _, id := range []string{due.doc, due.att} {
		if r := s.do("GET", "/v1/documents/"+id+"/content", prac, nil); r.Status != 410 || r.ErrorCode() != "destroyed" {
			t.Errorf("destroyed document %s: %d %s", id, r.Status, r.Body)
		}
		if n := s.objectVersions(t, "documents/"+id); n != 0 {
			t.Errorf("destroyed document %s has %d object versions", id, n)
		}
	}
	if n := s.must(200, "GET", "/v1/notes/"+due.note, prac, nil); n["status"] != "destroyed" || n["body"] != nil {
		t.Errorf("destroyed note = %v", n)
	}
	if p := s.must(200, "GET", "/v1/persons/"+due.id, prac, nil); p["status"] != "destroyed" || p["given_name"] != "" || p["external_ref"] != "DUE" {
		t.Errorf("destroyed person = %v", p)
	}
	for _, r := range []rec{tomorrow, held, open} {
		if resp := s.do("GET", "/v1/documents/"+r.doc+"/content", prac, nil); resp.Status != 200 {
			t.Errorf("document of a record not due was touched: %d", resp.Status)
		}
		if n := s.must(200, "GET", "/v1/notes/"+r.note, prac, nil); n["status"] != "active" {
			t.Errorf("note of a record not due: %v", n)
		}
	}

	// Object Lock refuses deletion of an object that is not yet due, tried
	// directly against S3; a legal hold refuses it even with the bypass.
	store := s.s3store(t)
	ctx := context.Background()
	key := "documents/" + tomorrow.doc
	info, err := store.Client().StatObject(ctx, store.Bucket(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Client().RemoveObject(ctx, store.Bucket(), key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
		t.Fatal("S3 deleted an object under governance retention without a bypass")
	}
	heldKey := "documents/" + held.doc
	eventually(t, 30*time.Second, "legal hold set on the held record's object", func() bool {
		st, err := store.Client().GetObjectLegalHold(ctx, store.Bucket(), heldKey, minio.GetObjectLegalHoldOptions{})
		return err == nil && st != nil && *st == minio.LegalHoldEnabled
	})
	hinfo, _ := store.Client().StatObject(ctx, store.Bucket(), heldKey, minio.StatObjectOptions{})
	if err := store.Client().RemoveObject(ctx, store.Bucket(), heldKey, minio.RemoveObjectOptions{VersionID: hinfo.VersionID, GovernanceBypass: true}); err == nil {
		t.Fatal("S3 deleted an object under a legal hold")
	}

	// Releasing the hold lets the next run destroy the held record.
	s.must(200, "POST", "/v1/holds/"+hold["id"].(string)+"/release", ro, map[string]any{"reason": "Inquiry closed"})
	again := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false})
	s.waitState(t, ro, again["id"].(string), "awaiting_approval")
	s.must(202, "POST", "/v1/retention/runs/"+again["id"].(string)+"/approve", ro, nil)
	run2 := s.waitRun(t, ro, again["id"].(string))
	if run2["destroyed"] != float64(4) {
		t.Fatalf("run after release = %v", run2)
	}
	if r := s.do("GET", "/v1/documents/"+held.doc+"/content", prac, nil); r.Status != 410 {
		t.Fatalf("held record after release: %d", r.Status)
	}
	if a := auditActions(s, due.id); a["retention.destroy"] != 1 {
		t.Fatalf("audit of the destroyed record = %v", a)
	}
}
