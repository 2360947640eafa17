package main

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/council/casefile/httpapi"
)

var createdTokenID = regexp.MustCompile(`created token ([0-9a-f-]{36}) `)

// tokenWithID creates a token and returns its secret and id.
func (s *service) tokenWithID(name, role string) (secret, id string) {
	s.t.Helper()
	out, err := s.cli("token", "create", "--name", name, "--role", role)
	if err != nil {
		s.t.Fatalf("token create: %v: %s", err, out)
	}
	m := createdTokenID.FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("no token id in %q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1], m[1]
}

// routeCall is how the restricted-record test calls one route: as which role,
// and what it checks besides the status.
type routeCall struct {
	role    string
	method  string
	path    string
	body    any
	headers []string
	// member is the status a caller the record is open to gets (0: any
	// status that is not 403 and not a server error).
	member int
	// check replaces the outsider's 403 restricted_record expectation on a
	// filtered list, and checks the member's answer too.
	check func(t *testing.T, r *response, outsider bool)
}

var allRoles = []string{"practitioner", "manager", "ict", "records_officer", "auditor", "admin"}

// TestRestrictedRecordOnEveryRoute drives every person-reachable route
// (every route whose restricted-record decision is not "none") against a
// restricted record: as callers it is not open to (403 restricted_record, or
// left out of a list), and as callers it is open to (tokens named in
// user_ids). A route with a decision and no call here fails the test. It then
// proves break-glass and lifting through the API.
func TestRestrictedRecordOnEveryRoute(t *testing.T) {
	s := startService(t, nil)
	outsider, member, memberID := map[string]string{}, map[string]string{}, map[string]string{}
	for _, role := range allRoles {
		if role == "admin" {
			outsider[role] = s.Admin
		} else {
			outsider[role] = s.token(role)
		}
		member[role], memberID[role] = s.tokenWithID("member-"+role, role)
	}
	owner, ownerID := s.tokenWithID("owner", "manager")

	p := s.person("RESTRICTED-1", "2015-05-05")
	q := s.person("OPEN-1", "2014-04-04")
	note := func(pid, body string) string {
		return s.must(201, "POST", "/v1/persons/"+pid+"/notes", s.Admin, map[string]any{"type": "telephone_call",
			"occurred_at": "2026-03-02T10:00:00Z", "body": body})["id"].(string)
	}
	nP, nP2, nQ := note(p, "Spoke to the foster carer."), note(p, "Spoke to the school."), note(q, "Spoke to the GP.")
	// Each names the other by reference: third-party candidates both ways
	// (not q, whom the members' pass relates to p).
	r := s.person("OPEN-2", "2013-03-03")
	note(r, "Saw RESTRICTED-1 at the contact centre.")
	note(p, "Told OPEN-2 about the plan.")
	upload := func(pid, text string) string {
		r := s.do("POST", "/v1/persons/"+pid+"/documents", s.Admin, []byte("From: a@example.org\r\nSubject: plan\r\n\r\n"+text),
			"Content-Type", "message/rfc822")
		if r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		return r.JSON()["id"].(string)
	}
	dP := upload(p, "The care plan.")
	dQ := upload(q, "The school's letter about both children.")
	inv := func() string {
		return s.must(201, "POST", "/v1/persons/"+p+"/involvements", s.Admin, map[string]any{"kind": "child_in_need",
			"started_on": "2025-01-01"})["id"].(string)
	}
	iP := inv()
	eP := s.must(202, "POST", "/v1/persons/"+p+"/exports", s.Admin, nil)["id"].(string)
	xP := s.must(201, "POST", "/v1/persons/"+p+"/disclosures", s.Admin, map[string]any{"purpose": "court", "requester": "Family court"})["id"].(string)
	xPath := "/v1/disclosures/" + xP
	ticket := func(kind, targetType, target, reason string, extra map[string]any) string {
		b := map[string]any{"kind": kind, "target_type": targetType, "target_id": target, "reason": reason}
		for k, v := range extra {
			b[k] = v
		}
		return s.must(201, "POST", "/v1/tickets", s.Admin, b)["id"].(string)
	}
	tApprove := ticket("removal", "note", nP2, "An email was pasted into this note.", nil)
	tReject := ticket("removal", "document", dP, "Wrong person's plan.", nil)

	memberIDs := []string{}
	for _, role := range allRoles {
		if role != "admin" {
			memberIDs = append(memberIDs, memberID[role])
		}
	}
	restriction := map[string]any{"reason": "A relative of the child works in the service.", "user_ids": memberIDs}
	s.must(200, "PUT", "/v1/persons/"+p+"/restriction", owner, restriction)

	reason := map[string]any{"reason": "checking"}
	calls := map[string]routeCall{
		"GET /v1/persons": {role: "practitioner", method: "GET", path: "/v1/persons?external_ref=RESTRICTED-1",
			check: func(t *testing.T, r *response, outsider bool) {
				items, _ := r.JSON()["items"].([]any)
				if r.Status != 200 || len(items) != 1 {
					t.Fatalf("list: %d %s", r.Status, r.Body)
				}
				item := items[0].(map[string]any)
				if outsider && (len(item) != 2 || item["id"] != p || item["restricted"] != true) {
					t.Fatalf("outsider's list item: %s", r.Body)
				}
				if !outsider && item["family_name"] != "Person RESTRICTED-1" {
					t.Fatalf("member's list item: %s", r.Body)
				}
			}},
		"GET /v1/persons/:id": {role: "practitioner", method: "GET", path: "/v1/persons/" + p, member: 200},
		"POST /v1/persons/:id/relationships": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/relationships",
			body: map[string]any{"to_person_id": q, "kind": "sibling"}, member: 201},
		"GET /v1/persons/:id/relationships":  {role: "practitioner", method: "GET", path: "/v1/persons/" + p + "/relationships", member: 200},
		"PATCH /v1/persons/:id":              {role: "practitioner", method: "PATCH", path: "/v1/persons/" + p, body: map[string]any{"given_name": "Tess"}, member: 200},
		"POST /v1/persons/:id/involvements":  {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/involvements", body: map[string]any{"kind": "early_help", "started_on": "2025-02-01"}, member: 201},
		"POST /v1/involvements/:id/close":    {role: "practitioner", method: "POST", path: "/v1/involvements/" + iP + "/close", body: map[string]any{"ended_on": "2025-06-01"}, member: 200},
		"PUT /v1/persons/:id/restriction":    {role: "manager", method: "PUT", path: "/v1/persons/" + p + "/restriction", body: restriction, member: 200},
		"GET /v1/persons/:id/restriction":    {role: "manager", method: "GET", path: "/v1/persons/" + p + "/restriction", member: 200},
		"DELETE /v1/persons/:id/restriction": {role: "manager", method: "DELETE", path: "/v1/persons/" + p + "/restriction", body: reason, member: 204},
		"POST /v1/persons/:id/access":        {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/access", body: reason, member: 201},
		"POST /v1/persons/:id/exports":       {role: "records_officer", method: "POST", path: "/v1/persons/" + p + "/exports", member: 202},
		"GET /v1/exports/:id":                {role: "records_officer", method: "GET", path: "/v1/exports/" + eP, member: 200},
		"GET /v1/exports/:id/content":        {role: "records_officer", method: "GET", path: "/v1/exports/" + eP + "/content"},
		"POST /v1/persons/:id/disclosures": {role: "records_officer", method: "POST", path: "/v1/persons/" + p + "/disclosures",
			body: map[string]any{"purpose": "subject_access", "requester": "The child"}, member: 201},
		"GET /v1/persons/:id/disclosures": {role: "records_officer", method: "GET", path: "/v1/persons/" + p + "/disclosures", member: 200},
		"GET /v1/disclosures/:id":         {role: "records_officer", method: "GET", path: xPath, member: 200},
		"POST /v1/disclosures/:id/redactions": {role: "records_officer", method: "POST", path: xPath + "/redactions", member: 201,
			body: map[string]any{"target_type": "note", "target_id": nP, "start": 0, "end": 5, "reason": "third_party"}},
		"DELETE /v1/disclosures/:id/redactions/:redaction_id": {role: "records_officer", method: "DELETE",
			path: xPath + "/redactions/0190a0c0-0000-7000-8000-00000000dead", member: 404},
		"POST /v1/disclosures/:id/withholdings": {role: "records_officer", method: "POST", path: xPath + "/withholdings", member: 201,
			body: map[string]any{"document_id": dP, "reason": "legal_privilege"}},
		"DELETE /v1/disclosures/:id/withholdings/:document_id": {role: "records_officer", method: "DELETE", path: xPath + "/withholdings/" + dP, member: 204},
		"GET /v1/disclosures/:id/suggestions":                  {role: "records_officer", method: "GET", path: xPath + "/suggestions", member: 200},
		"POST /v1/disclosures/:id/suggestions/decisions": {role: "records_officer", method: "POST", path: xPath + "/suggestions/decisions", member: 422,
			body: map[string]any{"target_type": "note", "target_id": nP, "start": 0, "end": 1, "decision": "reject"}},
		"POST /v1/disclosures/:id/finalise": {role: "records_officer", method: "POST", path: xPath + "/finalise", member: 202},
		"POST /v1/disclosures/:id/approve":  {role: "records_officer", method: "POST", path: xPath + "/approve", member: 409},
		"POST /v1/disclosures/:id/return":   {role: "records_officer", method: "POST", path: xPath + "/return"},
		"GET /v1/disclosures/:id/content":   {role: "records_officer", method: "GET", path: xPath + "/content"},
		"POST /v1/persons/:id/notes": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/notes", member: 201,
			body: map[string]any{"type": "telephone_call", "occurred_at": "2026-03-03T10:00:00Z", "body": "Called the carer back."}},
		"GET /v1/persons/:id/notes":  {role: "practitioner", method: "GET", path: "/v1/persons/" + p + "/notes", member: 200},
		"GET /v1/persons/:id/search": {role: "practitioner", method: "GET", path: "/v1/persons/" + p + "/search?q=carer", member: 200},
		"GET /v1/notes/third-party-candidates": {role: "ict", method: "GET", path: "/v1/notes/third-party-candidates",
			check: func(t *testing.T, r *response, outsider bool) {
				if r.Status != 200 {
					t.Fatalf("third-party candidates: %d %s", r.Status, r.Body)
				}
				on, named := 0, 0
				for _, it := range r.JSON()["items"].([]any) {
					c := it.(map[string]any)
					if c["person_id"] == p {
						on++
					}
					if c["named_person_id"] == p {
						named++
					}
				}
				if outsider != (on == 0 && named == 0) || (!outsider && (on == 0 || named == 0)) {
					t.Fatalf("outsider=%v sees %d candidates on the restricted record and %d naming it: %s", outsider, on, named, r.Body)
				}
			}},
		"GET /v1/notes/:id":             {role: "practitioner", method: "GET", path: "/v1/notes/" + nP, member: 200},
		"PUT /v1/notes/:id":             {role: "practitioner", method: "PUT", path: "/v1/notes/" + nP, body: map[string]any{}, member: 405},
		"PATCH /v1/notes/:id":           {role: "practitioner", method: "PATCH", path: "/v1/notes/" + nP, body: map[string]any{}, member: 405},
		"DELETE /v1/notes/:id":          {role: "practitioner", method: "DELETE", path: "/v1/notes/" + nP, member: 405},
		"GET /v1/notes/:id/versions":    {role: "practitioner", method: "GET", path: "/v1/notes/" + nP + "/versions", member: 200},
		"POST /v1/notes/:id/amendments": {role: "ict", method: "POST", path: "/v1/notes/" + nP + "/amendments", body: map[string]any{"body": "x", "reason": "y"}},
		"POST /v1/persons/:id/documents": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/documents", member: 201,
			body: []byte("From: b@example.org\r\nSubject: review\r\n\r\nThe review."), headers: []string{"Content-Type", "message/rfc822"}},
		"GET /v1/persons/:id/documents": {role: "practitioner", method: "GET", path: "/v1/persons/" + p + "/documents", member: 200},
		"GET /v1/documents/:id":         {role: "practitioner", method: "GET", path: "/v1/documents/" + dP, member: 200},
		"GET /v1/documents/:id/content": {role: "practitioner", method: "GET", path: "/v1/documents/" + dP + "/content", member: 200},
		"POST /v1/documents/:id/links": {role: "practitioner", method: "POST", path: "/v1/documents/" + dP + "/links",
			body: map[string]any{"person_id": q}, member: 201},
		"POST /v1/tickets": {role: "practitioner", method: "POST", path: "/v1/tickets", member: 201,
			body: map[string]any{"kind": "reindex", "target_type": "note", "target_id": nQ, "to_person_id": p, "reason": "This note is about the restricted child."}},
		"GET /v1/tickets": {role: "practitioner", method: "GET", path: "/v1/tickets?limit=500",
			check: func(t *testing.T, r *response, outsider bool) {
				if r.Status != 200 {
					t.Fatalf("tickets: %d %s", r.Status, r.Body)
				}
				on := 0
				for _, it := range r.JSON()["items"].([]any) {
					tk := it.(map[string]any)
					if tk["person_id"] == p || tk["to_person_id"] == p {
						on++
					}
				}
				if outsider != (on == 0) {
					t.Fatalf("outsider=%v sees %d tickets on the restricted record", outsider, on)
				}
			}},
		"GET /v1/tickets/:id":           {role: "practitioner", method: "GET", path: "/v1/tickets/" + tApprove, member: 200},
		"POST /v1/tickets/:id/approve":  {role: "ict", method: "POST", path: "/v1/tickets/" + tApprove + "/approve", member: 202},
		"POST /v1/tickets/:id/reject":   {role: "ict", method: "POST", path: "/v1/tickets/" + tReject + "/reject", body: map[string]any{"reason": "Not pasted."}, member: 200},
		"POST /v1/tickets/:id/retry":    {role: "ict", method: "POST", path: "/v1/tickets/" + tReject + "/retry"},
		"POST /v1/tickets/:id/close":    {role: "ict", method: "POST", path: "/v1/tickets/" + tReject + "/close"},
		"GET /v1/persons/:id/retention": {role: "practitioner", method: "GET", path: "/v1/persons/" + p + "/retention", member: 200},
		"GET /v1/audit": {role: "auditor", method: "GET", path: "/v1/audit?limit=500",
			check: func(t *testing.T, r *response, outsider bool) {
				if r.Status != 200 {
					t.Fatalf("audit: %d %s", r.Status, r.Body)
				}
				record := 0
				for _, it := range r.JSON()["items"].([]any) {
					ev := it.(map[string]any)
					if ev["person_id"] == p && !strings.HasPrefix(ev["action"].(string), "access.") {
						record++
					}
				}
				if outsider != (record == 0) {
					t.Fatalf("outsider=%v sees %d events of the restricted record", outsider, record)
				}
			}},
	}
	// Filtered lists asked about the record by id refuse it outright.
	byID := map[string]routeCall{
		"GET /v1/tickets?person_id": {role: "practitioner", method: "GET", path: "/v1/tickets?person_id=" + p, member: 200},
		"GET /v1/audit?person_id":   {role: "auditor", method: "GET", path: "/v1/audit?person_id=" + p, member: 200},
		// A link files a document on the record named in the body: into the
		// restricted record from an open one is refused as well.
		"POST /v1/documents/:id/links into": {role: "practitioner", method: "POST", path: "/v1/documents/" + dQ + "/links",
			body: map[string]any{"person_id": p}, member: 201},
		// An upload leaves its check to the storage's first statement; one
		// that never gets there is refused all the same.
		"POST /v1/persons/:id/documents of an unsupported type": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/documents",
			body: []byte("notes"), headers: []string{"Content-Type", "text/plain"}, member: 415},
		"POST /v1/persons/:id/documents empty": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/documents",
			body: []byte{}, headers: []string{"Content-Type", "message/rfc822"}, member: 422},
		"POST /v1/persons/:id/documents with an Idempotency-Key": {role: "practitioner", method: "POST", path: "/v1/persons/" + p + "/documents",
			body:    []byte("From: c@example.org\r\nSubject: visit\r\n\r\nThe visit."),
			headers: []string{"Content-Type", "message/rfc822", "Idempotency-Key", "access-e2e-upload"}, member: 201},
	}

	// Every route with a decision other than none has a call here, and the
	// routes decided "none" are exactly the ones this test agrees reach no
	// person's record (a second opinion on the table).
	notPersonScoped := map[string]bool{"POST /v1/persons": true, "POST /v1/teams": true, "GET /v1/teams": true,
		"GET /v1/note-types": true, "POST /v1/notes/scan": true, "GET /v1/retention/schedule": true, "POST /v1/holds": true,
		"GET /v1/holds": true, "POST /v1/holds/:id/release": true, "POST /v1/retention/runs": true,
		"GET /v1/retention/runs/:id": true, "GET /v1/retention/runs/:id/items": true, "GET /v1/audit/verify": true,
		"GET /v1/exports/signing-key": true, "GET /v1/me": true, "GET /v1/users": true, "PATCH /v1/users/:id": true,
		"GET /v1/tokens": true, "DELETE /v1/tokens/:id": true,
		// Disposal decisions: ids and dates of a list a records officer decides whole.
		"POST /v1/retention/runs/:id/exclusions": true, "POST /v1/retention/runs/:id/approve": true,
		"POST /v1/retention/runs/:id/reject": true, "GET /v1/retention/review": true,
		"POST /v1/retention/review/:id/keep": true, "POST /v1/retention/review/:id/return": true, "GET /v1/retention/runs": true,
		// Reports: counts by staff team and name, nothing of a record.
		"GET /v1/reports/:name": true}
	var keys []string
	for _, r := range httpapi.New(httpapi.Config{}).Routes() {
		key := r.Method + " " + r.Path
		if (string(r.Scope) == "none") != notPersonScoped[key] {
			t.Errorf("route %s: decided %q in httpapi, but this test says person-scoped=%v", key, r.Scope, !notPersonScoped[key])
		}
		if string(r.Scope) == "none" {
			continue
		}
		if _, ok := calls[key]; !ok {
			t.Errorf("person-reachable route %s (decision %q) has no call in TestRestrictedRecordOnEveryRoute", key, r.Scope)
			continue
		}
		keys = append(keys, key)
	}
	for k, c := range byID {
		calls[k] = c
		keys = append(keys, k)
	}
	// Lifting goes last for the member; break-glass is proved on its own below.
	sort.SliceStable(keys, func(i, j int) bool { return keys[j] == "DELETE /v1/persons/:id/restriction" && keys[i] != keys[j] })

	send := func(c routeCall, token string) *response {
		return s.do(c.method, c.path, token, c.body, c.headers...)
	}
	t.Run("outsiders", func(t *testing.T) {
		for _, key := range keys {
			c := calls[key]
			if key == "POST /v1/persons/:id/access" {
				continue // break-glass is how an outsider gets in: below
			}
			r := send(c, outsider[c.role])
			if c.check != nil {
				c.check(t, r, true)
				continue
			}
			if r.Status != 403 || r.ErrorCode() != "restricted_record" {
				t.Errorf("%s as an outside %s: %d %s, want 403 restricted_record", key, c.role, r.Status, r.Body)
			}
		}
		// Admins do not bypass: the record is refused to the admin too, though
		// an admin may see and manage the restriction itself.
		if r := s.do("GET", "/v1/persons/"+p, s.Admin, nil); r.Status != 403 || r.ErrorCode() != "restricted_record" {
			t.Errorf("admin reads the record: %d %s", r.Status, r.Body)
		}
		if r := s.do("GET", "/v1/persons/"+p+"/restriction", s.Admin, nil); r.Status != 200 {
			t.Errorf("admin reads the restriction: %d %s", r.Status, r.Body)
		}
		denied := s.must(200, "GET", "/v1/audit?limit=500&action=access.denied", s.Admin, nil)["items"].([]any)
		if len(denied) < 20 {
			t.Errorf("%d access.denied events after refusing every route", len(denied))
		}
	})
	t.Run("members", func(t *testing.T) {
		for _, key := range keys {
			c := calls[key]
			r := send(c, member[c.role])
			if c.check != nil {
				c.check(t, r, false)
				continue
			}
			if r.Status == 403 || r.Status >= 500 || (c.member != 0 && r.Status != c.member) {
				t.Errorf("%s as a named %s: %d %s, want %d", key, c.role, r.Status, r.Body, c.member)
			}
		}
	})

	// The members' pass lifted the restriction; restrict again, as the owner.
	s.must(200, "PUT", "/v1/persons/"+p+"/restriction", owner, restriction)
	t.Run("break-glass", func(t *testing.T) {
		prac, pracID := s.tokenWithID("on duty", "practitioner")
		if r := s.do("GET", "/v1/persons/"+p+"/notes", prac, nil); r.Status != 403 {
			t.Fatalf("before break-glass: %d", r.Status)
		}
		bg := s.must(201, "POST", "/v1/persons/"+p+"/access", prac, map[string]any{"reason": "Out-of-hours call about the child"})
		if bg["actor_id"] != pracID {
			t.Fatalf("break-glass %v", bg)
		}
		s.must(200, "GET", "/v1/persons/"+p+"/notes", prac, nil)
		s.must(200, "GET", "/v1/documents/"+dP+"/content", prac, nil)
		// Listed for the restriction's owner, with the reason.
		r := s.must(200, "GET", "/v1/persons/"+p+"/restriction", owner, nil)
		uses, _ := json.Marshal(r["break_glass"])
		if !strings.Contains(string(uses), pracID) || !strings.Contains(string(uses), "Out-of-hours") {
			t.Fatalf("owner's view of break-glass: %s", uses)
		}
		// The audit log has the event, without the reason's words.
		evs := s.must(200, "GET", "/v1/audit?action=access.break_glass&person_id="+p, member["auditor"], nil)["items"].([]any)
		b, _ := json.Marshal(evs)
		if len(evs) < 1 || strings.Contains(string(b), "Out-of-hours") {
			t.Fatalf("access.break_glass events: %s", b)
		}
		// Break-glass on an open record is refused: there is nothing to open.
		if r := s.do("POST", "/v1/persons/"+q+"/access", prac, map[string]any{"reason": "x"}); r.Status != 409 || r.ErrorCode() != "not_restricted" {
			t.Fatalf("break-glass on an open record: %d %s", r.Status, r.Body)
		}
	})
	_ = ownerID
}
