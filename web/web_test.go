package web_test

import (
	"bytes"
	"context"
	"crypto/subtle"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/web"
)

// tokenAuth signs callers in with an API token in a cookie, checked against
// the real token store: enough sign-in to test the pages' own behaviour.
type tokenAuth struct{ db *postgres.DB }

func (a tokenAuth) Authenticate(r *http.Request) (*web.Caller, error) {
	ck, err := r.Cookie("casefile_session")
	if err != nil {
		return nil, casefile.Errorf(casefile.EUnauthorized, "unauthorized", "Sign in.")
	}
	actor, err := a.db.Authenticate(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &web.Caller{Actor: actor, CSRFToken: "csrf-" + ck.Value}, nil
}

func (a tokenAuth) CheckCSRF(r *http.Request, c *web.Caller) error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.CSRFToken)) != 1 {
		return casefile.Errorf(casefile.EForbidden, "csrf_failed", "The form had expired.")
	}
	return nil
}

func (tokenAuth) LoginURL(next string) string { return "/auth/login?next=" + url.QueryEscape(next) }
func (tokenAuth) LogoutURL() string           { return "/auth/logout" }

type env struct {
	t      *testing.T
	srv    *httptest.Server
	db     *postgres.DB
	person string
	secret string
}

func newEnv(t *testing.T, role casefile.Role) *env {
	db := testenv.Postgres(t)
	store := testenv.S3(t)
	loc, _ := time.LoadLocation("Europe/London")
	ing := &ingest.Service{Store: db, Blobs: s3.Blobs{S: store}, MaxBytes: 1 << 20}
	pages, err := web.New(web.Config{Auth: tokenAuth{db}, Persons: db, Notes: &notes.Service{Store: db, Audit: db}, Ingest: ing,
		Tickets: db, Chronology: db, Access: db, DocumentText: db.DocumentText, MaxUploadBytes: 1 << 20, CouncilName: "Northfield Council", Location: loc,
		OpenObject: func(ctx context.Context, key string) (io.ReadCloser, int64, error) {
			return store.Get(ctx, key, (*s3.Range)(nil))
		}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: httptest.NewServer(pages), db: db}
	t.Cleanup(e.srv.Close)
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor("test"))
	_, e.secret, err = db.CreateToken(ctx, "Sam Social Worker", role, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dob := casefile.Date{Year: 2015, Month: 6, Day: 14}
	p := &casefile.Person{ExternalRef: "NF-1", GivenName: "Amelia", FamilyName: "Okafor", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	e.person = p.ID
	return e
}

func (e *env) do(method, path, contentType string, body io.Reader, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.AddCookie(&http.Cookie{Name: "casefile_session", Value: e.secret})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) form(path string, v url.Values) (*http.Response, string) {
	return e.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

// Every page carries the strict CSP and the framing and referrer headers,
// and an unknown address is a 404 page in the layout, not a blank page.
func TestSecurityHeadersAndErrorPages(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	for _, path := range []string{"/persons", "/persons/" + e.person, "/no/such/page", "/persons/not-an-id", "/assets/casefile.js"} {
		resp, body := e.do("GET", path, "", nil)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'; script-src 'self'; style-src 'self'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "base-uri 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, h)
		}
		if strings.HasPrefix(path, "/no/") || strings.HasSuffix(path, "not-an-id") {
			if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") || !strings.Contains(body, "govuk-footer") {
				t.Errorf("%s: %d, want the 404 page in the layout:\n%s", path, resp.StatusCode, body)
			}
		}
	}
	resp, _ := e.do("GET", "/assets/casefile.js", "", nil)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("assets Cache-Control %q, want a year", cc)
	}
}

