package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestFoundationEndToEnd(t *testing.T) {
	s := startService(t, nil)
	s.must(200, "GET", "/readyz", "", nil)

	prac := s.token("practitioner")
	aud := s.token("auditor")

	p := s.must(201, "POST", "/v1/persons", prac, map[string]any{
		"external_ref": "LCS-100", "given_name": "Amy", "family_name": "Pond", "date_of_birth": "2012-02-29"})
	id := p["id"].(string)
	got := s.must(200, "GET", "/v1/persons/"+id, prac, nil)
	if got["external_ref"] != "LCS-100" || got["date_of_birth"] != "2012-02-29" {
		t.Fatalf("person = %v", got)
	}
	list := s.must(200, "GET", "/v1/persons?external_ref=LCS-100", prac, nil)
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("list by external_ref = %v", list)
	}
	inv := s.must(201, "POST", "/v1/persons/"+id+"/involvements", prac, map[string]any{"kind": "child_in_need", "started_on": "2020-01-06"})
	s.must(200, "POST", "/v1/involvements/"+inv["id"].(string)+"/close", prac, map[string]any{"ended_on": "2021-01-06"})

	bad := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"duplicate ref", "POST", "/v1/persons", `{"external_ref":"LCS-100","given_name":"A","family_name":"B","date_of_birth":"2010-01-01"}`, 409, "external_ref_taken"},
		{"malformed json", "POST", "/v1/persons", `{"external_ref":`, 400, "malformed_json"},
		{"unknown field", "POST", "/v1/persons", `{"external_ref":"X","nickname":"Y"}`, 400, "unknown_field"},
		{"bad date", "POST", "/v1/persons", `{"external_ref":"X","given_name":"A","family_name":"B","date_of_birth":"2010-02-30"}`, 400, "invalid_field"},
		{"future date", "POST", "/v1/persons", `{"external_ref":"X","given_name":"A","family_name":"B","date_of_birth":"2999-01-01"}`, 422, "date_in_future"},
		{"nul byte", "POST", "/v1/persons", `{"external_ref":"X\u0000","given_name":"A","family_name":"B","date_of_birth":"2010-01-01"}`, 400, "nul_character"},
		{"two objects", "POST", "/v1/persons", `{} {}`, 400, "malformed_json"},
		{"bad id", "GET", "/v1/persons/not-a-uuid", ``, 404, "not_found"},
		{"unknown person", "GET", "/v1/persons/0190a0c0-0000-7000-8000-000000000000", ``, 404, "not_found"},
		{"bad kind", "POST", "/v1/persons/" + id + "/involvements", `{"kind":"pirate","started_on":"2020-01-01"}`, 422, "invalid_kind"},
		{"bad limit", "GET", "/v1/persons?limit=abc", ``, 400, "invalid_limit"},
		{"oversized", "POST", "/v1/persons", `{"external_ref":"` + strings.Repeat("x", 3<<20) + `"}`, 413, "too_large"},
		{"no route", "GET", "/v1/nothing-here", ``, 404, "route_not_found"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			var body any
			if b.body != "" {
				body = b.body
			}
			r := s.do(b.method, b.path, prac, body)
			if r.Status != b.status || r.ErrorCode() != b.code {
				t.Fatalf("%s %s = %d %s, want %d %s", b.method, b.path, r.Status, r.Body, b.status, b.code)
			}
		})
	}
	if r := s.do("GET", "/v1/persons/"+id, "", nil); r.Status != 401 || r.ErrorCode() != "unauthorized" {
		t.Fatalf("no token: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/v1/persons/"+id, "cf_not-a-real-token", nil); r.Status != 401 {
		t.Fatalf("unknown token: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/v1/audit", prac, nil); r.Status != 403 || r.ErrorCode() != "forbidden" {
		t.Fatalf("practitioner reading audit: %d %s", r.Status, r.Body)
	}
	evs := s.must(200, "GET", "/v1/audit?person_id="+id, aud, nil)
	var actions []string
	for _, e := range evs["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if strings.Join(actions, ",") != "person.create,person.read,person.read,involvement.create,involvement.close" {
		t.Fatalf("audit trail of the person = %v", actions)
	}
	if got := s.must(200, "GET", "/v1/audit?action=involvement.*&person_id="+id, aud, nil)["items"].([]any); len(got) != 2 {
		t.Fatalf("involvement events of the person: %v", got)
	}
	if r := s.do("GET", "/v1/audit?action=person.read%20OR%201=1", aud, nil); r.Status != 400 || r.ErrorCode() != "invalid_action" {
		t.Fatalf("a malformed action filter: %d %s", r.Status, r.Body)
	}
	v := s.must(200, "GET", "/v1/audit/verify", aud, nil)
	if v["ok"] != true {
		t.Fatalf("verify = %v", v)
	}
	out, err := s.cli("audit", "verify")
	if err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "no anchor") {
		t.Fatalf("casefile audit verify: %v %s", err, out)
	}
	if out, err := s.cli("audit", "anchor"); err != nil || !strings.Contains(out, "anchored the audit log's heads in audit-anchors/") {
		t.Fatalf("casefile audit anchor: %v %s", err, out)
	}
	if out, err := s.cli("audit", "verify"); err != nil || !strings.Contains(out, "matches the anchor kept in the bucket") {
		t.Fatalf("casefile audit verify after anchoring: %v %s", err, out)
	}
	if v := s.must(200, "GET", "/v1/audit/verify", aud, nil); v["ok"] != true || v["anchored_at"] == nil {
		t.Fatalf("GET /v1/audit/verify after anchoring = %v", v)
	}
	if r := s.do("GET", "/metrics", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `casefile_http_requests_total{method="GET",route="/v1/persons/:id",status="200"}`) {
		t.Fatalf("metrics: %d %.300s", r.Status, r.Body)
	}
}

