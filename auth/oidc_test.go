package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
)

// keyServer is an issuer of the test's own: a discovery document and a JWKS
// with one RSA key, so that ID tokens the test signs (well or badly) go
// through the same verification as the real provider's.
type keyServer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newKeyServer(t *testing.T) *keyServer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ks := &keyServer{key: key}
	mux := http.NewServeMux()
	ks.srv = httptest.NewServer(mux)
	t.Cleanup(ks.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": ks.srv.URL, "authorization_endpoint": ks.srv.URL + "/authorize", "token_endpoint": ks.srv.URL + "/token",
			"jwks_uri": ks.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return ks
}

func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestIDTokenVerification(t *testing.T) {
	ks := newKeyServer(t)
	p := auth.NewProvider(auth.ProviderConfig{Issuer: ks.srv.URL, ClientID: "casefile", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1/auth/callback",
		RoleMap:     map[string]casefile.Role{"Casefile.Practitioner": casefile.RolePractitioner, "Casefile.Admin": casefile.RoleAdmin}})
	now := time.Now()
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": ks.srv.URL, "aud": "casefile", "sub": "user-1", "nonce": "n-1",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "name": "Jo Bloggs", "preferred_username": "jo.bloggs@council.test",
			"roles": []string{"Something.Else", "Casefile.Admin", "Casefile.Practitioner"}}
		if change != nil {
			change(c)
		}
		return c
	}
	ctx := context.Background()

	id, err := p.Verify(ctx, sign(t, ks.key, claims(nil)), "n-1")
	if err != nil {
		t.Fatalf("a good token: %v", err)
	}
	if id.Issuer != ks.srv.URL || id.Subject != "user-1" || id.Name != "Jo Bloggs" || id.Email != "jo.bloggs@council.test" {
		t.Fatalf("identity = %+v", id)
	}
	// The roles claim maps (several values: the first in casefile's role order).
	if r := p.MapRole(id.Roles); r == nil || *r != casefile.RolePractitioner {
		t.Fatalf("mapped role = %v from %v", r, id.Roles)
	}
	if r := p.MapRole([]string{"Casefile.Admin"}); r == nil || *r != casefile.RoleAdmin {
		t.Fatalf("admin role = %v", r)
	}
	if r := p.MapRole([]string{"Unmapped"}); r != nil {
		t.Fatalf("unmapped value gave %v", *r)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, ks.key, claims(nil))
	parts := strings.Split(good, ".")
	tampered, _ := json.Marshal(claims(func(c map[string]any) { c["sub"] = "someone-else" }))
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	for name, c := range map[string]struct {
		raw, nonce string
	}{
		"forged (another key)":    {sign(t, other, claims(nil)), "n-1"},
		"payload changed":         {parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2], "n-1"},
		"alg none":                {unsigned, "n-1"},
		"expired":                 {sign(t, ks.key, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), "n-1"},
		"wrong audience":          {sign(t, ks.key, claims(func(c map[string]any) { c["aud"] = "another-app" })), "n-1"},
		"wrong issuer":            {sign(t, ks.key, claims(func(c map[string]any) { c["iss"] = "https://login.example/other" })), "n-1"},
		"another sign-in's nonce": {good, "n-2"},
		"no nonce in the token":   {sign(t, ks.key, claims(func(c map[string]any) { delete(c, "nonce") })), "n-1"},
		"not a JWT":               {"abc.def", "n-1"},
	} {
		t.Run(name, func(t *testing.T) {
			id, err := p.Verify(ctx, c.raw, c.nonce)
			if err == nil || casefile.ErrorKind(err) != casefile.EUnauthorized || casefile.ErrorCode(err) != "sign_in_failed" {
				t.Fatalf("accepted or wrong refusal: %+v %v", id, err)
			}
			// What reaches the browser names no key, claim or library detail.
			if msg := casefile.ErrorMessage(err); strings.Contains(msg, "oidc") || strings.Contains(msg, "jwt") || strings.Contains(msg, "nonce") {
				t.Fatalf("message leaks detail: %q", msg)
			}
		})
	}
}

func TestRoleMapParsing(t *testing.T) {
	m, err := auth.ParseRoleMap(" Casefile.Practitioner=practitioner , Casefile.Admin = admin,,")
	if err != nil || len(m) != 2 || m["Casefile.Admin"] != casefile.RoleAdmin {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"x", "=admin", "Casefile.Boss=boss", "a=system"} {
		if _, err := auth.ParseRoleMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