// No template and no script of ours has inline script, inline style or an
// inline event handler: the CSP would block them.
func TestNoInlineScriptOrStyle(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script[^>]*>\s*[^<\s]|\sstyle\s*=|<style|\son[a-z]+\s*=|javascript:`)
	scriptTag := regexp.MustCompile(`(?i)<script[^>]*>`)
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".js")) || strings.Contains(p, "dist") || strings.Contains(p, "testdata") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".html") {
			if m := inline.Find(b); m != nil {
				t.Errorf("%s: inline script or style: %s", p, m)
			}
			for _, tag := range scriptTag.FindAll(b, -1) {
				if !bytes.Contains(tag, []byte(" src=")) {
					t.Errorf("%s: a script without src: %s", p, tag)
				}
			}
		} else if bytes.Contains(b, []byte(".style.")) || bytes.Contains(b, []byte("innerHTML")) || bytes.Contains(b, []byte("eval(")) {
			t.Errorf("%s: sets styles or HTML from script", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A form posted without the session's CSRF token is refused in words, and
// nothing is recorded.
func TestFormsNeedCSRFToken(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	v := url.Values{"type": {"contact"}, "occurred-day": {"2"}, "occurred-month": {"3"}, "occurred-year": {"2026"}, "occurred-time": {"10:00"},
		"body": {"Spoke to Amelia's teacher."}}
	resp, body := e.form("/persons/"+e.person+"/notes", v)
	if resp.StatusCode != 403 || !strings.Contains(body, "The form had expired") {
		t.Fatalf("note without CSRF token: %d\n%s", resp.StatusCode, body)
	}
	ns, _, err := e.db.Notes(casefile.WithActor(context.Background(), casefile.SystemActor("test")), casefile.NoteFilter{PersonID: e.person})
	if err != nil || len(ns) != 0 {
		t.Fatalf("notes after a forged form: %v, %v", ns, err)
	}
	v.Set("csrf_token", "csrf-"+e.secret)
	resp, _ = e.form("/persons/"+e.person+"/notes", v)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/notes/") {
		t.Fatalf("note with CSRF token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A refused note keeps what was typed and says why in the error summary:
// a pasted email (422), a future date, a missing type.
func TestNoteRefusalsKeepTheForm(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	pasted := "Called school.\nFrom: Jo Bloggs <jo@school.example>\nSent: 02 March 2026 10:14\nTo: Sam\nSubject: Amelia\n\nHello"
	cases := []struct {
		name, typ, day, body, want string
		status                     int
	}{
		{"pasted email", "contact", "2", pasted, "Emails must not be pasted into case notes: upload the email as a document", 422},
		{"future", "contact", "2", "Saw Amelia.", "is in the future", 422},
		{"no type", "", "2", "Saw Amelia.", "Select the type of note", 422},
		{"no date", "contact", "", "Saw Amelia.", "Enter the date it happened", 422},
	}
	for _, c := range cases {
		year := "2026"
		if c.name == "future" {
			year = "2999"
		}
		v := url.Values{"csrf_token": {"csrf-" + e.secret}, "type": {c.typ}, "occurred-day": {c.day}, "occurred-month": {"3"},
			"occurred-year": {year}, "body": {c.body}}
		if c.name == "no date" {
			v.Set("occurred-month", "")
			v.Set("occurred-year", "")
		}
		resp, body := e.form("/persons/"+e.person+"/notes", v)
		if resp.StatusCode != c.status || !strings.Contains(body, "govuk-error-summary") || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %d with %q in the error summary", c.name, resp.StatusCode, c.status, c.want)
		}
		if !strings.Contains(body, template(c.body)) {
			t.Errorf("%s: the body was not kept as typed", c.name)
		}
		if c.name == "pasted email" && !strings.Contains(body, `href="/persons/`+e.person+`#upload"`) {
			t.Errorf("pasted email: no link to upload the email")
		}
	}
}

func template(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// The plain form (no JavaScript) files several files in one post, streamed
// part by part, and reports each: filed, already on the record, refused.
func TestUploadWithoutJavaScript(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	eml, err := os.ReadFile("../cmd/casefile/testdata/pages/attachment.eml")
	if err != nil {
		t.Fatal(err)
	}
	post := func(csrfFirst bool, files map[string][]byte, order ...string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if csrfFirst {
			mw.WriteField("csrf_token", "csrf-"+e.secret) //nolint:errcheck
		}
		for _, name := range order {
			w, _ := mw.CreateFormFile("files", name)
			w.Write(files[name]) //nolint:errcheck
		}
		mw.Close()
		return e.do("POST", "/persons/"+e.person+"/documents", mw.FormDataContentType(), &buf)
	}
	files := map[string][]byte{"attachment.eml": eml, "empty.txt": {}, "notes.txt": []byte("Minutes of the core group.")}
	resp, body := post(false, files, "attachment.eml")
	if resp.StatusCode != 403 {
		t.Fatalf("upload without CSRF token: %d", resp.StatusCode)
	}
	if ds, _, _ := e.db.Documents(casefile.WithActor(context.Background(), casefile.SystemActor("test")), e.person, casefile.Page{}); len(ds) != 0 {
		t.Fatalf("a forged upload stored %d documents", len(ds))
	}
	resp, body = post(true, files, "attachment.eml", "empty.txt", "notes.txt")
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"2 filed, 0 already on this record, 1 not filed", "Not filed: "} {
		if !strings.Contains(body, want) {
			t.Errorf("outcomes page lacks %q:\n%s", want, body)
		}
	}
	resp, body = post(true, files, "attachment.eml")
	if resp.StatusCode != 200 || !strings.Contains(body, "0 filed, 1 already on this record") {
		t.Errorf("second upload of the same email: %d\n%s", resp.StatusCode, body)
	}
	// The script's request: one file, the token in a header, JSON back.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("files", "attachment.eml")
	w.Write(eml) //nolint:errcheck
	mw.Close()
	resp, body = e.do("POST", "/persons/"+e.person+"/documents", mw.FormDataContentType(), &buf,
		"X-CSRF-Token", "csrf-"+e.secret, "Accept", "application/json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"outcome":"duplicate"`) || !strings.Contains(body, `"href":"/documents/`) {
		t.Errorf("script upload of a duplicate: %d %s", resp.StatusCode, body)
	}
}

