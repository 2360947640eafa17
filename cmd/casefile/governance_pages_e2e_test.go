package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/browser"
	"github.com/council/casefile/storage/postgres"
)

// pdfText is the text shown by a PDF that fpdf wrote: every content
// stream inflated, and the strings its text operators show.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.40q", pdf)
	}
	var out strings.Builder
	literal := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			break
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			break
		}
		r, err := zlib.NewReader(bytes.NewReader(rest[:j]))
		if err == nil {
			b, _ := io.ReadAll(r)
			for _, m := range literal.FindAllSubmatch(b, -1) {
				out.WriteString(strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(string(m[1])))
				out.WriteString("\n")
			}
		}
		rest = rest[j:]
	}
	return out.String()
}

// waitFor checks the page, reloading path until the text of sel contains
// want.
func waitFor(t *testing.T, b *browser.Browser, path, sel, want, name string) {
	t.Helper()
	b.Check(name)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(b.Text(sel), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q never showed %q: %s", path, sel, want, b.Text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		b.Go(path, name)
	}
}

// typeDate fills a GOV.UK date input from the keyboard.
func typeDate(b *browser.Browser, id string, d time.Time) {
	b.TabTo("#" + id + "-day")
	b.Type(fmt.Sprint(d.Day()))
	b.TabTo("#" + id + "-month")
	b.Type(fmt.Sprint(int(d.Month())))
	b.TabTo("#" + id + "-year")
	b.Type(fmt.Sprint(d.Year()))
}

