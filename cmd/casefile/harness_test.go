package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council/casefile/internal/testenv"
)

// service is a whole casefile (`casefile run`) started by a test against the
// real PostgreSQL, Redis and S3, on a fresh database, bucket and queue.
type service struct {
	t      testing.TB
	Base   string
	Admin  string // the bootstrap admin token
	env    map[string]string
	cancel context.CancelFunc
	done   chan error
	out    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testEnv is the environment of a fresh service; extra overrides it.
func testEnv(t testing.TB, extra map[string]string) map[string]string {
	s3 := testenv.S3Config(t)
	env := map[string]string{
		"CASEFILE_HTTP_ADDR":      freeAddr(t),
		"CASEFILE_DATABASE_URL":   testenv.DatabaseURL(t),
		"CASEFILE_REDIS_ADDR":     testenv.RedisAddr(),
		"CASEFILE_S3_ENDPOINT":    s3.Endpoint,
		"CASEFILE_S3_ACCESS_KEY":  s3.AccessKey,
		"CASEFILE_S3_SECRET_KEY":  s3.SecretKey,
		"CASEFILE_S3_BUCKET":      s3.Bucket,
		"CASEFILE_WORKER_QUEUE":   testenv.Queue(t),
		"CASEFILE_RETENTION_CRON": "off",
		"CASEFILE_RECONCILE_CRON": "off",
		"CASEFILE_LOG_LEVEL":      "warn",
		// Anchors are locked in compliance mode, which nothing can lift: a
		// day, so that test buckets can be emptied the day after.
		"CASEFILE_ANCHOR_LOCK_DAYS": "1",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// startService runs `casefile run` until the test ends.
func startService(t testing.TB, extra map[string]string) *service {
	t.Helper()
	env := testEnv(t, extra)
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{t: t, Base: "http://" + env["CASEFILE_HTTP_ADDR"], env: env, cancel: cancel,
		done: make(chan error, 1), out: &syncBuffer{}}
	errOut := &syncBuffer{}
	go func() { s.done <- run(ctx, []string{"run"}, s.getenv, s.out, errOut) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(s.Base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("casefile run stopped: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("casefile did not start in time\n%s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
	s.Admin = lines[len(lines)-1]
	if !strings.HasPrefix(s.Admin, "cf_") {
		t.Fatalf("no bootstrap token on stdout: %q", s.out.String())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("service log:\n%s", errOut.String())
		}
	})
	return s
}

func (s *service) getenv(k string) string { return s.env[k] }

// Stop stops the service and waits for it (a clean shutdown).
func (s *service) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("casefile run returned %v on shutdown", err)
		}
	case <-time.After(60 * time.Second):
		s.t.Errorf("casefile run did not stop within 60s")
	}
	s.cancel = nil
}

// cli runs another casefile command against the same configuration.
func (s *service) cli(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, s.getenv, &out, &errOut)
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// token creates a token with the role and returns its secret.
func (s *service) token(role string) string {
	s.t.Helper()
	out, err := s.cli("token", "create", "--name", "test-"+role, "--role", role)
	if err != nil {
		s.t.Fatalf("token create: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// response is a decoded API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// ErrorCode returns error.code of an error body.
func (r *response) ErrorCode() string {
	e, _ := r.JSON()["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends a request; body may be nil, a []byte/string (sent as is), an
// io.Reader, or a value sent as JSON.
func (s *service) do(method, path, token string, body any, headers ...string) *response {
	s.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
		ct = "application/json"
	case io.Reader:
		r = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(j)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, s.Base+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// must is do that fails the test unless the status is want.
func (s *service) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	s.t.Helper()
	r := s.do(method, path, token, body, headers...)
	if r.Status != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.JSON()
}

// person creates a person and returns their id.
func (s *service) person(ref, dob string) string {
	s.t.Helper()
	p := s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{
		"external_ref": ref, "given_name": "Test", "family_name": fmt.Sprintf("Person %s", ref), "date_of_birth": dob})
	return p["id"].(string)
}

// writeTemp writes content to a file in the test's temp dir.
func writeTemp(t testing.TB, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
