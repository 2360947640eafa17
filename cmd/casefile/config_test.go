package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
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
		"CASEFILE_PUBLIC_URL":         "casefile.example/path",
		"CASEFILE_OIDC_ISSUER":        "https://login.microsoftonline.com/common/v2.0",
		"CASEFILE_OIDC_ROLE_MAP":      "Casefile.Boss=boss",
		"CASEFILE_SESSION_IDLE":       "forever",
		"CASEFILE_SESSION_MAX":        "0s",
		"CASEFILE_REDIS_SENTINELS":    "sentinel-a:26379,sentinel-b",
		// Disposal approval: a typo must not quietly mean "no approval".
		"CASEFILE_DISPOSAL_APPROVAL":          "off",
		"CASEFILE_DISPOSAL_APPROVERS":         "0",
		"CASEFILE_RETENTION_SETTLE_DAYS":      "-1",
		"CASEFILE_RETENTION_SCHEDULE_CONFIRM": "yes",
		// Text extraction's limits.
		"CASEFILE_EXTRACT_TIMEOUT_SECONDS":    "5m",
		"CASEFILE_EXTRACT_MEMORY_MB":          "32",
		"CASEFILE_EXTRACT_OCR_PAGES":          "0",
		"CASEFILE_EXTRACT_MAX_BYTES":          "lots",
		"CASEFILE_EXTRACT_MAX_TEXT_BYTES":     "-1",
		"CASEFILE_EXTRACT_MAX_UNZIPPED_BYTES": "1e9",
		"CASEFILE_OCR_LANGUAGE":               "eng; rm -rf /",
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

// Secrets left at their development defaults are refused unless the service
// they reach is on loopback: one line naming the variable.
func TestDevelopmentSecretsAreRefusedOffLoopback(t *testing.T) {
	refused := []struct {
		name string
		env  map[string]string
	}{
		{"CASEFILE_S3_SECRET_KEY", map[string]string{"CASEFILE_S3_ENDPOINT": "s3.council.example:9000"}},
		{"CASEFILE_S3_SECRET_KEY", map[string]string{"CASEFILE_S3_ENDPOINT": "10.0.0.5:9000", "CASEFILE_S3_SECRET_KEY": "casefile-dev-secret"}},
		{"CASEFILE_ANCHOR_S3_SECRET_KEY", map[string]string{"CASEFILE_S3_ENDPOINT": "s3:9000", "CASEFILE_S3_SECRET_KEY": "a-real-secret",
			"CASEFILE_ANCHOR_S3_ACCESS_KEY": "anchors", "CASEFILE_ANCHOR_S3_SECRET_KEY": "casefile-dev-secret"}},
		{"CASEFILE_DATABASE_URL", map[string]string{"CASEFILE_DATABASE_URL": "postgres://casefile_app:casefile-dev-password@postgres:5432/casefile"}},
		{"CASEFILE_MIGRATE_DATABASE_URL", map[string]string{"CASEFILE_DATABASE_URL": "postgres://casefile_app:real@db.example:5432/casefile",
			"CASEFILE_MIGRATE_DATABASE_URL": "postgres://postgres:casefile-dev-password@db.example:5432/casefile"}},
	}
	for _, c := range refused {
		_, err := loadConfig(func(k string) string { return c.env[k] })
		if err == nil || !strings.HasPrefix(err.Error(), c.name+": ") || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), "development default") || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%v: %v, want one line naming %s", c.env, err, c.name)
		}
	}
	allowed := []map[string]string{
		{}, // make run: everything on this machine
		{"CASEFILE_S3_ENDPOINT": "localhost:9000", "CASEFILE_DATABASE_URL": "postgres://casefile_app:casefile-dev-password@[::1]:5432/casefile"},
		{"CASEFILE_S3_ENDPOINT": "s3.council.example:443", "CASEFILE_S3_SECRET_KEY": "a-real-secret",
			"CASEFILE_DATABASE_URL": "postgres://casefile_app:real@db.example:5432/casefile"},
		{"CASEFILE_DATABASE_URL": "postgres://casefile_app@/casefile?host=/var/run/postgresql"},
	}
	for _, env := range allowed {
		if _, err := loadConfig(func(k string) string { return env[k] }); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

// Out of the box the service runs as casefile_app, which migrations (as
// postgres, the owner) make; one URL given does both, as before.
func TestTheServiceAndMigrationsRunAsDifferentRoles(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if user, pw := c.appRole(); user != "casefile_app" || pw != "casefile-dev-password" || !strings.HasPrefix(c.MigrateDatabaseURL, "postgres://postgres@") {
		t.Errorf("defaults: app role %q/%q, migrations as %s", user, pw, c.MigrateDatabaseURL)
	}
	one := "postgres://postgres@127.0.0.1:5432/other?sslmode=disable"
	c, err = loadConfig(func(k string) string {
		if k == "CASEFILE_DATABASE_URL" {
			return one
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if user, _ := c.appRole(); user != "" || c.MigrateDatabaseURL != one {
		t.Errorf("one URL: app role %q, migrations as %s", user, c.MigrateDatabaseURL)
	}
}

func TestOIDCNeedsClientIDAndSecret(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CASEFILE_OIDC_ISSUER": "https://login.microsoftonline.com/0b4c1a3e-0000-4000-8000-000000000001/v2.0"}, "CASEFILE_OIDC_CLIENT_ID: "},
		{map[string]string{"CASEFILE_OIDC_ISSUER": "https://idp.example", "CASEFILE_OIDC_CLIENT_ID": "x"}, "CASEFILE_OIDC_CLIENT_SECRET: "},
		{map[string]string{"CASEFILE_OIDC_ISSUER": "http://idp.example"}, "CASEFILE_OIDC_ISSUER: "},
		{map[string]string{"CASEFILE_SESSION_IDLE": "11h"}, "CASEFILE_SESSION_IDLE: "},
	} {
		_, err := loadConfig(func(k string) string { return c.env[k] })
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want %s...", c.env, err, c.want)
		}
	}
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"CASEFILE_OIDC_ISSUER": "http://localhost:9998/", "CASEFILE_OIDC_CLIENT_ID": "web",
			"CASEFILE_OIDC_CLIENT_SECRET": "secret", "CASEFILE_OIDC_ROLE_MAP": "Casefile.Practitioner=practitioner, Casefile.Admin=admin"}[k]
	})
	if err != nil || cfg.OIDCRoleMap["Casefile.Admin"] != "admin" || cfg.OIDCRolesClaim != "roles" || cfg.SessionIdle != 30*time.Minute ||
		cfg.SessionMax != 10*time.Hour || cfg.PublicURL.String() != "http://127.0.0.1:8080" {
		t.Fatalf("loopback issuer: %+v %v", cfg, err)
	}
}

func TestRedisSentinelsNeedTheMasterName(t *testing.T) {
	env := map[string]string{"CASEFILE_REDIS_SENTINELS": "sentinel-a:26379, sentinel-b:26379"}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil || !strings.HasPrefix(err.Error(), "CASEFILE_REDIS_MASTER: ") {
		t.Fatalf("sentinels without a master name: %v", err)
	}
	env["CASEFILE_REDIS_MASTER"] = "casefile"
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	opt, ok := c.redisOpt().(asynq.RedisFailoverClientOpt)
	if !ok || opt.MasterName != "casefile" || len(opt.SentinelAddrs) != 2 || opt.SentinelAddrs[1] != "sentinel-b:26379" {
		t.Fatalf("redis option with sentinels: %#v", c.redisOpt())
	}
}
