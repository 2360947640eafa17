package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile/anchor"
)

func day(t time.Time) string { return t.Format("2006-01-02") }

// waitState waits for a run to reach state.
func (s *service) waitState(t *testing.T, token, id, state string) map[string]any {
	t.Helper()
	var r map[string]any
	eventually(t, 60*time.Second, "retention run "+id+" "+state, func() bool {
		r = s.must(200, "GET", "/v1/retention/runs/"+id, token, nil)
		if r["state"] == "failed" {
			t.Fatalf("run failed: %v", r)
		}
		return r["state"] == state
	})
	return r
}

// earlyHelp makes a person born dob with a closed early help involvement
// and one email document; it returns the person's and the document's ids.
func (s *service) earlyHelp(t *testing.T, ref string, dob time.Time) (string, string) {
	t.Helper()
	id := s.person(ref, day(dob))
	s.must(201, "POST", "/v1/persons/"+id+"/involvements", s.Admin, map[string]any{"kind": "early_help",
		"started_on": day(dob.AddDate(5, 0, 0)), "ended_on": day(dob.AddDate(6, 0, 0))})
	email := "From: school@example.org\r\nSubject: " + ref + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nAbout " + ref + "\r\n"
	d := s.must(201, "POST", "/v1/persons/"+id+"/documents?filename=e.eml", s.Admin, []byte(email), "Content-Type", "message/rfc822")
	return id, d["id"].(string)
}

