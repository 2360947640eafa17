package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A new note that names another person on the system, unrelated to this
// one, is kept and answered with a third_party warning naming them; a
// relative, a professional, a person the author may not see, are not
// warned of. ICT lists the same for stored notes.
func TestThirdPartyWarning(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	ict := s.token("ict")
	mk := func(ref, given, family string) string {
		return s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": ref, "given_name": given,
			"family_name": family, "date_of_birth": "2014-01-01"})["id"].(string)
	}
	tyler, kerry, jayden := mk("LCS-30001", "Tyler", "Bennett"), mk("LCS-30002", "Kerry", "Bennett"), mk("LCS-30003", "Jayden", "Okafor")
	hidden := mk("LCS-30004", "Priya", "Sandhu")
	s.must(201, "POST", "/v1/persons/"+tyler+"/relationships", s.Admin, map[string]any{"to_person_id": kerry, "kind": "parent"})
	s.must(200, "PUT", "/v1/persons/"+hidden+"/restriction", s.Admin, map[string]any{"reason": "A relative works in the service."})

	note := func(token, body string) []map[string]any {
		t.Helper()
		n := s.must(201, "POST", "/v1/persons/"+tyler+"/notes", token, map[string]any{"type": "contact",
			"occurred_at": "2026-03-01T10:00:00Z", "body": body})
		var ws []map[string]any
		if raw, ok := n["warnings"]; ok {
			b, _ := json.Marshal(raw)
			json.Unmarshal(b, &ws) //nolint:errcheck
		}
		return ws
	}
	ws := note(prac, "Tyler said he fell out with Jayden Okafor at school; Kerry Bennett was told. Dr J. Okafor not involved.")
	if len(ws) != 1 || ws[0]["code"] != "third_party" || ws[0]["person_id"] != jayden || ws[0]["match"] != "Jayden Okafor" {
		t.Fatalf("warnings: %v", ws)
	}
	if ws := note(prac, "Kerry Bennett (mum) and Tyler Bennett seen together."); len(ws) != 0 {
		t.Fatalf("relative and subject warned of: %v", ws)
	}
	if ws := note(prac, "Letter copied to file LCS-30003."); len(ws) != 1 || ws[0]["person_id"] != jayden || ws[0]["match"] != "LCS-30003" {
		t.Fatalf("reference: %v", ws)
	}
	// An NHS number: checked when recorded, found in a note with a valid
	// check digit only.
	if r := s.do("PATCH", "/v1/persons/"+jayden, s.Admin, map[string]any{"nhs_number": "943 476 5918"}); r.Status != 422 || r.ErrorCode() != "invalid_nhs_number" {
		t.Fatalf("a wrong check digit: %d %s", r.Status, r.Body)
	}
	if p := s.must(200, "PATCH", "/v1/persons/"+jayden, s.Admin, map[string]any{"nhs_number": "943 476 5919"}); p["nhs_number"] != "9434765919" {
		t.Fatalf("nhs_number kept as %v", p["nhs_number"])
	}
	if ws := note(prac, "GP letter quotes NHS no. 943-476-5919."); len(ws) != 1 || ws[0]["person_id"] != jayden || ws[0]["match"] != "943-476-5919" {
		t.Fatalf("NHS number: %v", ws)
	}
	if ws := note(prac, "Phone 9434765918 after school."); len(ws) != 0 {
		t.Fatalf("a number that is not a valid NHS number: %v", ws)
	}
	// A person added after the index was built is found (it is rebuilt).
	later := mk("LCS-30005", "Amara", "Nwosu")
	if ws := note(prac, "Amara Nwosu's mother called."); len(ws) != 1 || ws[0]["person_id"] != later {
		t.Fatalf("new person: %v", ws)
	}
	// Restricted to nobody but its owner: the practitioner is not told it
	// exists; the owner is.
	if ws := note(prac, "Priya Sandhu was at the meeting."); len(ws) != 0 {
		t.Fatalf("restricted person named to an outsider: %v", ws)
	}
	if ws := note(s.Admin, "Priya Sandhu was at the meeting."); len(ws) != 1 || ws[0]["person_id"] != hidden {
		t.Fatalf("restricted person to its owner: %v", ws)
	}

	// The note's trail and the named person's record the warning; no words.
	evs := s.must(200, "GET", "/v1/audit?action=note.names_person&person_id="+jayden, s.Admin, nil)["items"].([]any)
	if len(evs) != 3 {
		t.Fatalf("note.names_person on Jayden's trail: %d", len(evs))
	}
	for _, e := range evs {
		if b, _ := json.Marshal(e); strings.Contains(string(b), "Okafor") || strings.Contains(string(b), "LCS-30003") || strings.Contains(string(b), "5919") {
			t.Fatalf("audit keeps the words: %s", b)
		}
	}

	// ICT: the stored notes that name someone unrelated.
	if r := s.do("GET", "/v1/notes/third-party-candidates", prac, nil); r.Status != 403 {
		t.Fatalf("practitioner lists candidates: %d", r.Status)
	}
	res := s.must(200, "GET", "/v1/notes/third-party-candidates", ict, nil)
	named := map[string]int{}
	for _, it := range res["items"].([]any) {
		c := it.(map[string]any)
		if c["person_id"] != tyler {
			t.Fatalf("candidate on another record: %v", c)
		}
		named[c["named_person_id"].(string)]++
	}
	if named[jayden] != 3 || named[later] != 1 || named[hidden] != 0 || len(named) != 2 {
		t.Fatalf("candidates by named person: %v (%v)", named, res)
	}
}
