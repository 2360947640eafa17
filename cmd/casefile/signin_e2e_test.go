package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/council/casefile/internal/testenv"
)

// browser is an HTTP client with a cookie jar that follows redirects by hand,
// so that a test sees each step of a sign-in as a browser makes it.
type httpBrowser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *httpBrowser {
	jar, _ := cookiejar.New(nil)
	return &httpBrowser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	Status   int
	Location string // absolute
	Body     string
	Header   http.Header
}

func (b *httpBrowser) send(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := &page{Status: resp.StatusCode, Body: string(body), Header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := req.URL.Parse(loc)
		if err != nil {
			b.t.Fatalf("bad Location %q", loc)
		}
		p.Location = u.String()
	}
	return p
}

func (b *httpBrowser) get(u string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.send(req)
}

func (b *httpBrowser) postForm(u string, form url.Values, headers ...string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.send(req)
}

// follow GETs redirects until a page that is not one, at most ten.
func (b *httpBrowser) follow(p *page) *page {
	b.t.Helper()
	for i := 0; i < 10 && p.Status >= 300 && p.Status < 400; i++ {
		p = b.get(p.Location)
	}
	return p
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// toCallback signs in at the provider, from casefile's /auth/login to the
// moment the provider sends the browser back: it returns that callback URL
// without visiting it.
func (b *httpBrowser) toCallback(base, next, username, password string) string {
	b.t.Helper()
	p := b.get(base + "/auth/login?next=" + url.QueryEscape(next))
	if p.Status != http.StatusFound {
		b.t.Fatalf("/auth/login = %d %s", p.Status, p.Body)
	}
	q, _ := url.Parse(p.Location)
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(k) == "" {
			b.t.Fatalf("authorization request without %s: %s", k, p.Location)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("response_type") != "code" {
		b.t.Fatalf("not the code flow with PKCE S256: %s", p.Location)
	}
	login := b.follow(p) // the provider's login form
	m := hiddenID.FindStringSubmatch(login.Body)
	if login.Status != 200 || m == nil {
		b.t.Fatalf("provider's login form: %d %s", login.Status, login.Body)
	}
	p = b.postForm(q.Scheme+"://"+q.Host+"/login/username", url.Values{"id": {html.UnescapeString(m[1])}, "username": {username}, "password": {password}})
	for i := 0; i < 10 && p.Status >= 300 && p.Status < 400 && !strings.HasPrefix(p.Location, base); i++ {
		p = b.get(p.Location)
	}
	if !strings.HasPrefix(p.Location, base+"/auth/callback?") {
		b.t.Fatalf("the provider did not send the browser back: %d %s %s", p.Status, p.Location, p.Body)
	}
	return p.Location
}

// api calls casefile with the browser's cookies.
func (b *httpBrowser) api(method, u, body string, headers ...string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.send(req)
}

func TestSignInThroughARealOpenIDProvider(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	op := testenv.StartOIDCProvider(t, base+"/auth/callback",
		testenv.OIDCUser{ID: "u-jo", Username: "jo", Password: "correct horse", FirstName: "Jo", LastName: "Bloggs", Email: "jo.bloggs@council.test"},
		testenv.OIDCUser{ID: "u-sam", Username: "sam", Password: "battery staple", FirstName: "Sam", LastName: "Lee", Email: "sam.lee@council.test"})
	s := startService(t, map[string]string{"CASEFILE_HTTP_ADDR": addr, "CASEFILE_PUBLIC_URL": base,
		"CASEFILE_OIDC_ISSUER": op.Issuer, "CASEFILE_OIDC_CLIENT_ID": op.ClientID, "CASEFILE_OIDC_CLIENT_SECRET": op.ClientSecret,
		"CASEFILE_ACCESS_CONTACT": "the Children's Services systems team (ext. 4321)"})

	// First sign-in: the user is made, with no role yet: a page says whom to ask.
	jo := newBrowser(t)
	cb := jo.toCallback(base, "/v1/me", "jo", "correct horse")
	p := jo.get(cb)
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "systems team (ext. 4321)") || !strings.Contains(p.Body, "Jo Bloggs") {
		t.Fatalf("no-role page: %d %s", p.Status, p.Body)
	}
	setCookie := strings.Join(p.Header.Values("Set-Cookie"), "\n")
	if !regexp.MustCompile(`casefile_session=cfs_[^;]+; Path=/; Expires=[^;]+; HttpOnly; SameSite=Lax`).MatchString(setCookie) {
		t.Fatalf("session cookie: %s", setCookie)
	}
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 403 || !strings.Contains(r.Body, `"no_role"`) {
		t.Fatalf("/v1/me without a role: %d %s", r.Status, r.Body)
	}
	// The callback is good once: the same state again is refused, and nothing is made.
	if r := jo.get(cb); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "used already") {
		t.Fatalf("replayed callback: %d %s", r.Status, r.Body)
	}
	if r := jo.get(base + "/auth/callback?code=abc"); r.Status != http.StatusBadRequest {
		t.Fatalf("callback without state: %d %s", r.Status, r.Body)
	}

	// An admin gives Jo a role.
	users := s.must(200, "GET", "/v1/users", s.Admin, nil)["items"].([]any)
	if len(users) != 1 {
		t.Fatalf("users = %v", users)
	}
	u := users[0].(map[string]any)
	if u["name"] != "Jo Bloggs" || u["email"] != "jo.bloggs@council.test" || u["role"] != "" || u["subject"] != "u-jo" || u["issuer"] != op.Issuer {
		t.Fatalf("user = %v", u)
	}
	joID := u["id"].(string)
	team := s.must(201, "POST", "/v1/teams", s.Admin, map[string]any{"name": "Adoption"})["id"].(string)
	patched := s.must(200, "PATCH", "/v1/users/"+joID, s.Admin, map[string]any{"role": "practitioner", "team_ids": []string{team}})
	if patched["role"] != "practitioner" || len(patched["team_ids"].([]any)) != 1 {
		t.Fatalf("PATCH user = %v", patched)
	}
	for _, bad := range []map[string]any{{"role": "boss"}, {}, {"team_ids": []string{"0190a0c0-0000-7000-8000-000000000000"}}} {
		if r := s.do("PATCH", "/v1/users/"+joID, s.Admin, bad); r.Status < 400 || r.Status >= 500 {
			t.Fatalf("PATCH %v = %d %s", bad, r.Status, r.Body)
		}
	}

	// The same session now works: /v1/me says who.
	r := jo.api("GET", base+"/v1/me", "")
	me := (&response{Body: []byte(r.Body)}).JSON()
	if r.Status != 200 || me["id"] != joID || me["kind"] != "user" || me["name"] != "Jo Bloggs" || me["email"] != "jo.bloggs@council.test" ||
		me["role"] != "practitioner" || len(me["teams"].([]any)) != 1 || me["teams"].([]any)[0] != team {
		t.Fatalf("/v1/me = %d %s", r.Status, r.Body)
	}
	csrf, _ := me["csrf_token"].(string)
	if csrf == "" {
		t.Fatalf("no csrf_token in /v1/me: %s", r.Body)
	}

	// A state-changing request with the cookie: refused without the CSRF
	// token (and nothing made), accepted with it, audited as Jo by id.
	person := `{"external_ref":"LCS-777","given_name":"Amy","family_name":"Pond","date_of_birth":"2012-02-29"}`
	if r := jo.api("POST", base+"/v1/persons", person); r.Status != 403 || !strings.Contains(r.Body, `"csrf_failed"`) {
		t.Fatalf("POST without CSRF token: %d %s", r.Status, r.Body)
	}
	if r := jo.api("POST", base+"/v1/persons", person, "X-CSRF-Token", "not-the-token"); r.Status != 403 {
		t.Fatalf("POST with a wrong CSRF token: %d %s", r.Status, r.Body)
	}
	if items := s.must(200, "GET", "/v1/persons?external_ref=LCS-777", s.Admin, nil)["items"].([]any); len(items) != 0 {
		t.Fatalf("a refused request made a person: %v", items)
	}
	if r := jo.api("POST", base+"/v1/persons", person, "X-CSRF-Token", csrf); r.Status != 201 {
		t.Fatalf("POST with the CSRF token: %d %s", r.Status, r.Body)
	}
	evs := s.must(200, "GET", "/v1/audit?action=person.create", s.Admin, nil)["items"].([]any)
	if ev := evs[len(evs)-1].(map[string]any); ev["actor"] != "Jo Bloggs" || ev["actor_id"] != joID {
		t.Fatalf("audit actor = %v", ev)
	}
	// The permission matrix is the token's: a practitioner session may not read the audit log.
	if r := jo.api("GET", base+"/v1/audit", ""); r.Status != 403 || !strings.Contains(r.Body, `"forbidden"`) {
		t.Fatalf("practitioner session reading audit: %d %s", r.Status, r.Body)
	}

	// next pointing off-site is not followed: the browser lands on /.
	sam := newBrowser(t)
	s.must(200, "GET", "/v1/users", s.Admin, nil)
	cb = sam.toCallback(base, "//evil.example/steal", "sam", "battery staple")
	if p := sam.get(cb); p.Status != http.StatusForbidden { // no role yet
		t.Fatalf("sam: %d", p.Status)
	}
	users = s.must(200, "GET", "/v1/users", s.Admin, nil)["items"].([]any)
	samID := users[1].(map[string]any)["id"].(string)
	s.must(200, "PATCH", "/v1/users/"+samID, s.Admin, map[string]any{"role": "auditor"})
	for _, next := range []string{"https://evil.example/", "/\\evil.example", "//evil.example"} {
		cb = sam.toCallback(base, next, "sam", "battery staple")
		if p := sam.get(cb); p.Status != http.StatusSeeOther || p.Location != base+"/" {
			t.Fatalf("next=%s: %d to %s", next, p.Status, p.Location)
		}
	}
	cb = sam.toCallback(base, "/v1/audit?action=person.create", "sam", "battery staple")
	if p := sam.get(cb); p.Status != http.StatusSeeOther || p.Location != base+"/v1/audit?action=person.create" {
		t.Fatalf("a local next: %d to %s", p.Status, p.Location)
	}

	// A callback brought to casefile by another browser (one that did not
	// start the sign-in) is refused, and the state is spent.
	cb = sam.toCallback(base, "/", "sam", "battery staple")
	if p := newBrowser(t).get(cb); p.Status != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %d %s", p.Status, p.Body)
	}
	if p := sam.get(cb); p.Status != http.StatusBadRequest {
		t.Fatalf("the spent state again: %d %s", p.Status, p.Body)
	}

	// Sign-out is CSRF-checked: without the token the session goes on.
	if p := jo.postForm(base+"/auth/logout", nil); p.Status != 403 {
		t.Fatalf("logout without CSRF token: %d %s", p.Status, p.Body)
	}
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 200 {
		t.Fatalf("session ended by a forged logout: %d", r.Status)
	}
	if p := jo.postForm(base+"/auth/logout", url.Values{"csrf_token": {csrf}}); p.Status != 200 || !strings.Contains(p.Body, "signed out") {
		t.Fatalf("logout: %d %s", p.Status, p.Body)
	}
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 401 {
		t.Fatalf("after logout: %d %s", r.Status, r.Body)
	}

	// A disabled user's session ends at once.
	cb = jo.toCallback(base, "/v1/me", "jo", "correct horse")
	if p := jo.get(cb); p.Status != http.StatusSeeOther {
		t.Fatalf("jo again: %d %s", p.Status, p.Body)
	}
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 200 {
		t.Fatalf("jo's new session: %d", r.Status)
	}
	s.must(200, "PATCH", "/v1/users/"+joID, s.Admin, map[string]any{"disabled": true})
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 401 {
		t.Fatalf("disabled user's old cookie: %d %s", r.Status, r.Body)
	}
	cb = jo.toCallback(base, "/v1/me", "jo", "correct horse")
	if p := jo.get(cb); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "disabled") {
		t.Fatalf("disabled user signing in: %d %s", p.Status, p.Body)
	}
	if r := jo.api("GET", base+"/v1/me", ""); r.Status != 401 {
		t.Fatalf("disabled user got a session: %d", r.Status)
	}
	// The audit log verifies with old and new events alike.
	if v := s.must(200, "GET", "/v1/audit/verify", s.Admin, nil); v["ok"] != true {
		t.Fatalf("audit verify: %v", v)
	}
}

