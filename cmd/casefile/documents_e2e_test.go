package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// upload sends one file as a multipart form.
func (s *service) upload(personID, token, filename, contentType string, body []byte, headers ...string) *response {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.ReplaceAll(filename, `"`, `\"`)))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	w, _ := mw.CreatePart(h)
	w.Write(body) //nolint:errcheck
	mw.WriteField("title", "Uploaded "+filename)
	mw.Close()
	return s.do("POST", "/v1/persons/"+personID+"/documents", token, &buf,
		append([]string{"Content-Type", mw.FormDataContentType()}, headers...)...)
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func docTree(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, a := range d["attachments"].([]any) {
		m := a.(map[string]any)
		out = append(out, m)
		out = append(out, docTree(m)...)
	}
	return out
}

// checkStored downloads a document and compares its bytes.
func (s *service) checkStored(t *testing.T, token string, d map[string]any, want []byte) {
	t.Helper()
	r := s.do("GET", "/v1/documents/"+d["id"].(string)+"/content", token, nil)
	if r.Status != 200 || !bytes.Equal(r.Body, want) {
		t.Fatalf("download of %s: %d, %d bytes (sha %s), want %d bytes (sha %s)", d["filename"], r.Status, len(r.Body), sha(r.Body), len(want), sha(want))
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("ETag") != `"`+sha(want)+`"` ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download headers: %v", r.Header)
	}
}

func TestCorpusIngestEndToEnd(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	type file struct {
		path, ctype string
	}
	var files []file
	for _, dir := range []struct{ glob, ctype string }{
		{"../../ingest/msg/testdata/*.msg", "application/vnd.ms-outlook"},
		{"../../ingest/tnef/testdata/*", ""},
	} {
		m, _ := filepath.Glob(dir.glob)
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && !st.IsDir() && !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".txt") {
				files = append(files, file{p, dir.ctype})
			}
		}
	}
	filepath.WalkDir("../../ingest/testdata/enmime", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".raw") || strings.HasSuffix(p, ".golden")) {
			files = append(files, file{p, "message/rfc822"})
		}
		return nil
	})
	if len(files) < 150 {
		t.Fatalf("corpus has only %d files", len(files))
	}
	pid := s.person("C-1", "2011-11-11")
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f.path), func(t *testing.T) {
			body, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			var r *response
			if f.ctype != "" {
				r = s.do("POST", "/v1/persons/"+pid+"/documents?filename="+filepath.Base(f.path), prac, body, "Content-Type", f.ctype)
			} else {
				r = s.upload(pid, prac, filepath.Base(f.path), "", body)
			}
			want := 201
			if seen[sha(body)] {
				want = 200
			}
			seen[sha(body)] = true
			if len(body) == 0 {
				if r.Status != 422 {
					t.Fatalf("empty file: %d %s", r.Status, r.Body)
				}
				return
			}
			if r.Status != want {
				t.Fatalf("upload %s = %d %s", f.path, r.Status, r.Body)
			}
			d := r.JSON()
			if d["sha256"] != sha(body) || d["size"] != float64(len(body)) {
				t.Fatalf("stored sha/size = %v/%v", d["sha256"], d["size"])
			}
			s.checkStored(t, prac, d, body)
		})
	}

	// Known contents of real files.
	get := func(name string) map[string]any {
		b, _ := os.ReadFile(name)
		list := s.must(200, "GET", "/v1/persons/"+pid+"/documents?limit=500", prac, nil)["items"].([]any)
		for _, it := range list {
			if m := it.(map[string]any); m["sha256"] == sha(b) {
				return m
			}
		}
		t.Fatalf("%s not listed", name)
		return nil
	}
	quick := get("../../ingest/msg/testdata/quick.msg")
	if quick["kind"] != "email" || quick["email"].(map[string]any)["subject"] != "Test the content transformer" {
		t.Errorf("quick.msg = %v", quick)
	}
	att := get("../../ingest/msg/testdata/attachment_test_msg.msg")
	var names []string
	for _, a := range docTree(att) {
		names = append(names, a["filename"].(string))
		if a["kind"] != "attachment" || a["parent_id"] == nil {
			t.Errorf("attachment = %v", a)
		}
	}
	if strings.Join(names, ",") != "test-unicode.doc,pj1.txt" {
		t.Errorf("attachment_test_msg.msg attachments = %v", names)
	}
	winmail := get("../../ingest/tnef/testdata/quick-winmail.dat")
	names = nil
	for _, a := range docTree(winmail) {
		names = append(names, a["filename"].(string))
		want, _ := os.ReadFile("../../ingest/tnef/testdata/" + a["filename"].(string))
		s.checkStored(t, prac, a, want)
	}
	if len(names) != 5 {
		t.Errorf("quick-winmail.dat gave %v", names)
	}
}