// Dates are written as people read them, in the council's time zone.
func TestDatesInTheCouncilsTimeZone(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "Sam", Role: casefile.RolePractitioner})
	for _, at := range []time.Time{time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC)} {
		if err := e.db.CreateNote(ctx, &casefile.Note{PersonID: e.person, Type: "contact", OccurredAt: at}, "Saw Amelia."); err != nil {
			t.Fatal(err)
		}
	}
	_, body := e.do("GET", "/persons/"+e.person, "", nil)
	for _, want := range []string{"2 March 2026, 10:00", "2 July 2026, 10:00", "14 June 2015"} {
		if !strings.Contains(body, want) {
			t.Errorf("record page lacks %q (GMT, then BST)", want)
		}
	}
}

// The identity bar shows the NHS number when the record has one, written as
// the NHS writes it, so that staff can tell two children of one name apart.
func TestIdentityBarShowsTheNHSNumber(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	_, body := e.do("GET", "/persons/"+e.person, "", nil)
	if strings.Contains(body, "NHS number") {
		t.Fatal("an NHS number shown for a record without one")
	}
	nhs := "9434765919"
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor("test"))
	if _, err := e.db.UpdatePerson(ctx, e.person, casefile.PersonUpdate{NHSNumber: &nhs}); err != nil {
		t.Fatal(err)
	}
	_, body = e.do("GET", "/persons/"+e.person, "", nil)
	if !strings.Contains(body, "NHS number <strong>943 476 5919</strong>") {
		t.Fatalf("the record page lacks the NHS number:\n%s", body)
	}
}

// A restricted record is refused in words on every page of it, left out of
// lists, and opened for an hour by break-glass with a reason.
func TestRestrictedRecord(t *testing.T) {
	e := newEnv(t, casefile.RolePractitioner)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{ID: "00000000-0000-4000-8000-000000000001", Kind: casefile.ActorUser,
		Name: "Manager", Role: casefile.RoleManager})
	if _, err := e.db.Restrict(ctx, e.person, casefile.RestrictionInput{Reason: "Adoption placement"} /* the manager is its owner */); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do("GET", "/persons/"+e.person, "", nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "This record is restricted") || strings.Contains(body, "Okafor") {
		t.Fatalf("restricted record: %d\n%s", resp.StatusCode, body)
	}
	_, body = e.do("GET", "/persons", "", nil)
	if strings.Contains(body, "Okafor") {
		t.Error("the list of persons shows a restricted record")
	}
	v := url.Values{"csrf_token": {"csrf-" + e.secret}, "type": {"contact"}, "occurred-day": {"2"}, "occurred-month": {"3"},
		"occurred-year": {"2026"}, "body": {"Saw Amelia."}}
	if resp, body := e.form("/persons/"+e.person+"/notes", v); resp.StatusCode != 403 || !strings.Contains(body, "restricted") {
		t.Errorf("note on a restricted record: %d", resp.StatusCode)
	}
	resp, _ = e.form("/persons/"+e.person+"/access", url.Values{"csrf_token": {"csrf-" + e.secret}, "reason": {""}})
	if resp.StatusCode != 422 {
		t.Errorf("break-glass without a reason: %d", resp.StatusCode)
	}
	resp, _ = e.form("/persons/"+e.person+"/access", url.Values{"csrf_token": {"csrf-" + e.secret}, "reason": {"Child at risk, out of hours"}})
	if resp.StatusCode != 303 {
		t.Fatalf("break-glass: %d", resp.StatusCode)
	}
	if resp, body := e.do("GET", "/persons/"+e.person, "", nil); resp.StatusCode != 200 || !strings.Contains(body, "Okafor") {
		t.Errorf("after break-glass: %d", resp.StatusCode)
	}
}