func TestTokenSignInFormWithoutAProvider(t *testing.T) {
	s := startService(t, nil)
	if !strings.Contains(s.out.String(), "it expires on ") {
		t.Fatalf("the bootstrap lines do not say when the admin token expires: %s", s.out.String())
	}
	ict := s.token("ict")
	b := newBrowser(t)
	form := b.get(s.Base + "/auth/login?next=/v1/me")
	// The form in the pages' layout (auth.Handler.Render), with its label.
	if form.Status != 200 || !strings.Contains(form.Body, `for="token"`) || !strings.Contains(form.Body, "govuk-template") {
		t.Fatalf("token form: %d %s", form.Status, form.Body)
	}
	formToken := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	ft := formToken.FindStringSubmatch(form.Body)[1]
	if p := b.postForm(s.Base+"/auth/login", url.Values{"token": {"cf_wrong"}, "next": {"/v1/me"}, "csrf_token": {ft}}); p.Status != 401 ||
		!strings.Contains(p.Body, "govuk-error-message") || !strings.Contains(p.Body, "not valid") {
		t.Fatalf("wrong token: %d %s", p.Status, p.Body)
	}
	form = b.get(s.Base + "/auth/login?next=/v1/me")
	ft = formToken.FindStringSubmatch(form.Body)[1]
	// The form posted from elsewhere (no form cookie) is refused.
	if p := newBrowser(t).postForm(s.Base+"/auth/login", url.Values{"token": {ict}, "next": {"/v1/me"}, "csrf_token": {ft}}); p.Status != 403 {
		t.Fatalf("cross-site form: %d", p.Status)
	}
	p := b.postForm(s.Base+"/auth/login", url.Values{"token": {ict}, "next": {"/v1/me"}, "csrf_token": {ft}})
	if p.Status != http.StatusSeeOther || p.Location != s.Base+"/v1/me" {
		t.Fatalf("token sign-in: %d %s %s", p.Status, p.Location, p.Body)
	}
	r := b.api("GET", s.Base+"/v1/me", "")
	me := (&response{Body: []byte(r.Body)}).JSON()
	if r.Status != 200 || me["kind"] != "token" || me["name"] != "test-ict" || me["role"] != "ict" {
		t.Fatalf("/v1/me = %d %s", r.Status, r.Body)
	}
	// Revoking the token ends the session made with it.
	tokens := s.must(200, "GET", "/v1/tokens", s.Admin, nil)["items"].([]any)
	var ictID string
	for _, x := range tokens {
		if x.(map[string]any)["name"] == "test-ict" {
			ictID = x.(map[string]any)["id"].(string)
		}
	}
	s.must(200, "DELETE", "/v1/tokens/"+ictID, s.Admin, nil)
	if r := b.api("GET", s.Base+"/v1/me", ""); r.Status != 401 {
		t.Fatalf("session of a revoked token: %d", r.Status)
	}
	if r := s.do("GET", "/v1/me", ict, nil); r.Status != 401 {
		t.Fatalf("revoked token: %d", r.Status)
	}
}