// A forwarded message with its own attachment, and a winmail.dat, inside one
// email: every attachment becomes a document, byte-exact.
func TestNestedEmailEndToEnd(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	pid := s.person("E-1", "2012-12-12")
	winmail, err := os.ReadFile("../../ingest/tnef/testdata/quick-winmail.dat")
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n% a child protection plan\n")
	inner := "From: Head Teacher <head@school.example.org>\r\nTo: duty@council.example.gov.uk\r\nSubject: Attendance plan\r\n" +
		"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <inner@school.example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=IN\r\n\r\n--IN\r\nContent-Type: text/plain\r\n\r\nPlan attached.\r\n" +
		"--IN\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''plan%20f%C3%BCr%20Amy.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(pdf) + "\r\n--IN--\r\n"
	outer := "From: =?UTF-8?Q?Zo=C3=AB_Smith?= <zoe@council.example.gov.uk>\r\nTo: a@example.org, b@example.org\r\nCc: c@example.org\r\n" +
		"Subject: =?ISO-8859-1?Q?Fwd:_r=E9union?=\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\nMessage-ID: <outer@council.example.gov.uk>\r\n" +
		"In-Reply-To: <earlier@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUT\r\n\r\n" +
		"--OUT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the <b>forwarded</b> mail.</p><script>alert(1)</script>\r\n" +
		"--OUT\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n" + inner + "\r\n" +
		"--OUT\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(winmail) + "\r\n--OUT--\r\n"
	r := s.do("POST", "/v1/persons/"+pid+"/documents?filename=outer.eml", prac, []byte(outer), "Content-Type", "message/rfc822")
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	d := r.JSON()
	e := d["email"].(map[string]any)
	if e["subject"] != "Fwd: réunion" || e["from"] != `"Zoë Smith" <zoe@council.example.gov.uk>` || len(e["to"].([]any)) != 2 ||
		e["message_id"] != "outer@council.example.gov.uk" || e["in_reply_to"] != "earlier@example.org" || e["date"] != "2026-03-03T10:00:00Z" {
		t.Errorf("email = %v", e)
	}
	tree := docTree(d)
	byName := map[string]map[string]any{}
	for _, a := range tree {
		byName[a["filename"].(string)] = a
	}
	fwd, plan, wm := byName["fwd.eml"], byName["plan für Amy.pdf"], byName["winmail.dat"]
	if fwd == nil || plan == nil || wm == nil || len(tree) != 8 {
		t.Fatalf("tree = %v", byName)
	}
	if plan["parent_id"] != fwd["id"] || fwd["email"].(map[string]any)["subject"] != "Attendance plan" {
		t.Errorf("forwarded message = %v, plan = %v", fwd, plan)
	}
	s.checkStored(t, prac, plan, pdf)
	s.checkStored(t, prac, wm, winmail)
	s.checkStored(t, prac, d, []byte(outer))
	if byName["quick.pdf"]["parent_id"] != wm["id"] {
		t.Errorf("winmail.dat files are not its children: %v", byName["quick.pdf"])
	}
	// Full-text search over documents is out of scope, but the HTML was read as text, never kept as HTML.
}

