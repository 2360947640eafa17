// Package testenv gives tests the real backing services that `make test`
// starts: a fresh PostgreSQL database per test (cloned from a migrated
// template), a fresh Object-Lock bucket per test, and a Redis queue name of
// its own. A service that is not there fails the test: nothing is skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// AdminURL is the maintenance database the tests create their databases from.
func AdminURL() string {
	return env("CASEFILE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// RedisAddr is the Redis server tests use.
func RedisAddr() string { return env("CASEFILE_TEST_REDIS_ADDR", "127.0.0.1:6379") }

// S3Config returns the test S3 server's settings with a fresh bucket name.
// The bucket, if the test makes it, is removed with everything in it when
// the test ends (DropBucket).
func S3Config(t testing.TB) s3.Config {
	cfg := s3.Config{
		Endpoint:  env("CASEFILE_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		AccessKey: env("CASEFILE_TEST_S3_ACCESS_KEY", "casefile"),
		SecretKey: env("CASEFILE_TEST_S3_SECRET_KEY", "casefile-dev-secret"),
		Bucket:    "t-" + strings.ToLower(RandomName(12)),
		Secure:    false,
	}
	staleOnce.Do(func() { dropStaleBuckets(cfg, "t-", 48*time.Hour, 20) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("test S3 bucket %s kept for a look at what failed", cfg.Bucket)
			return
		}
		if left, err := DropBucket(cfg); err != nil {
			t.Logf("test S3 bucket %s left behind (%v); objects not removed: %q", cfg.Bucket, err, left)
		}
	})
	return cfg
}

var staleOnce sync.Once

// dropStaleBuckets removes up to max buckets named with prefix and made
// more than age ago. Each test process drops up to 20 test buckets over
// two days old (S3Config): those a test left behind because it failed, or
// because they held audit anchors locked in compliance mode (for a day in
// the tests), which no credential can remove earlier. No test runs that
// long, so none is in use.
func dropStaleBuckets(cfg s3.Config, prefix string, age time.Duration, max int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure})
	if err != nil {
		return
	}
	buckets, err := c.ListBuckets(ctx)
	if err != nil {
		return
	}
	dropped := 0
	for _, b := range buckets {
		if dropped == max {
			break
		}
		if strings.HasPrefix(b.Name, prefix) && !b.CreationDate.IsZero() && time.Since(b.CreationDate) > age {
			old := cfg
			old.Bucket = b.Name
			DropBucket(old) //nolint:errcheck // best effort: what stays is tried again by the next test run
			dropped++
		}
	}
}

// DropBucket removes a bucket of the test S3 server with everything in it:
// every version of every object (released from any legal hold, removed with
// governance bypass, which the test credential may do), then the bucket. A
// bucket that is not there is no error. What could not be removed (an
// object under compliance-mode retention, which nobody can shorten) is
// returned, and the bucket then stays.
func DropBucket(cfg s3.Config) (left []string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure})
	if err != nil {
		return nil, err
	}
	if ok, err := c.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		return nil, err
	}
	var versions []minio.ObjectInfo
	for o := range c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		versions = append(versions, o)
	}
	for _, o := range versions {
		opts := minio.RemoveObjectOptions{VersionID: o.VersionID, GovernanceBypass: true}
		if err := c.RemoveObject(ctx, cfg.Bucket, o.Key, opts); err != nil && !o.IsDeleteMarker {
			off := minio.LegalHoldDisabled
			if herr := c.PutObjectLegalHold(ctx, cfg.Bucket, o.Key, minio.PutObjectLegalHoldOptions{VersionID: o.VersionID, Status: &off}); herr != nil {
				left = append(left, fmt.Sprintf("%s (%v)", o.Key, err))
				continue
			}
			if err := c.RemoveObject(ctx, cfg.Bucket, o.Key, opts); err != nil {
				left = append(left, fmt.Sprintf("%s (%v)", o.Key, err))
			}
		}
	}
	return left, c.RemoveBucket(ctx, cfg.Bucket)
}

// S3 opens a store on a fresh Object-Lock bucket.
func S3(t testing.TB) *s3.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s3.Open(ctx, S3Config(t), Logger(t))
	if err != nil {
		t.Fatalf("S3 server (start it with `make services-up`): %v", err)
	}
	return st
}

// Queue returns a Redis queue name of the test's own, so that tests running
// at once in other packages never take each other's tasks.
func Queue(t testing.TB) string { return "test-" + RandomName(10) }

// RandomName returns n random lower-case hex characters.
func RandomName(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}

// Logger writes the service's logs into the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// templateDB returns a migrated template database, built once per schema
// version across every test process (under an advisory lock).
func templateDB() (string, error) {
	templateOnce.Do(func() {
		ms, err := postgres.Migrations()
		if err != nil {
			templateErr = err
			return
		}
		h := sha256.New()
		for _, m := range ms {
			fmt.Fprintf(h, "%s\n%s\n", m.Name, m.SQL)
		}
		name := "casefile_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			templateErr = fmt.Errorf("PostgreSQL for tests at %s (start it with `make services-up`): %w", AdminURL(), err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7070)"); err != nil {
			templateErr = err
			return
		}
		defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7070)") //nolint:errcheck
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			templateErr = err
			return
		}
		if !exists {
			building := name + "_b"
			conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)") //nolint:errcheck
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
				templateErr = err
				return
			}
			db, err := postgres.Open(ctx, withDatabase(AdminURL(), building), nil)
			if err != nil {
				templateErr = err
				return
			}
			_, err = db.Migrate(ctx)
			db.Close()
			if err != nil {
				templateErr = err
				return
			}
			if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
				templateErr = err
				return
			}
		}
		templateName = name
	})
	return templateName, templateErr
}

// withDatabase replaces the database name in a postgres URL.
func withDatabase(url, db string) string {
	base, query, _ := strings.Cut(url, "?")
	i := strings.LastIndex(base, "/")
	out := base[:i+1] + db
	if query != "" {
		out += "?" + query
	}
	return out
}

// DatabaseURL creates a fresh, migrated database for t and drops it after.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	tmpl, err := templateDB()
	if err != nil {
		t.Fatalf("test database template: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("PostgreSQL for tests: %v", err)
	}
	defer conn.Close(ctx)
	name := "casefile_t_" + RandomName(12)
	// CREATE DATABASE ... TEMPLATE fails while another session is connected
	// to the template, which happens only briefly; retry.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
	})
	return withDatabase(AdminURL(), name)
}

// Postgres opens a store on a fresh, migrated database.
func Postgres(t testing.TB) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, DatabaseURL(t), Logger(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// Tamper runs sql as a superuser would to get round casefile's guards: with
// triggers (which refuse changes to the audit log and to case notes) off.
func Tamper(t testing.TB, db *postgres.DB, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "SET session_replication_role = origin") //nolint:errcheck
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("tamper: %v", err)
	}
}