func TestTokenCommands(t *testing.T) {
	s := startService(t, nil)
	out, err := s.cli("token", "create", "--name", "Jo Bloggs", "--role", "practitioner", "--expires", "7d")
	if err != nil || !strings.Contains(out, "expiring ") {
		t.Fatalf("create: %v %s", err, out)
	}
	secret := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	id := regexp.MustCompile(`created token ([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	s.must(200, "GET", "/v1/persons", secret, nil)
	for _, bad := range [][]string{
		{"--name", "system:retention", "--role", "admin"},
		{"--name", "cli:root", "--role", "admin"},
		{"--name", "x", "--role", "admin", "--expires", "forever"},
		{"--name", "x", "--role", "admin", "--expires", "0d"},
	} {
		if out, err := s.cli(append([]string{"token", "create"}, bad...)...); err == nil {
			t.Errorf("token create %v accepted: %s", bad, out)
		}
	}
	out, err = s.cli("token", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "Jo Bloggs") || !strings.Contains(out, "active") ||
		!strings.Contains(out, "bootstrap-admin") || strings.Contains(out, "system:") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := s.cli("token", "revoke", id); err != nil || !strings.Contains(out, "revoked token "+id) {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if r := s.do("GET", "/v1/persons", secret, nil); r.Status != 401 {
		t.Fatalf("revoked token: %d %s", r.Status, r.Body)
	}
	out, _ = s.cli("token", "list")
	if !regexp.MustCompile(id + `.*revoked`).MatchString(out) {
		t.Fatalf("list after revoke:\n%s", out)
	}
	// Through the API: admin only, and the list carries no secrets.
	r := s.do("GET", "/v1/tokens", s.Admin, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "cf_") || strings.Contains(string(r.Body), "secret") {
		t.Fatalf("GET /v1/tokens: %d %s", r.Status, r.Body)
	}
	if r := s.do("DELETE", "/v1/tokens/"+id, s.token("manager"), nil); r.Status != 403 {
		t.Fatalf("manager revoking: %d", r.Status)
	}
	if r := s.do("DELETE", "/v1/tokens/0190a0c0-0000-7000-8000-000000000000", s.Admin, nil); r.Status != 404 {
		t.Fatalf("unknown token: %d", r.Status)
	}
	evs := s.must(200, "GET", "/v1/audit?action=token.revoke", s.Admin, nil)["items"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["target_id"] != id || !strings.HasPrefix(evs[0].(map[string]any)["actor"].(string), "cli:") {
		t.Fatalf("revoke audited as %v", evs)
	}
}