func TestUploadRulesEndToEnd(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_MAX_UPLOAD_BYTES": "4096"})
	prac := s.token("practitioner")
	pid := s.person("U-1", "2010-10-10")
	body := []byte("Dear Sir, a letter about Amy.\n")

	first := s.upload(pid, prac, "letter.txt", "text/plain", body)
	if first.Status != 201 {
		t.Fatalf("upload: %d %s", first.Status, first.Body)
	}
	again := s.upload(pid, prac, "letter-copy.txt", "text/plain", body)
	if again.Status != 200 || again.JSON()["duplicate"] != true || again.JSON()["id"] != first.JSON()["id"] {
		t.Fatalf("duplicate: %d %s", again.Status, again.Body)
	}
	// Ten identical uploads at once: one document.
	other := []byte("Minutes of the core group meeting.\n")
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i] = s.upload(pid, prac, "minutes.txt", "text/plain", other).Status }()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		if st == 201 {
			created++
		} else if st != 200 {
			t.Fatalf("concurrent upload status %d", st)
		}
	}
	list := s.must(200, "GET", "/v1/persons/"+pid+"/documents", prac, nil)["items"].([]any)
	if created != 1 || len(list) != 2 {
		t.Fatalf("10 concurrent uploads: %d created, %d listed", created, len(list))
	}
	if n := s.objectVersions(t, "documents/"); n != 2 {
		t.Fatalf("10 concurrent uploads: %d objects stored for 2 documents", n)
	}
	// An idempotent retry returns the same document.
	k1 := s.upload(pid, prac, "note.txt", "text/plain", []byte("retry me\n"), "Idempotency-Key", "abc-123")
	k2 := s.upload(pid, prac, "note.txt", "text/plain", []byte("retry me\n"), "Idempotency-Key", "abc-123")
	if k1.Status != 201 || k2.Status != 201 || k1.JSON()["id"] != k2.JSON()["id"] {
		t.Fatalf("idempotent retry: %d %d", k1.Status, k2.Status)
	}
	// The same key for other bytes is refused, as a form or a raw body: the
	// client must not take the first upload's answer for its new file's.
	k3 := s.upload(pid, prac, "note.txt", "text/plain", []byte("something else\n"), "Idempotency-Key", "abc-123")
	k4 := s.do("POST", "/v1/persons/"+pid+"/documents", prac, []byte("From: a\r\n\r\nother"), "Content-Type", "message/rfc822", "Idempotency-Key", "abc-123")
	if k3.Status != 422 || k3.ErrorCode() != "idempotency_key_reused" || k4.Status != 422 || k4.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("key reused for other bytes: %d %s / %d %s", k3.Status, k3.Body, k4.Status, k4.Body)
	}

	cases := []struct {
		name   string
		resp   *response
		status int
		code   string
	}{
		{"empty", s.upload(pid, prac, "empty.txt", "text/plain", nil), 422, "empty_file"},
		{"too large", s.upload(pid, prac, "big.bin", "", bytes.Repeat([]byte("x"), 5000)), 413, "too_large"},
		{"too large raw", s.do("POST", "/v1/persons/"+pid+"/documents", prac, bytes.Repeat([]byte("x"), 5000), "Content-Type", "message/rfc822"), 413, "too_large"},
		{"unsupported", s.do("POST", "/v1/persons/"+pid+"/documents", prac, []byte("hello"), "Content-Type", "text/plain"), 415, "unsupported_media_type"},
		{"unknown person", s.upload("0190a0c0-0000-7000-8000-000000000000", prac, "a.txt", "", body), 404, "not_found"},
		{"bad category", s.do("POST", "/v1/persons/"+pid+"/documents?category=gossip", prac, []byte("From: a\r\n\r\nb"), "Content-Type", "message/rfc822"), 422, "invalid_category"},
	}
	for _, c := range cases {
		if c.resp.Status != c.status || c.resp.ErrorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, c.resp.Status, c.resp.Body, c.status, c.code)
		}
	}
	// A file declared as one type and looking like another is kept, typed
	// by its content, and the mismatch said.
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
	if r := s.upload(pid, prac, "plan.pdf", "application/pdf", png); r.Status != 201 || r.JSON()["content_type"] != "image/png" ||
		!strings.Contains(fmt.Sprint(r.JSON()["parse_warnings"]), "declared as application/pdf") {
		t.Fatalf("wrong declared type: %d %s", r.Status, r.Body)
	}
	// Hostile names are made safe; the bytes are kept as they are.
	for name, want := range map[string]string{
		"../../etc/passwd":      "passwd",
		"invoice\u202efdp.exe":  "invoicefdp.exe",
		"C:\\Users\\x\\a b.pdf": "a b.pdf",
	} {
		r := s.upload(pid, prac, name, "", []byte("content of "+name))
		if r.Status != 201 || r.JSON()["filename"] != want {
			t.Errorf("name %q: %d %v, want %q", name, r.Status, r.JSON()["filename"], want)
		}
	}
	// Ranges.
	id := first.JSON()["id"].(string)
	r := s.do("GET", "/v1/documents/"+id+"/content", prac, nil, "Range", "bytes=5-8")
	if r.Status != 206 || string(r.Body) != string(body[5:9]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 5-8/%d", len(body)) {
		t.Fatalf("range: %d %q %v", r.Status, r.Body, r.Header)
	}
	if r := s.do("GET", "/v1/documents/"+id+"/content", prac, nil, "Range", "bytes=9999-"); r.Status != 416 {
		t.Fatalf("unsatisfiable range: %d", r.Status)
	}
	// Uploads and downloads are audited.
	evs := s.must(200, "GET", "/v1/audit?person_id="+pid+"&limit=500", s.Admin, nil)["items"].([]any)
	count := map[string]int{}
	for _, e := range evs {
		count[e.(map[string]any)["action"].(string)]++
	}
	if count["document.upload"] != 7 || count["document.download"] != 2 {
		t.Fatalf("audit = %v", count)
	}
}

