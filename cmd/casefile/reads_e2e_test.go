package main

import (
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/httpapi"
)

// readsOfARecord lists every GET route that shows a person's data and the
// audit action each read must leave on that person's trail; notPersonData
// lists the GET routes that show none, and why. A GET route in neither list
// fails TestEveryReadOfARecordIsAudited: a new read must be classified.
var readsOfARecord = map[string]string{
	"GET /v1/persons":               "person.read",
	"GET /v1/persons/:id":           "person.read",
	"GET /v1/persons/:id/documents": "document.list",
	"GET /v1/documents/:id":         "document.read",
	"GET /v1/documents/:id/content": "document.download",
	"GET /v1/persons/:id/notes":     "note.read",
	"GET /v1/persons/:id/search":    "record.search",
	// Amy's note names Bob by his reference: a candidate on her record.
	"GET /v1/notes/third-party-candidates": "note.third_party_candidate",
	"GET /v1/notes/:id":                    "note.read",
	"GET /v1/notes/:id/versions":           "note.read",
	"GET /v1/persons/:id/retention":        "retention.read",
	"GET /v1/tickets":                      "ticket.read",
	"GET /v1/tickets/:id":                  "ticket.read",
	"GET /v1/holds":                        "hold.read",
	"GET /v1/retention/runs/:id/items":     "retention.run.read",
	"GET /v1/exports/:id":                  "export.read",
	"GET /v1/exports/:id/content":          "export.download",
	"GET /v1/persons/:id/restriction":      "access.restriction_read",
	// Records past their date but kept: the hold on the person keeps hers.
	"GET /v1/retention/review":            "retention.read",
	"GET /v1/persons/:id/relationships":   "relationship.list",
	"GET /v1/persons/:id/disclosures":     "disclosure.list",
	"GET /v1/disclosures/:id":             "disclosure.read",
	"GET /v1/disclosures/:id/suggestions": "disclosure.suggestions",
	"GET /v1/disclosures/:id/content":     "disclosure.download",
}

var notPersonData = map[string]string{
	"GET /v1/note-types":          "the fixed list of note types",
	"GET /v1/retention/schedule":  "the retention rules in force",
	"GET /v1/audit":               "the audit trail: who did what and when, never the record's content; reading it is the auditors' work",
	"GET /v1/audit/verify":        "whether the audit log is intact",
	"GET /v1/exports/signing-key": "the public key that signs bundles",
	"GET /v1/me":                  "the caller's own identity (staff, not a person on record)",
	"GET /v1/users":               "staff accounts, not persons on record",
	"GET /v1/tokens":              "API tokens",
	"GET /v1/teams":               "staff teams",
	"GET /v1/reports/:name":       "counts by staff team and name, ids and dates; reading one is audited as report.read",
	// A real run's certificate lists destroyed items by person: that read is
	// audited on each person's trail (TestCertificateReadIsAudited); a dry
	// run, as here, shows counts only.
	"GET /v1/retention/runs":     "runs' counts and approvers, without their certificates",
	"GET /v1/retention/runs/:id": "a run's counts; its certificate's items are audited where shown",
}

