package testenv

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// OIDCUser is a person the test OpenID provider knows.
type OIDCUser struct {
	ID, Username, Password, FirstName, LastName, Email string
}

// OIDCProvider is a real OpenID provider on loopback: the example server of
// github.com/zitadel/oidc (v3.52.0), which signs its ID tokens with a key of
// its own, serves discovery and JWKS, and signs users in through an HTML
// login form. Its client "web" (secret "secret") is a confidential web client
// whose redirect URI is the one given.
type OIDCProvider struct {
	Issuer       string // http://localhost:PORT/
	ClientID     string
	ClientSecret string
	cmd          *exec.Cmd
	log          *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// OIDCBinary is the test OpenID provider that `make test` builds
// (scripts/services.sh test-deps), or CASEFILE_TEST_OIDC_BIN.
func OIDCBinary(t testing.TB) string {
	if b := os.Getenv("CASEFILE_TEST_OIDC_BIN"); b != "" {
		return b
	}
	home, _ := os.UserHomeDir()
	b := filepath.Join(home, ".cache", "casefile", "bin", "zitadel-oidc-example")
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("no test OpenID provider at %s (scripts/services.sh test-deps builds it; or set CASEFILE_TEST_OIDC_BIN): %v", b, err)
	}
	return b
}

// StartOIDCProvider starts the provider on a free port until the test ends,
// knowing users, with redirectURI registered for its web client.
func StartOIDCProvider(t testing.TB, redirectURI string, users ...OIDCUser) *OIDCProvider {
	t.Helper()
	type fileUser struct {
		ID, Username, Password, FirstName, LastName, Email string
		EmailVerified                                      bool
		PreferredLanguage                                  string
	}
	file := map[string]fileUser{}
	for _, u := range users {
		file[u.ID] = fileUser{u.ID, u.Username, u.Password, u.FirstName, u.LastName, u.Email, true, "en"}
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	usersFile := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(freePort(t))
	p := &OIDCProvider{Issuer: "http://localhost:" + port + "/", ClientID: "web", ClientSecret: "secret", log: &lockedBuffer{}}
	cmd := exec.Command(OIDCBinary(t))
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+redirectURI, "USERS_FILE="+usersFile)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the test OpenID provider: %v", err)
	}
	p.cmd = cmd
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck
		cmd.Wait()                                      //nolint:errcheck
		if t.Failed() {
			t.Logf("OpenID provider log (last 4000 bytes):\n%s", tail(p.log.String(), 4000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.Issuer + ".well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test OpenID provider did not answer at %s: %v\n%s", p.Issuer, err, tail(p.log.String(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