// emailWith is an email carrying one base64 attachment.
func emailWith(subject string, attachment []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(attachment)
	var b strings.Builder
	b.WriteString("From: school@example.org\r\nTo: duty@council.example.gov.uk\r\nSubject: " + subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nReport attached.\r\n" +
		"--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"scan.tif\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--B--\r\n")
	return []byte(b.String())
}

// Uploads small enough to be read whole (up to 8 MiB) and larger ones that
// stream take different paths to the store: both keep the bytes exactly,
// with attachments large and small, whether the length is given
// (Content-Length) or not (a multipart form); and a duplicate read whole is
// answered without writing anything.
func TestUploadSizesEndToEnd(t *testing.T) {
	s := startService(t, nil)
	prac := s.token("practitioner")
	pid := s.person("SIZES-1", "2011-11-11")
	objects := func() int { return s.objectVersions(t, "documents/") }
	blob := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31) ^ seed ^ byte(i>>11)
		}
		return b
	}
	for _, c := range []struct {
		name      string
		size      int // of the attachment
		multipart bool
	}{
		{"small email, raw", 200 << 10, false},
		{"email read whole with a 5 MiB attachment, raw", 5 << 20, false},
		{"email read whole with a 5 MiB attachment, multipart", 5<<20 + 1, true},
		{"streamed email with a 7 MiB attachment, raw", 7 << 20, false},
		{"streamed email with a 7 MiB attachment, multipart", 7<<20 + 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			att := blob(c.size, byte(c.size))
			mail := emailWith(c.name, att)
			before := objects()
			var r *response
			if c.multipart {
				r = s.upload(pid, prac, "scan.eml", "message/rfc822", mail)
			} else {
				r = s.do("POST", "/v1/persons/"+pid+"/documents?filename=scan.eml", prac, mail, "Content-Type", "message/rfc822")
			}
			if r.Status != 201 {
				t.Fatalf("upload of %d bytes: %d %s", len(mail), r.Status, r.Body)
			}
			d := r.JSON()
			tree := docTree(d)
			if d["kind"] != "email" || len(tree) != 1 || tree[0]["size"] != float64(len(att)) || tree[0]["sha256"] != sha(att) {
				t.Fatalf("document = %v", d)
			}
			s.checkStored(t, prac, d, mail)
			s.checkStored(t, prac, tree[0], att)
			if got := objects(); got != before+2 {
				t.Fatalf("%d objects written, want 2 (the email and its attachment)", got-before)
			}
			again := s.do("POST", "/v1/persons/"+pid+"/documents?filename=again.eml", prac, mail, "Content-Type", "message/rfc822")
			if again.Status != 200 || again.JSON()["id"] != d["id"] || again.JSON()["duplicate"] != true {
				t.Fatalf("duplicate: %d %s", again.Status, again.Body)
			}
			if got := objects(); got != before+2 {
				t.Fatalf("the duplicate left %d objects behind", got-before-2)
			}
		})
	}
}

