package main

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// thirdPartyWords are the distinctive words of other people seeded across a
// record: in notes, email headers (From, To, Subject), bodies, a plain-text
// attachment's text and filename, a PDF's content and filename. Each is
// redacted or its document withheld; none may be anywhere in the bundle.
var thirdPartyWords = []string{"Zyskowski", "Bartholomew", "Quillfeather", "Vandermeer", "Ottoline", "Thistlewaite",
	"Cornelius", "Gruffydd", "Pemberton", "Xanthippe", "Wolfhardt", "900123", "ottoline.vandermeer@example.org"}

// subjectWords are the subject's own; every one must be in the bundle.
var subjectWords = []string{"Amelia", "Quarrington", "Lighthouse", "Marmalade", "Sunflower", "Kestrel", "Butterscotch"}

const disclosureEmail = "From: Ottoline Vandermeer <ottoline.vandermeer@example.org>\r\n" +
	"To: Cornelius Thistlewaite <cornelius@example.net>\r\n" +
	"Subject: Vandermeer contact plan for Amelia\r\n" +
	"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n" +
	"Message-ID: <disclosure-1@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
	"Amelia asked for Marmalade sandwiches at the Kestrel contact centre. Cornelius Thistlewaite will drive.\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=\"Gruffydd-statement.txt\"\r\n\r\n" +
	"Statement of Gruffydd Pemberton about Amelia and the Sunflower garden.\r\n" +
	"--b1--\r\n"

