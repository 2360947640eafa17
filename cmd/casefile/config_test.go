package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadSettingsFailWithOneLineNamingTheVariable(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "schedule.yaml")
	os.WriteFile(bad, []byte("rules:\n  - record_class: pirates\n    period: 1y\n    trigger: date_of_birth\n    source: x\n"), 0o600)
	cases := map[string]string{
		"CASEFILE_REDIS_DB":           "sixteen",
		"CASEFILE_HTTP_ADDR":          "localhost",
		"CASEFILE_DATABASE_URL":       "mysql://x",
		"CASEFILE_S3_SECURE":          "maybe",
		"CASEFILE_S3_BUCKET":          "Not_A_Bucket",
		"CASEFILE_MAX_UPLOAD_BYTES":   "-1",
		"CASEFILE_RETENTION_CRON":     "every day",
		"CASEFILE_RETENTION_SCHEDULE": bad,
		"CASEFILE_WORKER_CONCURRENCY": "0",
		"CASEFILE_LOG_LEVEL":          "loud",
		"CASEFILE_PPROF_ADDR":         "6060",
		"CASEFILE_EXPORT_KEEP_DAYS":   "a month",
		// Disposal approval: a typo must not quietly mean "no approval".
		"CASEFILE_DISPOSAL_APPROVAL":          "off",
		"CASEFILE_DISPOSAL_APPROVERS":         "0",
		"CASEFILE_RETENTION_SETTLE_DAYS":      "-1",
		"CASEFILE_RETENTION_SCHEDULE_CONFIRM": "yes",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string {
				if k == name {
					return value
				}
				return ""
			}, &out, &errOut)
			if err == nil || !strings.HasPrefix(err.Error(), name+": ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s=%q: %v", name, value, err)
			}
		})
	}
}