// The scheduled tasks run through asynq's real scheduler (a one-second
// cron, real Redis): the nightly sweep makes a disposal list that waits for
// two different records officers, then destroys; the reconciliation finds
// an object missing from the bucket; the audit heads are anchored.
func TestScheduledTasksRunThroughTheScheduler(t *testing.T) {
	s := startService(t, map[string]string{
		"CASEFILE_RETENTION_CRON":        "@every 1s",
		"CASEFILE_RECONCILE_CRON":        "@every 1s",
		"CASEFILE_RETENTION_SETTLE_DAYS": "0",
		"CASEFILE_DISPOSAL_APPROVERS":    "2",
	})
	ro1, ro2 := s.token("records_officer"), s.token("records_officer") // same name, two tokens: two people
	today := time.Now().UTC()
	due, dueDoc := s.earlyHelp(t, "SWEPT", today.AddDate(-30, 0, -1))
	kept, keptDoc := s.earlyHelp(t, "KEPT", today.AddDate(-10, 0, 0))

	// The sweep's run stops with its list; nothing is destroyed.
	var runID string
	eventually(t, 60*time.Second, "the scheduled sweep's run awaits approval", func() bool {
		// (The audit filter takes two-part actions or families.)
		for _, ev := range s.must(200, "GET", "/v1/audit?limit=500&action=retention.*", s.Admin, nil)["items"].([]any) {
			if e := ev.(map[string]any); e["action"] == "retention.run.await_approval" {
				runID = e["target_id"].(string)
				return true
			}
		}
		return false
	})
	run := s.must(200, "GET", "/v1/retention/runs/"+runID, ro1, nil)
	if run["state"] != "awaiting_approval" || run["requested_by"] != "system:retention" || run["approvals_required"] != float64(2) || run["expires_at"] == nil {
		t.Fatalf("the sweep's run = %v", run)
	}
	st := s.runItemsByState(t, ro1, runID)
	if len(st["due"]) != 2 || !strings.Contains(strings.Join(st["due"], ","), dueDoc) {
		t.Fatalf("disposal list = %v", st)
	}
	if r := s.do("GET", "/v1/documents/"+dueDoc+"/content", s.Admin, nil); r.Status != 200 {
		t.Fatalf("listed document before approval: %d", r.Status)
	}
	// Practitioners cannot decide; one officer approves once.
	if r := s.do("POST", "/v1/retention/runs/"+runID+"/approve", s.token("practitioner"), nil); r.Status != 403 {
		t.Fatalf("practitioner approving: %d", r.Status)
	}
	if got := s.must(200, "POST", "/v1/retention/runs/"+runID+"/approve", ro1, nil); got["state"] != "awaiting_approval" {
		t.Fatalf("after one approval: %v", got)
	}
	if r := s.do("POST", "/v1/retention/runs/"+runID+"/approve", ro1, nil); r.Status != 409 || r.ErrorCode() != "same_person" {
		t.Fatalf("the same officer twice: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/v1/documents/"+dueDoc+"/content", s.Admin, nil); r.Status != 200 {
		t.Fatalf("listed document after one of two approvals: %d", r.Status)
	}
	s.must(202, "POST", "/v1/retention/runs/"+runID+"/approve", ro2, nil)
	done := s.waitState(t, ro1, runID, "done")
	cert := done["certificate"].(map[string]any)
	approvers := cert["approvers"].([]any)
	if len(approvers) != 2 || done["destroyed"] != float64(2) {
		t.Fatalf("run after two approvals = %v", done)
	}
	a0, a1 := approvers[0].(map[string]any), approvers[1].(map[string]any)
	if a0["id"] == a1["id"] || a0["id"] == "" || a0["name"] != "test-records_officer" || cert["approved_by"] != "test-records_officer, test-records_officer" {
		t.Fatalf("certificate approvers = %v", approvers)
	}
	if r := s.do("GET", "/v1/documents/"+dueDoc+"/content", s.Admin, nil); r.Status != 410 {
		t.Fatalf("destroyed document: %d", r.Status)
	}
	if p := s.must(200, "GET", "/v1/persons/"+due, s.Admin, nil); p["status"] != "destroyed" {
		t.Fatalf("destroyed person = %v", p)
	}

	// The reconciliation runs: an object taken from under a live record is
	// found missing and audited.
	store := s.s3store(t)
	ctx := context.Background()
	key := "documents/" + keptDoc
	info, err := store.Client().StatObject(ctx, store.Bucket(), key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Client().RemoveObject(ctx, store.Bucket(), key, minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the scheduled reconciliation reports the missing object", func() bool {
		return auditActions(s, kept)["storage.missing_object"] > 0
	})
	// ...and anchors the audit heads in the bucket.
	eventually(t, 30*time.Second, "an audit anchor in the bucket", func() bool {
		for o := range store.Client().ListObjects(ctx, store.Bucket(), minio.ListObjectsOptions{Prefix: anchor.Prefix}) {
			if o.Err == nil {
				return true
			}
		}
		return false
	})
}

// PATCH /v1/persons/{id} drives retention: a back-dated date of birth makes
// the record due at once, but it settles for review (30 days by default)
// instead of being listed; the change is audited with old and new values;
// the review queue says why and until when.
func TestPatchPersonDrivesRetention(t *testing.T) {
	s := startService(t, nil)
	prac, ro := s.token("practitioner"), s.token("records_officer")
	today := time.Now().UTC()
	born := today.AddDate(-10, 0, 0)
	id, doc := s.earlyHelp(t, "PATCHED", born)
	pos := s.must(200, "GET", "/v1/persons/"+id+"/retention", prac, nil)
	if pos["disposal_due_on"] != day(born.AddDate(30, 0, 0)) || pos["action"] != "destroy" {
		t.Fatalf("position before = %v", pos)
	}
	// Refused changes change nothing.
	if r := s.do("PATCH", "/v1/persons/"+id, ro, map[string]any{"date_of_birth": "1990-01-01"}); r.Status != 403 {
		t.Fatalf("records officer patching a person: %d", r.Status)
	}
	if r := s.do("PATCH", "/v1/persons/"+id, prac, map[string]any{"date_of_birth": day(today.AddDate(0, 0, 2))}); r.Status != 422 || r.ErrorCode() != "date_in_future" {
		t.Fatalf("future date of birth: %d %s", r.Status, r.Body)
	}
	if r := s.do("PATCH", "/v1/persons/"+id, prac, map[string]any{"date_of_death": day(born.AddDate(0, 0, -1))}); r.Status != 422 || r.ErrorCode() != "death_before_birth" {
		t.Fatalf("death before birth: %d %s", r.Status, r.Body)
	}
	if r := s.do("PATCH", "/v1/persons/"+id, prac, map[string]any{"date_of_birth": "31/12/1990"}); r.Status/100 != 4 {
		t.Fatalf("a date that is not a date: %d", r.Status)
	}
	if p := s.must(200, "GET", "/v1/persons/"+id+"/retention", prac, nil); p["disposal_due_on"] != pos["disposal_due_on"] {
		t.Fatalf("a refused change moved the date: %v", p)
	}

	// Back-dated by 21 years: due today, by the rule.
	newDOB := today.AddDate(-31, 0, 0)
	p := s.must(200, "PATCH", "/v1/persons/"+id, prac, map[string]any{"date_of_birth": day(newDOB)})
	if p["date_of_birth"] != day(newDOB) {
		t.Fatalf("patched person = %v", p)
	}
	pos = s.must(200, "GET", "/v1/persons/"+id+"/retention", prac, nil)
	if pos["disposal_due_on"] != day(newDOB.AddDate(30, 0, 0)) || pos["trigger_date"] != day(newDOB) {
		t.Fatalf("position after = %v", pos)
	}
	evs := s.must(200, "GET", "/v1/audit?action=person.update&person_id="+id, s.Admin, nil)["items"].([]any)
	if len(evs) != 1 {
		t.Fatalf("person.update events = %v", evs)
	}
	details := evs[0].(map[string]any)["details"].(map[string]any)
	change, _ := details["date_of_birth"].(map[string]any)
	if change["old"] != day(born) || change["new"] != day(newDOB) {
		t.Fatalf("audited change = %v", details)
	}
	// A real run lists nothing: the record settles for review.
	real := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false})
	run := s.waitRun(t, ro, real["id"].(string))
	if run["due"] != float64(0) || run["review"] != float64(2) || run["destroyed"] != float64(0) {
		t.Fatalf("run inside the settle period = %v", run)
	}
	if r := s.do("GET", "/v1/documents/"+doc+"/content", prac, nil); r.Status != 200 {
		t.Fatalf("document after the run: %d", r.Status)
	}
	q := s.must(200, "GET", "/v1/retention/review", ro, nil)["items"].([]any)
	if len(q) != 1 || q[0].(map[string]any)["person_id"] != id {
		t.Fatalf("review queue = %v", q)
	}
	reason := q[0].(map[string]any)["reasons"].([]any)[0].(map[string]any)
	if reason["code"] != "settle_period" || reason["until"] != day(today.AddDate(0, 0, 30)) {
		t.Fatalf("review reason = %v", reason)
	}
	// Put right: the date moves back, and so does the disposal date.
	s.must(200, "PATCH", "/v1/persons/"+id, prac, map[string]any{"date_of_birth": day(born)})
	if p := s.must(200, "GET", "/v1/persons/"+id+"/retention", prac, nil); p["disposal_due_on"] != day(born.AddDate(30, 0, 0)) {
		t.Fatalf("position after putting it right = %v", p)
	}
	if q := s.must(200, "GET", "/v1/retention/review", ro, nil)["items"].([]any); len(q) != 0 {
		t.Fatalf("review queue after putting it right = %v", q)
	}
}