// Every read that shows a person's data leaves an event on their trail:
// each GET route in turn, and the two answers to an upload that show a
// stored document (a duplicate, an idempotent replay).
func TestEveryReadOfARecordIsAudited(t *testing.T) {
	s := startService(t, nil)
	ro := s.token("records_officer")
	amy, bob := s.person("AR-1", "1980-01-01"), s.person("AR-2", "1981-01-01")
	s.must(201, "POST", "/v1/persons/"+amy+"/involvements", s.Admin, map[string]any{"kind": "early_help", "started_on": "1990-01-01", "ended_on": "1991-01-01"})
	note := s.must(201, "POST", "/v1/persons/"+amy+"/notes", s.Admin, map[string]any{"type": "contact", "occurred_at": "2026-01-01T10:00:00Z", "body": "Phoned mum."})
	s.must(201, "POST", "/v1/persons/"+amy+"/notes", s.Admin, map[string]any{"type": "contact", "occurred_at": "2026-01-01T11:00:00Z", "body": "Saw AR-2 at school."})
	body := []byte("A letter about Amy.")
	doc := s.upload(amy, s.Admin, "letter.txt", "text/plain", body, "Idempotency-Key", "k-1").JSON()
	tk := s.must(201, "POST", "/v1/tickets", s.Admin, map[string]any{"kind": "reindex", "target_type": "note", "target_id": note["id"],
		"to_person_id": bob, "reason": "wrong child?"})
	s.must(201, "POST", "/v1/holds", ro, map[string]any{"name": "Inquiry", "reason": "inquiry", "person_ids": []string{amy}})
	run := s.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": true, "as_of": "2200-01-01"})
	exp := s.must(202, "POST", "/v1/persons/"+amy+"/exports", ro, nil)
	waitForTexts(t, s, s.Admin, amy) // a disclosure is finalised once the letter's text is read
	disc := s.must(201, "POST", "/v1/persons/"+amy+"/disclosures", ro, map[string]any{"purpose": "subject_access", "requester": "Amy"})
	s.must(202, "POST", "/v1/disclosures/"+disc["id"].(string)+"/finalise", ro, nil)
	// Bob's record is restricted (to no one but managers and admins): the
	// restriction read is checked on his trail.
	s.must(200, "PUT", "/v1/persons/"+bob+"/restriction", s.Admin, map[string]any{"reason": "high-profile case"})
	eventually(t, 60*time.Second, "the dry run and the export finish", func() bool {
		return s.must(200, "GET", "/v1/retention/runs/"+run["id"].(string), ro, nil)["state"] == "done" &&
			s.must(200, "GET", "/v1/exports/"+exp["id"].(string), ro, nil)["state"] == "done" &&
			s.must(200, "GET", "/v1/disclosures/"+disc["id"].(string), ro, nil)["state"] == "ready"
	})

	ids := map[string]string{
		"/v1/persons/:id/restriction": bob, "/v1/persons/:id": amy, "/v1/documents/:id": doc["id"].(string), "/v1/notes/:id": note["id"].(string),
		"/v1/tickets/:id": tk["id"].(string), "/v1/retention/runs/:id": run["id"].(string), "/v1/exports/:id": exp["id"].(string),
		"/v1/disclosures/:id": disc["id"].(string),
	}
	url := func(route string) string {
		if strings.HasSuffix(route, "/search") {
			return strings.Replace(route, ":id", amy, 1) + "?q=letter"
		}
		if id, ok := ids[route]; ok {
			return strings.Replace(route, ":id", id, 1)
		}
		for prefix, id := range ids {
			if strings.HasPrefix(route, prefix+"/") || route == prefix {
				return strings.Replace(route, ":id", id, 1)
			}
		}
		if route == "/v1/persons" {
			return route + "?external_ref=AR-1"
		}
		return route
	}
	for _, r := range httpapi.New(httpapi.Config{}).Routes() {
		if r.Method != "GET" {
			continue
		}
		key := r.Method + " " + r.Path
		want, audited := readsOfARecord[key]
		if _, exempt := notPersonData[key]; exempt {
			continue
		}
		if !audited {
			t.Errorf("%s is in neither readsOfARecord nor notPersonData: say whether it shows a person's data", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			whose := amy
			if strings.HasPrefix(url(r.Path), "/v1/persons/"+bob) {
				whose = bob
			}
			before := auditActions(s, whose)[want]
			s.must(200, "GET", url(r.Path), s.Admin, nil)
			if after := auditActions(s, whose)[want]; after <= before {
				t.Errorf("%s left no %s on the person's trail", key, want)
			}
		})
	}

	// Uploading bytes already on the record answers with the stored
	// document; retrying an upload with its Idempotency-Key too. Both show it.
	before := auditActions(s, amy)["document.read"]
	if r := s.upload(amy, s.Admin, "again.txt", "text/plain", body); r.Status != 200 || r.JSON()["duplicate"] != true {
		t.Fatalf("duplicate upload: %d %s", r.Status, r.Body)
	}
	if after := auditActions(s, amy)["document.read"]; after != before+1 {
		t.Errorf("the duplicate answer showed the stored document without a read on the trail (%d → %d)", before, after)
	}
	if r := s.upload(amy, s.Admin, "letter.txt", "text/plain", body, "Idempotency-Key", "k-1"); r.Status != 201 || r.JSON()["id"] != doc["id"] {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if after := auditActions(s, amy)["document.read"]; after != before+2 {
		t.Errorf("the idempotent replay showed the stored document without a read on the trail (%d → %d)", before+1, after)
	}
}
