package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/council/casefile"
)

// ProviderConfig is the OpenID Connect provider casefile signs users in with.
type ProviderConfig struct {
	// Issuer is the provider's issuer URL exactly as its discovery document
	// gives it (for Entra ID the tenant-specific
	// https://login.microsoftonline.com/{tenant-id}/v2.0).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is {public URL}/auth/callback, as registered at the provider.
	RedirectURL string
	// RolesClaim names the claim that carries the user's roles (default
	// "roles", where Entra ID puts app roles); RoleMap maps its values to
	// casefile roles.
	RolesClaim string
	RoleMap    map[string]casefile.Role
	// HTTPClient talks to the provider; nil is a client with a 15 s timeout.
	HTTPClient *http.Client
	// Now is the clock the ID token's expiry is checked against (tests).
	Now func() time.Time
}

// Provider signs users in with the OpenID Connect authorization code flow
// (PKCE S256, state and nonce). Discovery happens on first use and is kept
// once it has succeeded, so that casefile starts while the provider is down.
type Provider struct {
	cfg    ProviderConfig
	client *http.Client

	mu       sync.Mutex
	oidc     *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// NewProvider returns a provider; nothing is fetched yet.
func NewProvider(cfg ProviderConfig) *Provider {
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "roles"
	}
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	return &Provider{cfg: cfg, client: c}
}

func (p *Provider) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, p.client) }

// discover fetches the provider's discovery document the first time.
func (p *Provider) discover(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oidc != nil {
		return nil
	}
	op, err := oidc.NewProvider(p.ctx(ctx), p.cfg.Issuer)
	if err != nil {
		return casefile.Unavailable("The identity provider", err)
	}
	p.oidc = op
	p.verifier = op.VerifierContext(p.ctx(context.Background()), &oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now})
	p.oauth = oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: op.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return nil
}

// AuthCodeURL is where to send the browser to sign in.
func (p *Provider) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	if err := p.discover(ctx); err != nil {
		return "", err
	}
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Identity is what a verified ID token (and the user-info endpoint) say.
type Identity struct {
	Issuer, Subject, Name, Email string
	Roles                        []string // the values of the roles claim
}

// errSignIn is the refusal of a sign-in the provider did not vouch for.
func errSignIn(msg string, cause error) error {
	return &casefile.Error{Kind: casefile.EUnauthorized, Code: "sign_in_failed", Message: msg, Err: cause}
}

// Exchange trades the code for tokens (with the PKCE verifier), verifies the
// ID token and its nonce, and reads the user's claims, asking the user-info
// endpoint for name and email when the ID token lacks them.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (*Identity, error) {
	if err := p.discover(ctx); err != nil {
		return nil, err
	}
	tok, err := p.oauth.Exchange(p.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, errSignIn("The identity provider did not accept the sign-in; start again.", err)
		}
		return nil, casefile.Unavailable("The identity provider", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errSignIn("The identity provider sent no ID token.", nil)
	}
	id, err := p.Verify(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	if id.Name == "" || id.Email == "" || len(id.Roles) == 0 {
		ui, err := p.oidc.UserInfo(p.ctx(ctx), oauth2.StaticTokenSource(tok))
		if err == nil && ui.Subject == id.Subject {
			var c map[string]any
			if ui.Claims(&c) == nil {
				extra := p.identityFrom(c)
				if id.Name == "" {
					id.Name = extra.Name
				}
				if id.Email == "" {
					id.Email = extra.Email
				}
				if len(id.Roles) == 0 {
					id.Roles = extra.Roles
				}
			}
		}
	}
	return id, nil
}

// Verify checks an ID token: its signature against the provider's keys, its
// issuer, that its audience is this client, that it has not expired, and
// that its nonce is the one this sign-in sent.
func (p *Provider) Verify(ctx context.Context, rawIDToken, nonce string) (*Identity, error) {
	if err := p.discover(ctx); err != nil {
		return nil, err
	}
	t, err := p.verifier.Verify(p.ctx(ctx), rawIDToken)
	if err != nil {
		return nil, errSignIn("The identity provider's answer could not be verified; start again.", err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return nil, errSignIn("The identity provider's answer is not for this sign-in; start again.", fmt.Errorf("nonce mismatch"))
	}
	var c map[string]any
	if err := t.Claims(&c); err != nil {
		return nil, errSignIn("The identity provider's answer could not be read.", err)
	}
	id := p.identityFrom(c)
	id.Issuer, id.Subject = t.Issuer, t.Subject
	return id, nil
}

func (p *Provider) identityFrom(c map[string]any) *Identity {
	str := func(k string) string { s, _ := c[k].(string); return strings.TrimSpace(s) }
	id := &Identity{Name: str("name"), Email: str("email")}
	if id.Name == "" {
		id.Name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if id.Email == "" {
		id.Email = str("preferred_username") // Entra: the sign-in name, usually the address
	}
	switch v := c[p.cfg.RolesClaim].(type) {
	case string:
		id.Roles = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				id.Roles = append(id.Roles, s)
			}
		}
	}
	return id
}

// MapRole is the casefile role the claim's values give: nil when none maps.
// When values map to several roles, the first in casefile.Roles order wins
// (practitioner, manager, ict, records_officer, auditor, admin).
func (p *Provider) MapRole(values []string) *casefile.Role {
	var got []casefile.Role
	for _, v := range values {
		if r, ok := p.cfg.RoleMap[v]; ok {
			got = append(got, r)
		}
	}
	for _, r := range casefile.Roles {
		if slices.Contains(got, r) {
			return &r
		}
	}
	return nil
}

// ParseRoleMap reads CASEFILE_OIDC_ROLE_MAP: "value=role,value=role".
func ParseRoleMap(s string) (map[string]casefile.Role, error) {
	m := map[string]casefile.Role{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		v, r, ok := strings.Cut(pair, "=")
		v, r = strings.TrimSpace(v), strings.TrimSpace(r)
		if !ok || v == "" {
			return nil, fmt.Errorf("%q is not value=role (e.g. Casefile.Practitioner=practitioner)", pair)
		}
		if !casefile.ValidRole(casefile.Role(r)) {
			return nil, fmt.Errorf("%q maps to %q, which is not a role (practitioner, manager, ict, records_officer, auditor, admin)", pair, r)
		}
		m[v] = casefile.Role(r)
	}
	return m, nil
}