// pdfWith makes a small PDF whose text is text.
func pdfWith(t *testing.T, text string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(0, 10, text)
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDisclosureLeavesNothingRedactedInTheBundle is the proof: a record
// seeded with third parties' words everywhere, each redacted or withheld;
// the finalised bundle, searched byte by byte (every file, every PDF stream
// inflated, PDF metadata, zip entry names and comments, in ASCII and
// UTF-16BE, case ignored), holds none of them and every word of the subject.
func TestDisclosureLeavesNothingRedactedInTheBundle(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_DISCLOSURE_APPROVERS": "2"})
	ro, ro2 := s.token("records_officer"), s.token("records_officer")
	subject := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "DISC-SUBJ-1",
		"given_name": "Amelia", "family_name": "Quarrington", "date_of_birth": "2014-06-01"})["id"].(string)
	// Other persons on the system, whom the suggestions should find.
	s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "DISC-TP-88231",
		"given_name": "Bartholomew", "family_name": "Zyskowski", "date_of_birth": "1985-01-01"})
	s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "DISC-TP-88232",
		"given_name": "Ottoline", "family_name": "Vandermeer", "date_of_birth": "1984-01-01"})

	note := func(body string) {
		s.must(201, "POST", "/v1/persons/"+subject+"/notes", s.Admin, map[string]any{"type": "contact",
			"occurred_at": "2026-03-01T10:00:00Z", "body": body})
	}
	note("Amelia Quarrington said Bartholomew Zyskowski shouted at her. Amelia enjoys the Lighthouse club.")
	note("Neighbour Mrs Quillfeather rang on 07700 900123 about Amelia's Butterscotch the cat.")
	if r := s.do("POST", "/v1/persons/"+subject+"/documents", s.Admin, []byte(disclosureEmail), "Content-Type", "message/rfc822"); r.Status != 201 {
		t.Fatalf("email upload: %d %s", r.Status, r.Body)
	}
	xan := s.upload(subject, s.Admin, "Xanthippe-report.txt", "text/plain", []byte("Report by Xanthippe on the family."))
	wolf := s.upload(subject, s.Admin, "Wolfhardt-assessment.pdf", "application/pdf", pdfWith(t, "Assessment by Wolfhardt of Amelia at Sunflower school"))
	bard := s.upload(subject, s.Admin, "Bartholomew-letter.pdf", "application/pdf", pdfWith(t, "Letter from Bartholomew"))
	own := s.upload(subject, s.Admin, "drawing.txt", "text/plain", []byte("Amelia drew the Lighthouse and a Kestrel."))
	for _, r := range []*response{xan, wolf, bard, own} {
		if r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
	}

	waitForTexts(t, s, s.Admin, subject)

	if r := s.do("POST", "/v1/persons/"+subject+"/disclosures", s.token("practitioner"), map[string]any{"purpose": "subject_access", "requester": "Amelia"}); r.Status != 403 {
		t.Fatalf("a practitioner opens a disclosure: %d", r.Status)
	}
	d := s.must(201, "POST", "/v1/persons/"+subject+"/disclosures", ro, map[string]any{"purpose": "subject_access",
		"requester": "Amelia Quarrington", "received_on": "2026-01-31"})
	if d["due_on"] != "2026-02-28" || d["state"] != "draft" {
		t.Fatalf("the statutory month from 31 January: %v", d)
	}
	id := d["id"].(string)
	base := "/v1/disclosures/" + id

	// Suggestions: the two persons on the system, the email address, the
	// phone number; not the subject.
	sugg := s.must(200, "GET", base+"/suggestions", ro, nil)["items"].([]any)
	found := map[string]bool{}
	for _, x := range sugg {
		sg := x.(map[string]any)
		found[sg["kind"].(string)+":"+sg["text"].(string)] = true
		if strings.Contains(sg["text"].(string), "Quarrington") {
			t.Errorf("the subject was suggested for redaction: %v", sg)
		}
	}
	for _, want := range []string{"third_party:Bartholomew Zyskowski", "third_party:Ottoline Vandermeer", "phone:07700 900123",
		"email:ottoline.vandermeer@example.org"} {
		if !found[want] {
			t.Errorf("no suggestion %s among %v", want, found)
		}
	}
	// Accept those that name a third party, reject the rest (the subject's
	// own contact centre address, say).
	for _, x := range sugg {
		sg := x.(map[string]any)
		decision := "reject"
		for _, w := range thirdPartyWords {
			if strings.Contains(strings.ToLower(sg["text"].(string)), strings.ToLower(w)) {
				decision = "accept"
			}
		}
		s.must(201, "POST", base+"/suggestions/decisions", ro, map[string]any{"target_type": sg["target_type"],
			"target_id": sg["target_id"], "start": sg["start"], "end": sg["end"], "decision": decision})
	}
	if left := s.must(200, "GET", base+"/suggestions", ro, nil)["items"].([]any); len(left) != 0 {
		t.Errorf("suggestions left after deciding every one: %v", left)
	}

	// Withhold two documents (a text file and a PDF); redact every other
	// occurrence, the other PDF's among them (in its extracted text).
	s.must(201, "POST", base+"/withholdings", ro, map[string]any{"document_id": xan.JSON()["id"], "reason": "third_party"})
	s.must(201, "POST", base+"/withholdings", ro, map[string]any{"document_id": bard.JSON()["id"], "reason": "serious_harm"})
	if r := s.do("POST", base+"/withholdings", ro, map[string]any{"document_id": wolf.JSON()["id"], "reason": "made up"}); r.Status != 422 {
		t.Errorf("a reason not configured: %d %s", r.Status, r.Body)
	}
	draft := s.must(200, "GET", base, ro, nil)
	var emailText string
	for _, x := range draft["items"].([]any) {
		it := x.(map[string]any)
		if it["withheld"] != nil {
			continue
		}
		text := it["text"].(string)
		if it["kind"] == "email" {
			emailText = text
		}
		if it["id"] == wolf.JSON()["id"] && (!strings.Contains(text, "Filename: Wolfhardt-assessment.pdf") || !strings.Contains(text, "Assessment by Wolfhardt")) {
			t.Fatalf("the PDF's item does not show its extracted text: %q", text)
		}
		covered := func(start, end int) bool {
			for _, r := range it["redactions"].([]any) {
				rm := r.(map[string]any)
				if int(rm["start"].(float64)) <= start && end <= int(rm["end"].(float64)) {
					return true
				}
			}
			return false
		}
		for _, w := range thirdPartyWords {
			lower, lw := strings.ToLower(text), strings.ToLower(w)
			for i := 0; ; {
				j := strings.Index(lower[i:], lw)
				if j < 0 {
					break
				}
				start := utf8.RuneCountInString(text[:i+j])
				end := start + utf8.RuneCountInString(w)
				if !covered(start, end) {
					s.must(201, "POST", base+"/redactions", ro, map[string]any{"target_type": it["type"], "target_id": it["id"],
						"start": start, "end": end, "reason": "third_party"})
				}
				i += j + len(lw)
			}
		}
	}
	for _, h := range []string{"From: ", "To: ", "Subject: ", "Filename: "} {
		if !strings.Contains(emailText, h) {
			t.Errorf("the email's text has no %q line: %q", h, emailText)
		}
	}
	if r := s.do("POST", base+"/redactions", ro, map[string]any{"target_type": "note", "target_id": subject, "start": 0, "end": 1, "reason": "third_party"}); r.Status != 422 {
		t.Errorf("a redaction of no item: %d %s", r.Status, r.Body)
	}

	// Two approvers: the finaliser cannot approve; a colleague can.
	if st := s.must(202, "POST", base+"/finalise", ro, nil)["state"]; st != "awaiting_approval" {
		t.Fatalf("finalised with two approvers: %v", st)
	}
	if r := s.do("POST", base+"/approve", ro, nil); r.Status != 409 || r.ErrorCode() != "same_person" {
		t.Fatalf("the finaliser approves: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", base+"/redactions", ro, map[string]any{"target_type": "note", "target_id": subject, "start": 0, "end": 1, "reason": "third_party"}); r.Status != 409 {
		t.Errorf("a redaction after finalising: %d %s", r.Status, r.Body)
	}
	s.must(202, "POST", base+"/approve", ro2, nil)
	eventually(t, 60*time.Second, "the bundle is ready", func() bool {
		st := s.must(200, "GET", base, ro, nil)["state"]
		if st == "failed" {
			t.Fatalf("build failed: %v", s.must(200, "GET", base, ro, nil)["disclosure"])
		}
		return st == "ready"
	})
	r := s.do("GET", base+"/content", ro, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("content: %d %s", r.Status, r.Body)
	}
	bundle := r.Body

	// Every byte, every view of it.
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	views := map[string][]byte{"zip comment": []byte(zr.Comment), "the zip itself": bundle}
	files := map[string][]byte{}
	for _, f := range zr.File {
		views["entry name "+f.Name] = []byte(f.Name + f.Comment + string(f.Extra))
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		views[f.Name] = b
		for i, st := range pdfStreams(b) {
			views[fmt.Sprintf("%s stream %d (inflated)", f.Name, i)] = st
		}
	}
	for name, b := range views {
		for _, w := range thirdPartyWords {
			if containsWord(b, w) {
				t.Errorf("%q is in %s", w, name)
			}
		}
	}
	for _, w := range subjectWords {
		in := false
		for _, b := range views {
			in = in || containsWord(b, w)
		}
		if !in {
			t.Errorf("the subject's own word %q is nowhere in the bundle", w)
		}
	}

	// Layout: two notes, the email and its attachment rendered, the
	// subject's drawing as its original; the withheld two absent and listed.
	var manifest struct {
		Files []struct {
			Path, Kind, DocumentID, Filename string
		} `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	inBundle := map[string]bool{}
	for _, f := range manifest.Files {
		kinds[f.Kind]++
		inBundle[f.DocumentID] = true
		if f.Kind == "document" && (f.Filename != "drawing.txt" || !bytes.Equal(files[f.Path], []byte("Amelia drew the Lighthouse and a Kestrel."))) {
			t.Errorf("original %s: %q, %q", f.Path, f.Filename, files[f.Path])
		}
	}
	if kinds["note"] != 2 || kinds["rendering"] != 3 || kinds["document"] != 1 || kinds["schedule"] != 1 || kinds["log"] != 2 {
		t.Errorf("files by kind: %v", kinds)
	}
	var sched struct {
		Withheld []struct {
			DocumentID string `json:"document_id"`
			Reason     string `json:"reason"`
		} `json:"withheld"`
		Redactions []map[string]any `json:"redactions"`
	}
	if err := json.Unmarshal(files["disclosure.json"], &sched); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, w := range sched.Withheld {
		listed[w.DocumentID] = w.Reason
	}
	for doc, reason := range map[string]string{xan.JSON()["id"].(string): "third_party", bard.JSON()["id"].(string): "serious_harm"} {
		if inBundle[doc] || listed[doc] != reason || !containsWord(files["withheld.pdf"], doc) && !anyStream(files["withheld.pdf"], doc) {
			t.Errorf("withheld %s: in bundle %v, listed %q (want %q)", doc, inBundle[doc], listed[doc], reason)
		}
	}
	if len(sched.Redactions) < len(thirdPartyWords)-3 {
		t.Errorf("the log lists %d redactions", len(sched.Redactions))
	}
	if !anyStream(files["documents/002.pdf"], "redacted rendering") && !anyStream(files["documents/001.pdf"], "redacted rendering") {
		t.Errorf("no redacted rendering says so on its first page")
	}

	// The audit trail holds offsets and reasons, never the words.
	evs := s.do("GET", "/v1/audit?limit=500&person_id="+subject, s.token("auditor"), nil)
	for _, w := range thirdPartyWords {
		if containsWord(evs.Body, w) {
			t.Errorf("the audit log holds %q", w)
		}
	}

	// The bundle verifies; a byte changed does not.
	path := filepath.Join(t.TempDir(), "disclosure.zip")
	if err := os.WriteFile(path, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.cli("export", "verify", path); err != nil || !strings.Contains(out, "intact") ||
		!strings.Contains(out, "matches its disclosure.build audit event") {
		t.Fatalf("export verify: %v %s", err, out)
	}
	bad := changeEntry(t, bundle, "notes/001.pdf")
	badPath := filepath.Join(t.TempDir(), "bad.zip")
	if err := os.WriteFile(badPath, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.cli("export", "verify", badPath); err == nil || !strings.Contains(out, "notes/001.pdf") {
		t.Fatalf("a changed byte verified: %v %s", err, out)
	}
}

// changeEntry rewrites a bundle with one byte of one entry changed.
func changeEntry(t *testing.T, bundle []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b[len(b)/2] ^= 1
		}
		w, _ := zw.Create(f.Name)
		w.Write(b) //nolint:errcheck
	}
	zw.Close()
	return out.Bytes()
}

var streamRe = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)

// pdfStreams inflates every FlateDecode stream of a PDF.
func pdfStreams(b []byte) [][]byte {
	var out [][]byte
	for _, m := range streamRe.FindAllSubmatch(b, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			out = append(out, m[1]) // not compressed: as it is
			continue
		}
		inflated, _ := io.ReadAll(zr)
		out = append(out, inflated)
	}
	return out
}

func anyStream(pdf []byte, w string) bool {
	for _, st := range pdfStreams(pdf) {
		if containsWord(st, w) {
			return true
		}
	}
	return false
}

// containsWord reports whether b holds w, case ignored, as bytes (ASCII,
// UTF-8, Latin-1) or as UTF-16 (big-endian, as PDFs write Unicode text, or
// little-endian) at either alignment.
func containsWord(b []byte, w string) bool {
	lw := []byte(strings.ToLower(w))
	if bytes.Contains(bytes.ToLower(b), lw) {
		return true
	}
	for off := 0; off < 2; off++ {
		// The low bytes of 16-bit units whose other byte is 0.
		var be, le []byte
		for i := off; i+1 < len(b); i += 2 {
			if b[i] == 0 {
				be = append(be, b[i+1])
			} else {
				be = append(be, 0xff)
			}
			if b[i+1] == 0 {
				le = append(le, b[i])
			} else {
				le = append(le, 0xff)
			}
		}
		if bytes.Contains(bytes.ToLower(be), lw) || bytes.Contains(bytes.ToLower(le), lw) {
			return true
		}
	}
	return false
}

// A ready disclosure holds a note; when an ICT ticket removes the note, the
// disclosure is withdrawn and its bundle destroyed, as export bundles are.
func TestDisclosureWithdrawnWhenItsContentIsRemoved(t *testing.T) {
	s := startService(t, nil)
	ro, prac, ict := s.token("records_officer"), s.token("practitioner"), s.token("ict")
	p := s.person("DISC-WD-1", "2014-01-01")
	note := s.must(201, "POST", "/v1/persons/"+p+"/notes", prac, map[string]any{"type": "contact",
		"occurred_at": "2026-01-01T10:00:00Z", "body": "Phoned the school."})["id"].(string)
	id := s.must(201, "POST", "/v1/persons/"+p+"/disclosures", ro, map[string]any{"purpose": "court", "requester": "Family court"})["id"].(string)
	s.must(202, "POST", "/v1/disclosures/"+id+"/finalise", ro, nil)
	eventually(t, 60*time.Second, "the bundle is ready", func() bool {
		return s.must(200, "GET", "/v1/disclosures/"+id, ro, nil)["state"] == "ready"
	})
	s.must(200, "GET", "/v1/disclosures/"+id+"/content", ro, nil)
	key := "disclosures/" + id + ".zip"
	if _, err := s.s3store(t).Stat(context.Background(), key); err != nil {
		t.Fatalf("the bundle's object: %v", err)
	}

	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": note, "reason": "wrong child"})
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	s.waitTicket(t, ict, tk["id"].(string))
	if st := s.must(200, "GET", "/v1/disclosures/"+id, ro, nil)["state"]; st != "withdrawn" {
		t.Fatalf("after the removal: %v", st)
	}
	if r := s.do("GET", "/v1/disclosures/"+id+"/content", ro, nil); r.Status != 410 || r.ErrorCode() != "disclosure_withdrawn" {
		t.Fatalf("content of a withdrawn disclosure: %d %s", r.Status, r.Body)
	}
	eventually(t, 30*time.Second, "the withdrawn bundle is destroyed", func() bool {
		_, err := s.s3store(t).Stat(context.Background(), key)
		return err != nil
	})
}

// waitForTexts waits until every document of the record has had its text
// read (the extraction worker), as a reviewer waits for it.
func waitForTexts(t *testing.T, s *service, token, personID string) {
	t.Helper()
	eventually(t, 90*time.Second, "the documents' text is read", func() bool {
		for _, x := range s.must(200, "GET", "/v1/persons/"+personID+"/documents?limit=500", token, nil)["items"].([]any) {
			d := x.(map[string]any)
			for _, doc := range append([]map[string]any{d}, docTree(d)...) {
				if doc["text_state"] == "pending" {
					return false
				}
			}
		}
		return true
	})
}
