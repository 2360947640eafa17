package main

import (
	"testing"
	"time"

	"github.com/council/casefile/internal/testenv"
)

// eventually retries check until it returns true or the time is up.
func eventually(t *testing.T, d time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReadyzFollowsBackingServicesWithoutRestart(t *testing.T) {
	redis := testenv.PrivateRedis(t)
	s3 := testenv.PrivateS3(t)
	s := startService(t, map[string]string{"CASEFILE_REDIS_ADDR": redis.Addr, "CASEFILE_S3_ENDPOINT": s3.Addr})
	s.must(200, "GET", "/readyz", "", nil)

	for _, tc := range []struct {
		name string
		proc *testenv.Process
	}{{"redis", redis}, {"s3", s3}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.proc.Stop()
			r := s.do("GET", "/readyz", "", nil)
			if r.Status != 503 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("readyz with %s down = %d %s", tc.name, r.Status, r.Body)
			}
			services := r.JSON()["services"].(map[string]any)
			if services[tc.name] != "down" || services["postgres"] != "ok" {
				t.Fatalf("readyz services with %s down = %v", tc.name, services)
			}
			// Requests that need only PostgreSQL still work.
			s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "OUT-" + tc.name,
				"given_name": "A", "family_name": "B", "date_of_birth": "2015-05-05"})
			tc.proc.Start()
			eventually(t, 20*time.Second, "readyz recovers after "+tc.name+" restarts", func() bool {
				return s.do("GET", "/readyz", "", nil).Status == 200
			})
		})
	}
}
