package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// waitTicket waits until the ticket leaves the approved state.
func (s *service) waitTicket(t *testing.T, token, id string) map[string]any {
	t.Helper()
	var got map[string]any
	eventually(t, 30*time.Second, "ticket "+id+" carried out", func() bool {
		got = s.must(200, "GET", "/v1/tickets/"+id, token, nil)
		return got["state"] != "approved"
	})
	return got
}

func (s *service) objectVersions(t *testing.T, key string) int {
	t.Helper()
	st := s.s3store(t)
	n := 0
	for o := range st.Client().ListObjects(context.Background(), st.Bucket(), minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	return n
}

// incompleteUploads counts the multipart uploads begun and never finished
// or aborted in the service's bucket.
func (s *service) incompleteUploads(t *testing.T) int {
	t.Helper()
	st := s.s3store(t)
	n := 0
	for u := range st.Client().ListIncompleteUploads(context.Background(), st.Bucket(), "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		n++
	}
	return n
}

func auditActions(s *service, personID string) map[string]int {
	evs := s.must(200, "GET", "/v1/audit?limit=500&person_id="+personID, s.Admin, nil)["items"].([]any)
	count := map[string]int{}
	for _, e := range evs {
		count[e.(map[string]any)["action"].(string)]++
	}
	return count
}

func TestTicketsEndToEnd(t *testing.T) {
	s := startService(t, nil)
	prac, ict := s.token("practitioner"), s.token("ict")
	amy, bob := s.person("T-1", "2012-01-01"), s.person("T-2", "2013-02-02")

	// Removal of an email document with its attachment.
	email := "From: a@example.org\r\nSubject: pasted\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=x.pdf\r\n\r\n%PDF-1.4 x\r\n--B--\r\n"
	doc := s.must(201, "POST", "/v1/persons/"+amy+"/documents?filename=e.eml", prac, []byte(email), "Content-Type", "message/rfc822")
	docID := doc["id"].(string)
	attID := doc["attachments"].([]any)[0].(map[string]any)["id"].(string)
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document", "target_id": docID,
		"reason": "Contains a third party's details"})
	if tk["state"] != "open" || tk["person_id"] != amy {
		t.Fatalf("ticket = %v", tk)
	}
	if r := s.do("POST", "/v1/tickets/"+tk["id"].(string)+"/approve", prac, nil); r.Status != 403 {
		t.Fatalf("practitioner approving: %d", r.Status)
	}
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document", "target_id": docID, "reason": "again"}); r.Status != 409 || r.ErrorCode() != "ticket_exists" {
		t.Fatalf("second removal ticket: %d %s", r.Status, r.Body)
	}
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	if done := s.waitTicket(t, ict, tk["id"].(string)); done["state"] != "done" {
		t.Fatalf("removal ticket = %v", done)
	}
	for _, id := range []string{docID, attID} {
		r := s.do("GET", "/v1/documents/"+id+"/content", prac, nil)
		if r.Status != 410 || r.ErrorCode() != "removed" {
			t.Fatalf("content of removed %s: %d %s", id, r.Status, r.Body)
		}
	}
	gone := s.must(200, "GET", "/v1/documents/"+docID, prac, nil)
	ts, _ := gone["tombstone"].(map[string]any)
	if gone["status"] != "removed" || gone["email"] != nil || ts["ticket_id"] != tk["id"] || ts["requested_by"] != "test-practitioner" ||
		ts["approved_by"] != "test-ict" || ts["reason"] != "Contains a third party's details" {
		t.Fatalf("removed document = %v", gone)
	}
	if n := s.objectVersions(t, "documents/"+docID); n != 0 {
		t.Fatalf("%d object versions left after removal", n)
	}
	if r := s.do("POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil); r.Status != 409 || r.ErrorCode() != "invalid_transition" {
		t.Fatalf("approving a done ticket: %d %s", r.Status, r.Body)
	}

	// Removal of a note: every version's body destroyed, the tombstone stays.
	note := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-01T10:00:00Z", "body": "Phoned mum."})
	nt := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": note["id"], "reason": "third party data"})
	s.must(202, "POST", "/v1/tickets/"+nt["id"].(string)+"/approve", ict, nil)
	s.waitTicket(t, ict, nt["id"].(string))
	gotNote := s.must(200, "GET", "/v1/notes/"+note["id"].(string), prac, nil)
	if gotNote["status"] != "removed" || gotNote["body"] != nil {
		t.Fatalf("removed note = %v", gotNote)
	}
	for _, v := range s.must(200, "GET", "/v1/notes/"+note["id"].(string)+"/versions", prac, nil)["items"].([]any) {
		if v.(map[string]any)["body"] != nil {
			t.Fatalf("a version kept its body: %v", v)
		}
	}

	// No one acts alone on what cannot be undone: ICT's own removal is not
	// approved by the same token, nor by an admin, but by a second ICT person
	// (a second token of the same name is another person: ids are compared).
	ict2 := s.token("ict")
	own := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-01T11:00:00Z", "body": "Pasted."})
	ot := s.must(201, "POST", "/v1/tickets", ict, map[string]any{"kind": "removal", "target_type": "note", "target_id": own["id"], "reason": "pasted email"})
	if r := s.do("POST", "/v1/tickets/"+ot["id"].(string)+"/approve", ict, nil); r.Status != 409 || r.ErrorCode() != "same_person" {
		t.Fatalf("ICT approving their own removal: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/v1/tickets/"+ot["id"].(string)+"/approve", s.Admin, nil); r.Status != 409 || r.ErrorCode() != "second_ict_required" {
		t.Fatalf("an admin approving ICT's removal: %d %s", r.Status, r.Body)
	}
	s.must(202, "POST", "/v1/tickets/"+ot["id"].(string)+"/approve", ict2, nil)
	if st := s.waitTicket(t, ict, ot["id"].(string)); st["state"] != "done" {
		t.Fatalf("ICT's removal approved by a second ICT person = %v", st)
	}

	// Re-index a note and a document to the right person.
	wrong := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "home_visit", "occurred_at": "2026-01-02T10:00:00Z", "body": "Visited Bob at home."})
	letter := s.upload(amy, prac, "bob-letter.txt", "text/plain", []byte("Letter about Bob"))
	for _, target := range []struct{ typ, id string }{{"note", wrong["id"].(string)}, {"document", letter.JSON()["id"].(string)}} {
		rt := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "reindex", "target_type": target.typ, "target_id": target.id,
			"to_person_id": bob, "reason": "recorded on the wrong child"})
		s.must(202, "POST", "/v1/tickets/"+rt["id"].(string)+"/approve", ict, nil)
		if st := s.waitTicket(t, ict, rt["id"].(string)); st["state"] != "done" {
			t.Fatalf("reindex = %v", st)
		}
	}
	if n := s.must(200, "GET", "/v1/notes/"+wrong["id"].(string), prac, nil); n["person_id"] != bob {
		t.Fatalf("reindexed note = %v", n)
	}
	if d := s.must(200, "GET", "/v1/documents/"+letter.JSON()["id"].(string), prac, nil); d["person_id"] != bob {
		t.Fatalf("reindexed document = %v", d)
	}
	if a, b := auditActions(s, amy), auditActions(s, bob); a["note.reindex_out"] != 1 || b["note.reindex_in"] != 1 ||
		a["document.reindex_out"] != 1 || b["document.reindex_in"] != 1 {
		t.Fatalf("reindex audit: amy %v bob %v", a, b)
	}
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "reindex", "target_type": "note", "target_id": wrong["id"], "to_person_id": bob, "reason": "x"}); r.Status != 422 || r.ErrorCode() != "same_person" {
		t.Fatalf("reindex to the same person: %d %s", r.Status, r.Body)
	}

	// Reopen: visit notes only; one amendment per window.
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "note", "target_id": wrong["id"], "reason": "x"}); r.Status != 422 || r.ErrorCode() != "not_a_visit_note" {
		t.Fatalf("reopen of a home visit note: %d %s", r.Status, r.Body)
	}
	visit := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "cp_plan_visit", "occurred_at": "2026-01-03T10:00:00Z", "body": "CP visit; Amy seen."})
	ro := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "note", "target_id": visit["id"], "reason": "Forgot to record who else was present"})
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "note", "target_id": visit["id"], "reason": "duplicate request"}); r.Status != 409 || r.ErrorCode() != "ticket_exists" {
		t.Fatalf("second live reopen ticket: %d %s", r.Status, r.Body)
	}
	other := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "cin_visit", "occurred_at": "2026-01-03T11:00:00Z", "body": "CIN visit."})
	rej := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "note", "target_id": other["id"], "reason": "want to add detail"})
	s.must(200, "POST", "/v1/tickets/"+rej["id"].(string)+"/reject", ict, map[string]any{"reason": "Record the detail as a new note instead"})
	if r := s.do("POST", "/v1/tickets/"+rej["id"].(string)+"/approve", ict, nil); r.Status != 409 {
		t.Fatalf("approving a rejected ticket: %d", r.Status)
	}
	s.must(202, "POST", "/v1/tickets/"+ro["id"].(string)+"/approve", ict, nil)
	s.waitTicket(t, ict, ro["id"].(string))
	s.must(201, "POST", "/v1/notes/"+visit["id"].(string)+"/amendments", ict, map[string]any{"body": "CP visit; Amy seen with her aunt present.", "reason": "Omitted who was present"})
	if r := s.do("POST", "/v1/notes/"+visit["id"].(string)+"/amendments", ict, map[string]any{"body": "x", "reason": "y"}); r.Status != 409 {
		t.Fatalf("second amendment: %d", r.Status)
	}

	// Scan raises one removal ticket per pasted note, never two.
	out, err := s.cli("notes", "import", "--csv", writeTemp(t, "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n"+
		"P1,T-1,contact,2019-01-01 10:00,2019-01-01 12:00,old,\"-----Original Message-----\nFrom: x\"\n"+
		"P2,T-1,contact,2019-01-02 10:00,2019-01-02 12:00,old,\"Thanks\n\nOn Mon, 2 Mar 2019 at 10:00, Bob <bob@example.org> wrote:\n> hi\"\n"))
	if err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	out, err = s.cli("notes", "scan", "--raise-tickets")
	if err != nil || !strings.Contains(out, "2 removal ticket(s) raised") {
		t.Fatalf("scan --raise-tickets: %v %s", err, out)
	}
	out, err = s.cli("notes", "scan", "--raise-tickets")
	if err != nil || !strings.Contains(out, "0 removal ticket(s) raised") || !strings.Contains(out, "already raised") {
		t.Fatalf("second scan: %v %s", err, out)
	}
	scanTickets := s.must(200, "GET", "/v1/tickets?state=open&kind=removal", ict, nil)["items"].([]any)
	if len(scanTickets) != 2 || scanTickets[0].(map[string]any)["source"] != "scan" {
		t.Fatalf("scan tickets = %v", scanTickets)
	}
	if a := auditActions(s, amy); a["ticket.raise"] < 6 || a["ticket.approve"] < 3 || a["ticket.reject"] != 1 || a["document.remove"] != 1 || a["note.remove"] != 2 {
		t.Fatalf("ticket audit = %v", a)
	}
}