// TestRecordsOfficerJourney: a records officer, on the keyboard alone,
// starts a real run, reviews its disposal list, tries to exclude a record
// without saying why and is told, excludes it properly, and approves the
// list after a confirmation; a second records officer approves it too (two
// are configured); the run destroys the rest and its certificate downloads
// as a PDF naming what was destroyed. Then the excluded record is kept
// until a date from the review queue, and a hold is placed, downloaded as
// CSV and released. Every page is checked with axe.
func TestRecordsOfficerJourney(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_RETENTION_SETTLE_DAYS": "0", "CASEFILE_DISPOSAL_APPROVERS": "2"})
	ro1, ro2 := s.token("records_officer"), s.token("records_officer")
	today := time.Now().UTC()
	_, goneDoc := s.earlyHelp(t, "GOV-GONE", today.AddDate(-30, 0, -2))
	keptID, keptDoc := s.earlyHelp(t, "GOV-KEEP", today.AddDate(-30, 0, -2))
	export := s.must(202, "POST", "/v1/persons/"+keptID+"/exports", ro1, nil)["id"].(string)
	young := s.person("GOV-YOUNG", day(today.AddDate(-3, 0, 0)))

	// The API's review decisions refuse what the pages refuse.
	for _, c := range []struct {
		token, path string
		body        any
		status      int
		code        string
	}{
		{s.token("practitioner"), "/v1/retention/review/" + keptID + "/return", nil, 403, "forbidden"},
		{ro1, "/v1/retention/review/" + keptID + "/keep", map[string]any{"reason": "x"}, 422, "missing_until"},
		{ro1, "/v1/retention/review/" + keptID + "/keep", map[string]any{"until": day(today), "reason": "x"}, 422, "keep_until_past"},
		{ro1, "/v1/retention/review/" + young + "/return", nil, 409, "not_past_its_date"},
		{ro1, "/v1/retention/review/" + keptID + "/keep", map[string]any{"until": day(today.AddDate(1, 0, 0)), "reason": "x", "extra": 1}, 400, ""},
	} {
		r := s.do("POST", c.path, c.token, c.body)
		if r.Status != c.status || (c.code != "" && r.ErrorCode() != c.code) {
			t.Errorf("POST %s %v = %d %s, want %d %s", c.path, c.body, r.Status, r.ErrorCode(), c.status, c.code)
		}
	}

	b := browser.New(t, s.Base)
	b.Go("/", "sign-in")
	signIn(b, ro1)
	if b.Path() != "/retention/runs" {
		t.Fatalf("a records officer lands on %s, want the disposal lists", b.Path())
	}
	b.Check("runs-empty")

	// Start a real run with the keyboard: the second radio, by arrow key.
	b.TabTo("#kind")
	b.Key(kb.ArrowDown)
	b.TabTo(`form[action="/retention/runs"] button`)
	b.Enter()
	runPath := strings.SplitN(b.Path(), "?", 2)[0]
	if !strings.HasPrefix(runPath, "/retention/runs/") {
		t.Fatalf("starting a run led to %s: %s", b.Path(), b.Text("main"))
	}
	waitFor(t, b, runPath, "h1", "Disposal list awaiting approval", "disposal-list")
	if got := b.Text("main"); !strings.Contains(got, "GOV-GONE") || !strings.Contains(got, "GOV-KEEP") || !strings.Contains(got, "0 of 2 needed") {
		t.Fatalf("disposal list = %q, want both records named and two approvals needed", got)
	}

	// Tick one of GOV-KEEP's items and submit without a reason.
	box := browser.Eval[string](b, `Array.from(document.querySelectorAll('tbody tr')).find(r => r.textContent.includes('GOV-KEEP')).querySelector('input[type=checkbox]').id`)
	b.TabTo("#" + box)
	b.Space()
	b.TabTo(`form[action$="/exclusions"] button`)
	b.Enter()
	b.Check("exclude-refused")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter why the records are kept") || !strings.Contains(got, "Enter the review date") {
		t.Errorf("error summary = %q", got)
	}
	if !browser.Eval[bool](b, `document.getElementById('`+box+`').checked`) {
		t.Error("the ticked record was not kept ticked after the refusal")
	}
	b.TabTo("#reason")
	b.Type("The family's complaint to the ombudsman is still open.")
	typeDate(b, "review_on", today.AddDate(0, 6, 0))
	b.TabTo(`form[action$="/exclusions"] button`)
	b.Enter()
	b.Check("excluded")
	if got := b.Text(".govuk-notification-banner"); !strings.Contains(got, "Records excluded") {
		t.Fatalf("after excluding: %q", got)
	}
	if got := b.Text("main"); strings.Contains(got, "GOV-KEEP") || !strings.Contains(got, "GOV-GONE") {
		t.Errorf("due records after the exclusion = %q, want GOV-GONE only", got)
	}

	// Approve, after a confirmation page.
	b.TabTo(`a[href="` + runPath + `/approve"]`)
	b.Enter()
	b.Check("approve-confirm")
	if got := b.Text(".govuk-warning-text"); !strings.Contains(got, "cannot be undone") {
		t.Errorf("confirmation = %q", got)
	}
	b.TabTo(`form[action$="/approve"] button`)
	b.Enter()
	b.Check("approved-once")
	if got := b.Text(".govuk-notification-banner"); !strings.Contains(got, "another records officer") {
		t.Errorf("after the first approval: %q", got)
	}

	// The second records officer approves.
	b2 := browser.New(t, s.Base)
	b2.Go("/", "second-sign-in")
	signIn(b2, ro2)
	b2.Go(runPath, "second-officer-list")
	b2.TabTo(`a[href="` + runPath + `/approve"]`)
	b2.Enter()
	b2.TabTo(`form[action$="/approve"] button`)
	b2.Enter()
	b2.Check("approved-twice")

	waitFor(t, b, runPath, "main", "Download the certificate (PDF)", "run-done")
	status, ctype, pdf := b.Fetch(runPath + "/certificate.pdf")
	if status != 200 || ctype != "application/pdf" {
		t.Fatalf("certificate PDF: %d %s", status, ctype)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Destruction certificate", strings.TrimPrefix(runPath, "/retention/runs/"), goneDoc, "early_help", "test-records_officer"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate PDF text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, keptDoc) {
		t.Error("the certificate names the excluded record's document")
	}
	if status, _, js := b.Fetch(runPath + "/certificate.json"); status != 200 || !strings.Contains(string(js), goneDoc) {
		t.Errorf("certificate JSON: %d %.200s", status, js)
	}
	if status, ctype, csv := b.Fetch(runPath + "/items.csv"); status != 200 || !strings.HasPrefix(ctype, "text/csv") ||
		!strings.Contains(string(csv), keptDoc+","+keptID) {
		t.Errorf("disposal list CSV: %d %s %.300s", status, ctype, csv)
	}

	// The review queue shows the excluded record; keep it until a date.
	b.TabTo(`a[href="/retention/review"]`)
	b.Enter()
	b.Check("review-queue")
	if got := b.Text("main"); !strings.Contains(got, "GOV-KEEP") || !strings.Contains(got, "Exclusion") {
		t.Fatalf("review queue = %q", got)
	}
	b.TabTo(`a[href="/retention/review/` + keptID + `"]`)
	b.Enter()
	b.Check("review-decide")
	typeDate(b, "until", today.AddDate(2, 0, 0))
	b.TabTo("#reason")
	b.Type("Kept while the ombudsman's decision may be appealed.")
	b.TabTo(`form[action$="/keep"] button`)
	b.Enter()
	b.Check("review-kept")
	if got := b.Text("main"); !strings.Contains(got, "Record kept") || !strings.Contains(got, "Kept: kept by a records officer") {
		t.Errorf("after keeping: %q", got)
	}
	if status, _, csv := b.Fetch("/retention/review.csv"); status != 200 || !strings.Contains(string(csv), keptID+",early_help") ||
		!strings.Contains(string(csv), "kept; exclusion") {
		t.Errorf("review queue CSV: %d %.400s", status, csv)
	}

	// Place a hold on GOV-KEEP, take the list away as CSV, release it.
	b.TabTo(`a[href="/holds"]`)
	b.Enter()
	b.Check("holds-empty")
	b.TabTo("#name")
	b.Type("Ombudsman complaint 2026/114")
	b.TabTo("#reason")
	b.Type("The ombudsman asked for the file.")
	b.TabTo("#scope")
	b.Space()
	b.TabTo("#refs")
	b.Type("GOV-KEEP")
	b.TabTo(`form[action="/holds"] button`)
	b.Enter()
	b.Check("hold-placed")
	if got := b.Text("main"); !strings.Contains(got, "Hold placed") || !strings.Contains(got, "Ombudsman complaint 2026/114") || !strings.Contains(got, "1 record") {
		t.Fatalf("holds after placing = %q", got)
	}
	if status, _, csv := b.Fetch("/holds.csv"); status != 200 || !strings.Contains(string(csv), keptID) || !strings.Contains(string(csv), "Ombudsman complaint 2026/114") {
		t.Errorf("holds CSV: %d %.300s", status, csv)
	}
	b.TabTo(`a[href$="/release"]`)
	b.Enter()
	b.Check("hold-release")
	b.TabTo("#reason")
	b.Type("The ombudsman closed the complaint.")
	b.TabTo(`form[action$="/release"] button`)
	b.Enter()
	b.Check("hold-released")
	if got := b.Text("main"); !strings.Contains(got, "Hold released") || !strings.Contains(got, "Released") {
		t.Errorf("after releasing: %q", got)
	}

	// The export asked for at the start is listed and downloads.
	b.TabTo(`a[href="/exports"]`)
	b.Enter()
	waitFor(t, b, "/exports", "main", "Download (", "exports")
	if got := b.Text("main"); !strings.Contains(got, "GOV-KEEP") {
		t.Errorf("exports = %q", got)
	}
	status, ctype, zip := b.Fetch("/exports/" + export + "/download")
	if status != 200 || ctype != "application/zip" || !bytes.HasPrefix(zip, []byte("PK")) {
		t.Errorf("export download: %d %s %.20q", status, ctype, zip)
	}
}