// Editing an audit row behind the database's back (as a superuser, with the
// append-only trigger bypassed) makes `casefile audit verify` exit 1 naming
// that event.
func TestAuditVerifyCommandNamesTheEditedEvent(t *testing.T) {
	s := startService(t, nil)
	s.person("AV-1", "2010-01-01")
	s.person("AV-2", "2011-01-01")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env["CASEFILE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2"); err == nil {
		t.Fatal("the database let an audit row be edited")
	}
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	out, err := s.cli("audit", "verify")
	var ee exitError
	if !errors.As(err, &ee) || int(ee) != 1 || !strings.Contains(out, "event 2") {
		t.Fatalf("audit verify after tampering: %v\n%s", err, out)
	}
	if v := s.must(200, "GET", "/v1/audit/verify", s.Admin, nil); v["ok"] != false || v["first_bad_seq"] != float64(2) {
		t.Fatalf("GET /v1/audit/verify = %v", v)
	}
}

// Stopping the service (SIGTERM) lets an upload in flight finish and be
// recorded before the database and the store are closed.
func TestShutdownFinishesUploadsInFlight(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	pid := s.person("STOP-1", "2015-05-05")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.Base+"/v1/persons/"+pid+"/documents?filename=slow.eml", pr)
	req.Header.Set("Authorization", "Bearer "+prac)
	req.Header.Set("Content-Type", "message/rfc822")
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{0, err}
			return
		}
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	io.WriteString(pw, "From: school@example.org\r\nSubject: sent slowly\r\n\r\nThe first half,") //nolint:errcheck
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	time.Sleep(3 * time.Second) // shutdown has begun (the workers have stopped); the upload is still arriving
	select {
	case <-stopped:
		t.Fatal("the service stopped with an upload in flight")
	default:
	}
	io.WriteString(pw, " and the second.\r\n") //nolint:errcheck
	pw.Close()
	if r := <-done; r.err != nil || r.status != 201 {
		t.Fatalf("upload in flight during shutdown: %d, %v", r.status, r.err)
	}
	<-stopped
}
