package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/council/casefile/internal/browser"
	"github.com/council/casefile/internal/testenv"
)

// TestReportsPagesJourney walks a manager's journey through the reports in
// Chromium, signed in through a real OpenID provider (a manager's teams are
// a user's): the list of reports, late notes with its chart and table for
// her team only (not the notes of someone outside it), a bad period refused
// on its field, a good one, the CSV, the other reports about practice, and
// a records officer's report refused to her; then a records officer's
// reports. Every page is checked with axe and photographed; the manager's
// path is walked with the keyboard.
func TestReportsPagesJourney(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	users := []testenv.OIDCUser{
		{ID: "u-mia", Username: "mia", Password: "mia-pass-1", FirstName: "Mia", LastName: "Khan", Email: "mia@council.test"},
		{ID: "u-jo", Username: "jo", Password: "jo-pass-1", FirstName: "Jo", LastName: "Bloggs", Email: "jo@council.test"},
		{ID: "u-sam", Username: "sam", Password: "sam-pass-1", FirstName: "Sam", LastName: "Patel", Email: "sam@council.test"},
		{ID: "u-rob", Username: "rob", Password: "rob-pass-1", FirstName: "Rob", LastName: "Ode", Email: "rob@council.test"},
	}
	op := testenv.StartOIDCProvider(t, base+"/auth/callback", users...)
	s := startService(t, map[string]string{"CASEFILE_HTTP_ADDR": addr, "CASEFILE_PUBLIC_URL": base, "CASEFILE_COUNCIL_NAME": "Northfield Council",
		"CASEFILE_OIDC_ISSUER": op.Issuer, "CASEFILE_OIDC_CLIENT_ID": op.ClientID, "CASEFILE_OIDC_CLIENT_SECRET": op.ClientSecret})
	blue := s.must(201, "POST", "/v1/teams", s.Admin, map[string]any{"name": "Blue team"})["id"].(string)

	// Each person signs in once (made, with no role), then an admin gives
	// them a role and teams.
	sessions := map[string]*httpBrowser{}
	roles := map[string]string{"mia": "manager", "jo": "practitioner", "sam": "practitioner", "rob": "records_officer"}
	for _, u := range users {
		b := newBrowser(t)
		b.get(b.toCallback(base, "/", u.Username, u.Password))
		sessions[u.Username] = b
	}
	for _, item := range s.must(200, "GET", "/v1/users", s.Admin, nil)["items"].([]any) {
		u := item.(map[string]any)
		name := strings.ToLower(strings.Fields(u["name"].(string))[0])
		patch := map[string]any{"role": roles[name]}
		if name != "rob" {
			patch["team_ids"] = []string{blue}
		}
		s.must(200, "PATCH", "/v1/users/"+u["id"].(string), s.Admin, patch)
	}
	csrf := func(b *httpBrowser) string {
		return (&response{Body: []byte(b.api("GET", base+"/v1/me", "").Body)}).JSON()["csrf_token"].(string)
	}
	amy := s.person("NF-30001", "2016-04-02")
	ago := func(d time.Duration) string { return time.Now().Add(-d).UTC().Format(time.RFC3339) }
	// Jo: one note on time, one four days late; two pasted emails refused.
	// Sam: one late note, one refusal. Lee (a token, in no team): a late
	// note the Blue team's manager must not see.
	for _, n := range []struct {
		who, occurred, body string
		status              int
	}{
		{"jo", ago(2 * time.Hour), "Phoned mum about the school meeting.", 201},
		{"jo", ago(4 * 24 * time.Hour), "Home visit: Amy showed me her drawings.", 201},
		{"jo", ago(time.Hour), "From: Head Teacher\nSent: 02 March 2026 09:00\nTo: Duty\nSubject: Attendance\n\nAmy was absent.", 422},
		{"jo", ago(time.Hour), "-----Original Message-----\nFrom: School Nurse\nSent: Monday\nTo: Duty\nSubject: Checkup\n\nAll well.", 422},
		{"sam", ago(3 * 24 * time.Hour), "Core group meeting held.", 201},
		{"sam", ago(time.Hour), "From: GP Surgery\nSent: 02 March 2026 09:00\nTo: Duty\nSubject: Jabs\n\nDue.", 422},
	} {
		b := sessions[n.who]
		body := string(mustJSON(t, map[string]any{"type": "contact", "occurred_at": n.occurred, "body": n.body}))
		if r := b.api("POST", base+"/v1/persons/"+amy+"/notes", body, "X-CSRF-Token", csrf(b)); r.Status != n.status {
			t.Fatalf("%s's note: %d %s", n.who, r.Status, r.Body)
		}
	}
	// Jo asks ICT to remove a note of hers.
	notes := s.must(200, "GET", "/v1/persons/"+amy+"/notes", s.Admin, nil)["items"].([]any)
	ticket := string(mustJSON(t, map[string]any{"kind": "removal", "target_type": "note", "target_id": notes[0].(map[string]any)["id"],
		"reason": "Written on the wrong child's record"}))
	if r := sessions["jo"].api("POST", base+"/v1/tickets", ticket, "X-CSRF-Token", csrf(sessions["jo"])); r.Status != 201 {
		t.Fatalf("ticket: %d %s", r.Status, r.Body)
	}
	lee, _ := s.tokenWithID("Lee Outsider", "practitioner")
	s.must(201, "POST", "/v1/persons/"+amy+"/notes", lee, map[string]any{"type": "contact", "occurred_at": ago(5 * 24 * time.Hour), "body": "Visited."})

	// Mia signs in, in Chromium, through the provider's form.
	b := browser.New(t, base)
	signInAt(b, base+"/reports", "mia", "mia-pass-1")
	if b.Path() != "/reports" {
		t.Fatalf("after signing in: at %s", b.Path())
	}
	b.Check("reports")
	if got := b.Text("main"); !strings.Contains(got, "Late notes") || strings.Contains(got, "Disposals due") {
		t.Errorf("a manager's reports: %q", got)
	}
	b.TabTo(`a[href="/reports/late-notes"]`)
	b.Enter()
	b.Check("report-late-notes")
	table := b.Text(".casefile-report-table")
	if !strings.Contains(table, "Jo Bloggs\t2\t1\t50") && !strings.Contains(table, "Jo Bloggs 2 1 50") {
		t.Errorf("late-notes table: %q", table)
	}
	if strings.Contains(table, "Lee Outsider") || !strings.Contains(table, "Sam Patel") {
		t.Errorf("a manager sees her team only: %q", table)
	}
	chart := browser.Eval[string](b, `(() => { const s = document.querySelector('svg[role="img"]');
		return s ? s.getAttribute('aria-labelledby') + '|' + s.querySelector('title').textContent + '|' + s.querySelector('desc').textContent : '' })()`)
	if !strings.Contains(chart, "Notes and late notes by team") || !strings.Contains(chart, "Blue team: notes recorded 3, late notes 2") {
		t.Errorf("chart: %q", chart)
	}

	// A period that is not a date is refused on its field; the keyboard
	// alone corrects it.
	clear := func() {
		b.Run(chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.KeyEvent("\b"))
	}
	b.TabTo("#from")
	clear()
	b.Type("last week")
	b.Enter()
	b.Check("report-bad-period")
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter the first day as a date") {
		t.Errorf("error summary: %q", got)
	}
	b.TabTo("#from")
	clear()
	b.Type(time.Now().UTC().AddDate(0, 0, -6).Format("2006-01-02"))
	b.Enter()
	b.WaitFor(`!document.querySelector('.govuk-error-summary') && !!document.querySelector('.casefile-report-table')`)
	b.Check("report-period")
	if !strings.Contains(b.URL(), "from=") || !strings.Contains(b.Text(".casefile-report-table"), "Jo Bloggs") {
		t.Fatalf("a good period: %s", b.URL())
	}
	b.TabTo(`a[href^="/reports/late-notes/csv"]`)
	href := browser.Eval[string](b, `document.activeElement.getAttribute('href')`)
	csv := sessions["mia"].get(base + href)
	if csv.Status != 200 || !strings.HasPrefix(csv.Body, "team_id,team,author_id,author,notes,late,late_pct\n") || strings.Contains(csv.Body, "Lee Outsider") {
		t.Errorf("CSV: %d %q", csv.Status, csv.Body)
	}

	b.Go("/reports/pasted-email-refusals", "report-refusals")
	if got := b.Text(".casefile-report-table"); !strings.Contains(got, "Jo Bloggs") || !strings.Contains(got, "Sam Patel") {
		t.Errorf("refusals table: %q", got)
	}
	b.Go("/reports/tickets", "report-tickets")
	if got := b.Text(".casefile-report-table"); !strings.Contains(got, "Removal\t1\t1") && !strings.Contains(got, "Removal 1 1") {
		t.Errorf("tickets table: %q", got)
	}
	b.Go("/reports/access", "report-access")
	b.Go("/reports/disposals-due", "report-not-for-managers")
	if got := b.Text("main"); !strings.Contains(got, "records officers and auditors") {
		t.Errorf("disposals-due for a manager: %q", got)
	}

	// A records officer sees every report, for everyone: with a hold placed
	// and the audit log verified.
	s.must(201, "POST", "/v1/holds", s.token("records_officer"), map[string]any{"name": "Inquiry 2026", "reason": "Public inquiry",
		"person_ids": []string{amy}})
	s.must(200, "GET", "/v1/audit/verify", s.token("auditor"), nil)
	day := func(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format("2006-01-02") }
	late := s.must(201, "POST", "/v1/persons/"+amy+"/disclosures", s.token("records_officer"), map[string]any{"purpose": "subject_access",
		"requester": "Amy's mother", "received_on": day(-40), "due_on": day(-9)})["id"].(string)
	r := browser.New(t, base)
	signInAt(r, base+"/reports", "rob", "rob-pass-1")
	r.Check("reports-records-officer")
	r.Go("/reports/late-notes", "report-late-notes-all")
	if got := r.Text(".casefile-report-table"); !strings.Contains(got, "Lee Outsider") || !strings.Contains(got, "No team") {
		t.Errorf("records officer's late notes: %q", got)
	}
	r.ScreenshotOf(".casefile-figure", "chart-late-notes")
	r.Go("/reports/disclosures-overdue", "report-disclosures-overdue")
	if got := r.Text(".casefile-report-table"); !strings.Contains(got, late) || !strings.Contains(got, "9") || strings.Contains(got, "Amy's mother") {
		t.Errorf("overdue disclosures: %q", got)
	}
	r.Go("/reports/disposals-due", "report-disposals-due")
	r.Go("/reports/holds", "report-holds")
	if got := r.Text(".casefile-report-table"); !strings.Contains(got, "Inquiry 2026") {
		t.Errorf("holds table: %q", got)
	}
	r.Go("/reports/audit-integrity", "report-audit-integrity")
	if got := r.Text(".casefile-totals"); !regexp.MustCompile(`Last verification passed\s+Yes`).MatchString(got) {
		t.Errorf("audit-integrity totals: %q", got)
	}
}

// signInAt opens u and signs in on the provider's form.
func signInAt(b *browser.Browser, u, username, password string) {
	b.Run(chromedp.Navigate(u), chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, username), chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Submit(`input[name="username"]`), chromedp.Sleep(300*time.Millisecond), chromedp.WaitReady(chromedp.CSS("main")))
}