// With Redis down, an approval is still acknowledged (the work waits in the
// outbox) and is carried out once Redis is back, with no restart. A second
// delivery of the same task changes nothing.
func TestTicketsSurviveRedisOutageAndDuplicateDelivery(t *testing.T) {
	redis := testenv.PrivateRedis(t)
	s := startService(t, map[string]string{"CASEFILE_REDIS_ADDR": redis.Addr})
	prac, ict := s.token("practitioner"), s.token("ict")
	amy := s.person("R-1", "2012-01-01")
	d := s.upload(amy, prac, "pasted.txt", "text/plain", []byte("an email that was pasted"))
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document", "target_id": d.JSON()["id"], "reason": "pasted email"})

	redis.Stop()
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	time.Sleep(2 * time.Second)
	if st := s.must(200, "GET", "/v1/tickets/"+tk["id"].(string), ict, nil)["state"]; st != "approved" {
		t.Fatalf("with Redis down the ticket is %v", st)
	}
	redis.Start()
	// As Redis comes back, a second copy of the task arrives beside the
	// relay's (a queue may deliver twice): the two deliveries race.
	c := asynq.NewClient(asynq.RedisClientOpt{Addr: redis.Addr})
	defer c.Close()
	payload, _ := json.Marshal(map[string]string{"ticket_id": tk["id"].(string)})
	eventually(t, 20*time.Second, "enqueue a duplicate once Redis is back", func() bool {
		_, err := c.Enqueue(asynq.NewTask(casefile.TaskTicketProcess, payload), asynq.Queue(s.env["CASEFILE_WORKER_QUEUE"]))
		return err == nil
	})
	if done := s.waitTicket(t, ict, tk["id"].(string)); done["state"] != "done" {
		t.Fatalf("after Redis came back: %v", done)
	}
	// The relay's task id counts once: once the relay has handed it over,
	// handing it over again is refused by the queue, and a late delivery of
	// a done ticket changes nothing.
	conn, err := pgx.Connect(context.Background(), s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	eventually(t, 20*time.Second, "the relay hands the approval's task to Redis", func() bool {
		var at *time.Time
		err := conn.QueryRow(context.Background(), "SELECT enqueued_at FROM outbox WHERE task_id = $1", "ticket:"+tk["id"].(string)).Scan(&at)
		return err == nil && at != nil
	})
	if _, err := c.Enqueue(asynq.NewTask(casefile.TaskTicketProcess, payload), asynq.TaskID("ticket:"+tk["id"].(string)),
		asynq.Queue(s.env["CASEFILE_WORKER_QUEUE"])); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Fatalf("enqueueing the relay's task id again: %v, want a task id conflict", err)
	}
	if _, err := c.Enqueue(asynq.NewTask(casefile.TaskTicketProcess, payload), asynq.Queue(s.env["CASEFILE_WORKER_QUEUE"])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	a := auditActions(s, amy)
	if a["document.remove"] != 1 || a["ticket.done"] != 1 || a["ticket.approve"] != 1 {
		t.Fatalf("after duplicate deliveries: %v", a)
	}
	if r := s.do("GET", "/v1/documents/"+d.JSON()["id"].(string)+"/content", prac, nil); r.Status != 410 || r.ErrorCode() != "removed" {
		t.Fatalf("content after removal: %d %s", r.Status, r.Body)
	}
	if n := s.objectVersions(t, "documents/"+d.JSON()["id"].(string)); n != 0 {
		t.Fatalf("%d object versions left after removal", n)
	}
}

// The policy's own flow: an email pasted into a legacy note is re-entered
// without it, the email is uploaded as a document, and the removal ticket
// names both; the tombstone keeps the links. Then the service desk's tools:
// lists by target and person, a failed ticket (a legal hold) retried, and a
// reopen window closed without amending.
func TestTicketsServiceDeskFlow(t *testing.T) {
	s := startService(t, nil)
	prac, ict, ro := s.token("practitioner"), s.token("ict"), s.token("records_officer")
	amy, bob := s.person("SD-1", "2012-01-01"), s.person("SD-2", "2014-02-02")

	out, err := s.cli("notes", "import", "--csv", writeTemp(t, "legacy_id,person_external_ref,type,occurred_at,recorded_at,author,body\n"+
		"L1,SD-1,contact,2019-01-01 10:00,2019-01-01 12:00,old,\"Spoke to school.\n\nFrom: Head Teacher <head@school.example>\nSent: 01 January 2019 09:00\nTo: Social Worker\nSubject: Amy\n\nAmy was absent.\"\n"))
	if err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	pasted := s.must(200, "GET", "/v1/persons/"+amy+"/notes", prac, nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	reentered := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact",
		"occurred_at": "2019-01-01T10:00:00Z", "body": "Spoke to school; the head teacher's email is uploaded as a document."})["id"].(string)
	email := s.must(201, "POST", "/v1/persons/"+amy+"/documents?filename=head.eml", prac,
		[]byte("From: Head Teacher <head@school.example>\r\nSubject: Amy\r\n\r\nAmy was absent.\r\n"), "Content-Type", "message/rfc822")["id"].(string)
	onBob := s.must(201, "POST", "/v1/persons/"+bob+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2019-01-01T10:00:00Z", "body": "x"})["id"].(string)
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": pasted,
		"reason": "pasted email", "replacement_note_id": onBob}); r.Status != 422 || r.ErrorCode() != "invalid_replacement" {
		t.Fatalf("replacement on another person: %d %s", r.Status, r.Body)
	}
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": pasted,
		"reason": "Email pasted into the note; re-entered and uploaded", "replacement_note_id": reentered, "replacement_document_id": email})
	id := tk["id"].(string)
	for _, q := range []string{"target_id=" + pasted, "person_id=" + amy, "state=open&kind=removal"} {
		items := s.must(200, "GET", "/v1/tickets?"+q, ict, nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["id"] != id {
			t.Fatalf("GET /v1/tickets?%s = %v", q, items)
		}
	}
	if items := s.must(200, "GET", "/v1/tickets?person_id="+bob, ict, nil)["items"].([]any); len(items) != 0 {
		t.Fatalf("tickets of bob = %v", items)
	}
	for _, q := range []string{"kind=delete", "state=closed", "person_id=nope"} {
		if r := s.do("GET", "/v1/tickets?"+q, ict, nil); r.Status != 400 {
			t.Fatalf("GET /v1/tickets?%s = %d", q, r.Status)
		}
	}

	// A legal hold on Amy's record makes the removal fail, saying why.
	hold := s.must(201, "POST", "/v1/holds", ro, map[string]any{"name": "Inquiry", "reason": "moratorium", "person_ids": []string{amy}})
	s.must(202, "POST", "/v1/tickets/"+id+"/approve", ict, nil)
	if st := s.waitTicket(t, ict, id); st["state"] != "failed" || !strings.Contains(st["error"].(string), "under_legal_hold") {
		t.Fatalf("removal under a hold = %v", st)
	}
	if items := s.must(200, "GET", "/v1/tickets?state=failed", ict, nil)["items"].([]any); len(items) != 1 {
		t.Fatalf("failed tickets = %v", items)
	}
	if n := s.must(200, "GET", "/v1/notes/"+pasted, prac, nil); n["status"] != "active" || n["body"] == nil {
		t.Fatalf("note under a hold = %v", n)
	}
	if r := s.do("POST", "/v1/tickets/"+id+"/retry", prac, nil); r.Status != 403 {
		t.Fatalf("practitioner retrying: %d", r.Status)
	}
	s.must(200, "POST", "/v1/holds/"+hold["id"].(string)+"/release", ro, map[string]any{"reason": "inquiry over"})
	s.must(202, "POST", "/v1/tickets/"+id+"/retry", ict, nil)
	if st := s.waitTicket(t, ict, id); st["state"] != "done" || st["error"] != nil {
		t.Fatalf("after release and retry = %v", st)
	}
	if r := s.do("POST", "/v1/tickets/"+id+"/retry", ict, nil); r.Status != 409 || r.ErrorCode() != "invalid_transition" {
		t.Fatalf("retrying a done ticket: %d %s", r.Status, r.Body)
	}
	n := s.must(200, "GET", "/v1/notes/"+pasted, prac, nil)
	ts, _ := n["tombstone"].(map[string]any)
	if n["status"] != "removed" || n["body"] != nil || ts["ticket_id"] != id || ts["replacement_note_id"] != reentered ||
		ts["replacement_document_id"] != email || ts["requested_by"] != "test-practitioner" || ts["approved_by"] != "test-ict" {
		t.Fatalf("removed note = %v", n)
	}
	if s.must(200, "GET", "/v1/notes/"+reentered, prac, nil)["status"] != "active" {
		t.Fatal("the replacement note was touched")
	}
	if r := s.do("POST", "/v1/tickets/"+id+"/close", ict, nil); r.Status != 422 || r.ErrorCode() != "not_a_reopen_ticket" {
		t.Fatalf("closing a removal ticket: %d %s", r.Status, r.Body)
	}

	// Reopen, then close the window without amending.
	if r := s.do("POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "document", "target_id": email, "reason": "x"}); r.Status != 422 {
		t.Fatalf("reopen of a document: %d %s", r.Status, r.Body)
	}
	visit := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "iro_visit_to_child", "occurred_at": "2026-01-03T10:00:00Z", "body": "IRO visit."})["id"].(string)
	rt := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "reopen", "target_type": "note", "target_id": visit, "reason": "may need a fix"})["id"].(string)
	if r := s.do("POST", "/v1/tickets/"+rt+"/close", ict, nil); r.Status != 409 || r.ErrorCode() != "window_not_open" {
		t.Fatalf("closing before approval: %d %s", r.Status, r.Body)
	}
	s.must(202, "POST", "/v1/tickets/"+rt+"/approve", ict, nil)
	s.waitTicket(t, ict, rt)
	if got := s.must(200, "GET", "/v1/notes/"+visit, ict, nil); got["reopened_by_ticket_id"] != rt {
		t.Fatalf("reopened note = %v", got)
	}
	s.must(200, "POST", "/v1/tickets/"+rt+"/close", ict, nil)
	if r := s.do("POST", "/v1/notes/"+visit+"/amendments", ict, map[string]any{"body": "y", "reason": "z"}); r.Status != 409 || r.ErrorCode() != "not_reopened" {
		t.Fatalf("amending after close: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/v1/tickets/"+rt+"/reject", ict, map[string]any{"reason": "late"}); r.Status != 409 || r.ErrorCode() != "invalid_transition" {
		t.Fatalf("rejecting a done ticket: %d %s", r.Status, r.Body)
	}
	if a := auditActions(s, amy); a["ticket.fail"] != 1 || a["ticket.retry"] != 1 || a["note.remove"] != 1 || a["note.reopen"] != 1 || a["ticket.close_window"] != 1 {
		t.Fatalf("audit = %v", a)
	}
}

