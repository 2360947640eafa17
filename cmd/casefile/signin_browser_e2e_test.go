package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/council/casefile/internal/browser"
	"github.com/council/casefile/internal/testenv"
)

// providerSignIn fills the OpenID provider's login form in the browser, which
// casefile sent there, and submits it; the provider sends the browser back.
func providerSignIn(t *testing.T, b *browser.Browser, op *testenv.OIDCProvider, name, username, password string) {
	t.Helper()
	if !strings.HasPrefix(b.URL(), op.Issuer) {
		t.Fatalf("not at the provider's login: at %s", b.URL())
	}
	b.Run(chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	b.Screenshot(name) // the provider's page, not ours: photographed, not checked
	b.TabTo(`input[name="username"]`)
	b.Type(username)
	b.TabTo(`input[name="password"]`)
	b.Type(password)
	b.Enter()
	b.Run(chromedp.WaitReady(chromedp.CSS("body")))
}

// TestSignInInChromium signs in through the real OpenID provider in
// Chromium: casefile sends the browser to the provider, the person fills its
// login form with the keyboard, and the provider sends them back. A person
// with no role yet lands on a page saying whom to ask; once an admin gives
// them a role, the same sign-in lands them on their home page, signed in,
// and back at the page they first asked for.
func TestSignInInChromium(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	op := testenv.StartOIDCProvider(t, base+"/auth/callback",
		testenv.OIDCUser{ID: "u-ana", Username: "ana", Password: "purple otter", FirstName: "Ana", LastName: "Silva", Email: "ana.silva@council.test"})
	s := startService(t, map[string]string{"CASEFILE_HTTP_ADDR": addr, "CASEFILE_PUBLIC_URL": base, "CASEFILE_COUNCIL_NAME": "Northfield Council",
		"CASEFILE_OIDC_ISSUER": op.Issuer, "CASEFILE_OIDC_CLIENT_ID": op.ClientID, "CASEFILE_OIDC_CLIENT_SECRET": op.ClientSecret,
		"CASEFILE_ACCESS_CONTACT": "the Children's Services systems team (ext. 4321)"})
	p := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{
		"external_ref": "NF-40001", "given_name": "Leo", "family_name": "Hart", "date_of_birth": "2017-11-02"})

	// First sign-in: no role yet.
	b := browser.New(t, base)
	b.Run(chromedp.Navigate(base + "/"))
	providerSignIn(t, b, op, "provider-login", "ana", "purple otter")
	b.Check("no-role")
	if got := b.Text("main"); !strings.Contains(got, "Ana Silva") || !strings.Contains(got, "systems team (ext. 4321)") {
		t.Errorf("no-role page = %q, want who signed in and whom to ask", got)
	}
	if strings.HasPrefix(b.URL(), op.Issuer) || b.Title() == "" {
		t.Fatalf("no-role page not shown by casefile: at %s", b.URL())
	}

	// An admin gives Ana a role. A new browser asks for the person's record,
	// signs in, and is brought back to it, signed in as Ana.
	users := s.must(200, "GET", "/v1/users", s.Admin, nil)["items"].([]any)
	s.must(200, "PATCH", "/v1/users/"+users[0].(map[string]any)["id"].(string), s.Admin, map[string]any{"role": "practitioner"})
	record := "/persons/" + p["id"].(string)
	b2 := browser.New(t, base)
	b2.Run(chromedp.Navigate(base + record))
	providerSignIn(t, b2, op, "provider-login-again", "ana", "purple otter")
	b2.Check("signed-in-record")
	if b2.Path() != record {
		t.Fatalf("after signing in: at %s, want %s", b2.URL(), record)
	}
	if got := b2.Text(".casefile-signed-in"); !strings.Contains(got, "Ana Silva") || !strings.Contains(got, "Sign out") {
		t.Errorf("header = %q, want who is signed in and a way out", got)
	}
	if got := b2.Text(".moj-identity-bar"); !strings.Contains(got, "Leo Hart") {
		t.Errorf("identity bar = %q", got)
	}

	// The first browser's session now has a role too: home is the
	// practitioner's home page.
	b.Go("/", "home")
	if b.Path() != "/persons" {
		t.Errorf("home for a practitioner: at %s, want /persons", b.Path())
	}
	if got := b.Text("h1"); got != "Find a person" {
		t.Errorf("home page heading = %q", got)
	}
}