// A changed schedule that would make more than 1% of the records due at
// once stops the service at start with one line naming the variable and the
// schedule's sha256; confirmed with that sha256, it starts.
func TestChangedScheduleRefusedAtStartUntilConfirmed(t *testing.T) {
	s := startService(t, nil)
	today := time.Now().UTC()
	for i := range 3 {
		s.earlyHelp(t, fmt.Sprintf("S-%d", i), today.AddDate(-20, 0, 0))
	}
	s.Stop()
	b, err := os.ReadFile("../../retention/schedule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shorter := bytes.Replace(b, []byte("record_class: early_help\n    period: 30y"), []byte("record_class: early_help\n    period: 15y"), 1)
	if bytes.Equal(shorter, b) {
		t.Fatal("schedule.yaml no longer has the early help rule this test edits")
	}
	file := filepath.Join(t.TempDir(), "schedule.yaml")
	if err := os.WriteFile(file, shorter, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(shorter)
	sha := hex.EncodeToString(sum[:])
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	env["CASEFILE_RETENTION_SCHEDULE"] = file
	env["CASEFILE_HTTP_ADDR"] = freeAddr(t)
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil || !strings.HasPrefix(err.Error(), "CASEFILE_RETENTION_SCHEDULE: ") || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "3 of 3 records") || !strings.Contains(err.Error(), "CASEFILE_RETENTION_SCHEDULE_CONFIRM="+sha) {
		t.Fatalf("start with a schedule making every record due: %v", err)
	}
	env["CASEFILE_RETENTION_SCHEDULE_CONFIRM"] = sha
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut) }()
	eventually(t, 30*time.Second, "the confirmed schedule starts", func() bool {
		select {
		case err := <-stopped:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		resp, err := http.Get("http://" + env["CASEFILE_HTTP_ADDR"] + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("serve with the confirmed schedule: %v", err)
	}
}