// TestAuditorAndAdminJourneys: an auditor filters the log by person, actor
// and action and sees the chain verified; an admin creates a team, gives a
// user a role and the team, disables them, and revokes a token after a
// confirmation. Every page is checked with axe.
func TestAuditorAndAdminJourneys(t *testing.T) {
	s := startService(t, nil)
	auditor := s.token("auditor")
	robotSecret, robotID := s.tokenWithID("nightly-import", "practitioner")
	pid := s.person("AUD-1", "2014-02-03")
	s.must(200, "GET", "/v1/persons/"+pid, robotSecret, nil)

	b := browser.New(t, s.Base)
	b.Go("/", "auditor-sign-in")
	signIn(b, auditor)
	if b.Path() != "/audit" {
		t.Fatalf("an auditor lands on %s, want the audit log", b.Path())
	}
	b.Check("audit-log")
	b.TabTo("#person")
	b.Type("AUD-1")
	b.TabTo("#actor")
	b.Type("nightly-import")
	b.TabTo("#action")
	b.Type("person.*")
	b.TabTo(`form[action="/audit"] button`)
	b.Enter()
	b.Check("audit-filtered")
	rows := browser.Eval[[]string](b, `Array.from(document.querySelectorAll('tbody tr')).map(r => r.textContent.replace(/\s+/g, ' '))`)
	if len(rows) != 1 || !strings.Contains(rows[0], "nightly-import") || !strings.Contains(rows[0], "person.read") {
		t.Fatalf("filtered events = %q, want the one read by nightly-import", rows)
	}
	status, _, csv := b.Fetch("/audit.csv?person=AUD-1&actor=nightly-import&action=person.*")
	if status != 200 || strings.Count(strings.TrimSpace(string(csv)), "\n") != 1 || !strings.Contains(string(csv), "person.read") {
		t.Errorf("audit CSV: %d %q", status, csv)
	}
	// A bad date is refused with the error summary.
	b.Go("/audit?from-day=31&from-month=2&from-year=2026", "audit-bad-date")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "must be a real date") {
		t.Errorf("bad date: %q", got)
	}

	if out, err := s.cli("audit", "anchor"); err != nil {
		t.Fatalf("audit anchor: %v %s", err, out)
	}
	b.TabTo(`a[href="/audit/verification"]`)
	b.Enter()
	b.Check("verification-never")
	b.TabTo(`form[action="/audit/verification"] button`)
	b.Enter()
	b.Check("verified")
	if got := b.Text("main"); !strings.Contains(got, "The audit log is intact") || !strings.Contains(got, "Intact") ||
		!strings.Contains(got, "1, the newest written") {
		t.Errorf("after verifying: %q, want intact and the anchor checked", got)
	}

	// A person who signed in once, with no role yet.
	db, err := postgres.Open(context.Background(), s.getenv("CASEFILE_DATABASE_URL"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.SignInUser(casefile.WithActor(context.Background(), casefile.SystemActor("test")),
		casefile.SignIn{Issuer: "https://id.example", Subject: "jo", Name: "Jo Records", Email: "jo@example.org"})
	if err != nil {
		t.Fatal(err)
	}

	a := browser.New(t, s.Base)
	a.Go("/", "admin-sign-in")
	signIn(a, s.Admin)
	a.Go("/admin/teams", "teams-empty")
	a.TabTo("#name")
	a.Type("Records and information")
	a.Enter()
	a.Check("team-created")
	a.TabTo(`a[href="/admin/users"]`)
	a.Enter()
	a.Check("users")
	a.TabTo(`a[href="/admin/users/` + u.ID + `"]`)
	a.Enter()
	a.Check("user")
	a.TabTo("#role")
	a.Type("Records")
	a.TabTo(`input[name="team_id"]`)
	a.Space()
	a.TabTo("#disabled")
	a.Space()
	a.TabTo(`form[action="/admin/users/` + u.ID + `"] button`)
	a.Enter()
	a.Check("user-saved")
	if got := a.Text("main"); !strings.Contains(got, "User saved") || !strings.Contains(got, "Records officer") ||
		!strings.Contains(got, "Records and information") || !strings.Contains(got, "Disabled") {
		t.Errorf("users after saving = %q", got)
	}
	var saved map[string]any
	for _, x := range s.must(200, "GET", "/v1/users", s.Admin, nil)["items"].([]any) {
		if m := x.(map[string]any); m["id"] == u.ID {
			saved = m
		}
	}
	if saved["role"] != "records_officer" || saved["disabled"] != true {
		t.Errorf("the user as the API sees them: %v", saved)
	}

	a.TabTo(`a[href="/admin/tokens"]`)
	a.Enter()
	a.Check("tokens")
	a.TabTo(`a[href="/admin/tokens/` + robotID + `/revoke"]`)
	a.Enter()
	a.Check("token-revoke-confirm")
	a.TabTo(`form[action$="/revoke"] button`)
	a.Enter()
	a.Check("token-revoked")
	if got := a.Text(".govuk-notification-banner"); !strings.Contains(got, "Token revoked") {
		t.Errorf("after revoking: %q", got)
	}
	if r := s.do("GET", "/v1/me", robotSecret, nil); r.Status != 401 {
		t.Errorf("the revoked token still works: %d", r.Status)
	}
}