// background runs a long-running casefile command until stop is called.
func background(t *testing.T, env map[string]string, args ...string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	errOut := &syncBuffer{}
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, &syncBuffer{}, errOut) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("did not stop within 60s")
		}
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("casefile %v: %v", args, err)
		}
		if t.Failed() {
			t.Logf("casefile %v log:\n%s", args, errOut.String())
		}
	})
	return stop
}

// `casefile serve` alone queues the work of an approval; `casefile worker`,
// started later as its own process, carries it out, and stops cleanly.
func TestTicketsCarriedOutBySeparateWorkerProcess(t *testing.T) {
	env := testEnv(t, map[string]string{"CASEFILE_WORKER_CONCURRENCY": "2"})
	s := &service{t: t, Base: "http://" + env["CASEFILE_HTTP_ADDR"], env: env}
	if out, err := s.cli("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	s.Admin = s.token("admin")
	prac, ict := s.token("practitioner"), s.token("ict")
	background(t, env, "serve")
	eventually(t, 30*time.Second, "casefile serve answers", func() bool {
		resp, err := http.Get(s.Base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	amy := s.person("W-1", "2012-01-01")
	note := s.must(201, "POST", "/v1/persons/"+amy+"/notes", prac, map[string]any{"type": "contact", "occurred_at": "2026-01-01T10:00:00Z", "body": "x"})
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": note["id"], "reason": "pasted"})
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	time.Sleep(2 * time.Second)
	if st := s.must(200, "GET", "/v1/tickets/"+tk["id"].(string), ict, nil)["state"]; st != "approved" {
		t.Fatalf("with no worker running the ticket is %v", st)
	}
	stopWorker := background(t, env, "worker")
	if st := s.waitTicket(t, ict, tk["id"].(string)); st["state"] != "done" {
		t.Fatalf("after casefile worker started: %v", st)
	}
	if err := stopWorker(); err != nil {
		t.Fatalf("casefile worker on stop: %v", err)
	}
}
