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
	pid := s.person("OUT-1", "2012-02-02")
	kept := s.upload(pid, s.Admin, "kept.txt", "text/plain", []byte("stored before the outage"))

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
			if tc.name == "s3" {
				// Uploads and downloads need S3: 503, and nothing half-kept.
				if r := s.upload(pid, s.Admin, "during.txt", "text/plain", []byte("sent during the outage")); r.Status != 503 || r.Header.Get("Retry-After") == "" {
					t.Fatalf("upload with S3 down = %d %s", r.Status, r.Body)
				}
				if r := s.do("GET", "/v1/documents/"+kept.JSON()["id"].(string)+"/content", s.Admin, nil); r.Status != 503 {
					t.Fatalf("download with S3 down = %d %s", r.Status, r.Body)
				}
				if items := s.must(200, "GET", "/v1/persons/"+pid+"/documents", s.Admin, nil)["items"].([]any); len(items) != 1 {
					t.Fatalf("documents after a refused upload: %d", len(items))
				}
			}
			// Requests that need only PostgreSQL still work.
			s.must(201, "POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "OUT-" + tc.name,
				"given_name": "A", "family_name": "B", "date_of_birth": "2015-05-05"})
			tc.proc.Start()
			eventually(t, 20*time.Second, "readyz recovers after "+tc.name+" restarts", func() bool {
				return s.do("GET", "/readyz", "", nil).Status == 200
			})
			if tc.name == "s3" {
				s.must(201, "POST", "/v1/persons/"+pid+"/documents?filename=after.eml", s.Admin, []byte("Subject: after\r\n\r\nhi"), "Content-Type", "message/rfc822")
			}
		})
	}
}

func TestPostgresDownGives503AndRecovers(t *testing.T) {
	pg, url := testenv.PrivatePostgres(t)
	s := startService(t, map[string]string{"CASEFILE_DATABASE_URL": url})
	id := s.person("PG-1", "2016-06-01")
	pg.Stop()
	r := s.do("GET", "/v1/persons/"+id, s.Admin, nil)
	if r.Status != 503 || r.ErrorCode() != "service_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("read with PostgreSQL down = %d %s", r.Status, r.Body)
	}
	r = s.do("POST", "/v1/persons", s.Admin, map[string]any{"external_ref": "PG-2", "given_name": "A", "family_name": "B", "date_of_birth": "2016-01-01"})
	if r.Status != 503 {
		t.Fatalf("write with PostgreSQL down = %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/readyz", "", nil); r.Status != 503 || r.JSON()["services"].(map[string]any)["postgres"] != "down" {
		t.Fatalf("readyz with PostgreSQL down = %d %s", r.Status, r.Body)
	}
	pg.Start()
	eventually(t, 30*time.Second, "PostgreSQL requests recover", func() bool {
		return s.do("GET", "/v1/persons/"+id, s.Admin, nil).Status == 200
	})
	// Nothing acknowledged was lost, and the refused write was not half-kept.
	if items := s.must(200, "GET", "/v1/persons?external_ref=PG-2", s.Admin, nil)["items"].([]any); len(items) != 0 {
		t.Fatalf("the refused write was kept: %v", items)
	}
}