// A client that goes away part-way through an upload leaves nothing behind:
// no row, no object (nor an unfinished multipart upload), no temporary file;
// whether the upload was being read whole, streamed with its length known,
// or streamed as a multipart form of unknown length.
func TestClientAbortLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := startService(t, nil)
	prac := s.token("practitioner")
	pid := s.person("ABORT-1", "2013-01-01")
	addr := strings.TrimPrefix(s.Base, "http://")
	handled := s.uploadsHandled(t)
	for _, c := range []struct {
		name           string
		headers        string
		declared, sent int
	}{
		{"read whole", "Content-Type: message/rfc822\r\n", 2 << 20, 1 << 20},
		{"streamed, length known", "Content-Type: message/rfc822\r\n", 40 << 20, 20 << 20},
		{"multipart form, chunked", "Content-Type: multipart/form-data; boundary=XX\r\nTransfer-Encoding: chunked\r\n", -1, 20 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			head := "POST /v1/persons/" + pid + "/documents?filename=cut.eml HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + prac + "\r\n" + c.headers
			if c.declared > 0 {
				head += fmt.Sprintf("Content-Length: %d\r\n", c.declared)
			}
			if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			chunk := bytes.Repeat([]byte("From: a@example.org\r\nSubject: cut short\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), 1000)
			write := func(b []byte) {
				if c.declared < 0 {
					fmt.Fprintf(conn, "%x\r\n", len(b))
					conn.Write(b)                //nolint:errcheck
					io.WriteString(conn, "\r\n") //nolint:errcheck
					return
				}
				conn.Write(b) //nolint:errcheck
			}
			if c.declared < 0 {
				write([]byte("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.eml\"\r\n\r\n"))
			}
			for sent := 0; sent < c.sent; sent += len(chunk) {
				write(chunk)
			}
			conn.Close()
			// Wait for the service to finish with the request, then look.
			eventually(t, 30*time.Second, "the aborted upload answered", func() bool { return s.uploadsHandled(t) == handled+1 })
			handled++
			if n, u := s.objectVersions(t, "documents/"), s.incompleteUploads(t); n != 0 || u != 0 {
				t.Fatalf("after the abort: %d objects, %d unfinished multipart uploads", n, u)
			}
			list := s.must(200, "GET", "/v1/persons/"+pid+"/documents", prac, nil)["items"].([]any)
			if len(list) != 0 {
				t.Fatalf("documents after an aborted upload: %v", list)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
	// The service is still well: a whole upload works.
	if r := s.upload(pid, prac, "after.txt", "text/plain", []byte("after the aborts\n")); r.Status != 201 {
		t.Fatalf("upload after aborts: %d %s", r.Status, r.Body)
	}
}

// uploadsHandled is how many upload requests the service has answered (or
// given up on), from its metrics.
func (s *service) uploadsHandled(t *testing.T) int {
	t.Helper()
	r := s.do("GET", "/metrics", "", nil)
	n := 0
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, "casefile_http_requests_total{") && strings.Contains(line, `method="POST"`) &&
			strings.Contains(line, `route="/v1/persons/:id/documents"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}
