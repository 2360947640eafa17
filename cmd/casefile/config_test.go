package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		"CASEFILE_REDIS_SENTINELS":    "sentinel-a:26379,sentinel-b",
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
