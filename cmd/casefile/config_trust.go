package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/council/casefile/export"
	"github.com/council/casefile/storage/postgres"
)

// Development secrets: the defaults that `make run` and the tests use with
// the services on this machine. Secrets left at their development defaults
// are refused unless the service they reach is on loopback.
const (
	devS3Secret = "casefile-dev-secret"
	devDBPass   = "casefile-dev-password"
)

// The local development databases: the service runs as casefile_app, a role
// that owns nothing, and migrations run as postgres, the owner, which makes
// casefile_app (storage/postgres EnsureAppRole).
const (
	defaultAppDatabaseURL   = "postgres://casefile_app:" + devDBPass + "@127.0.0.1:5432/casefile?sslmode=disable"
	defaultOwnerDatabaseURL = "postgres://postgres@127.0.0.1:5432/casefile?sslmode=disable"
)

// loadTrust reads the settings that keep the audit anchors and the
// credentials trustworthy, and refuses development secrets sent off the
// machine.
func (c *config) loadTrust(get func(string, string) string) error {
	// One URL given: it does both, as before there were two.
	migrateDefault := defaultOwnerDatabaseURL
	if get("CASEFILE_DATABASE_URL", "") != "" {
		migrateDefault = c.DatabaseURL
	}
	c.MigrateDatabaseURL = get("CASEFILE_MIGRATE_DATABASE_URL", migrateDefault)
	if u, err := url.Parse(c.MigrateDatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.Trim(u.Path, "/") == "" {
		return &configError{"CASEFILE_MIGRATE_DATABASE_URL", fmt.Sprintf("must be a URL like postgres://owner@host:5432/dbname, got %q", c.MigrateDatabaseURL)}
	}
	c.AnchorLockMode = strings.ToLower(get("CASEFILE_ANCHOR_LOCK_MODE", "compliance"))
	switch c.AnchorLockMode {
	case "compliance", "governance":
	default:
		return &configError{"CASEFILE_ANCHOR_LOCK_MODE", fmt.Sprintf("must be compliance or governance, got %q", c.AnchorLockMode)}
	}
	days, err := intSetting(get, "CASEFILE_ANCHOR_LOCK_DAYS", "3650", 1, 36500)
	if err != nil {
		return err
	}
	c.AnchorLock = time.Duration(days) * 24 * time.Hour
	c.AnchorS3AccessKey = get("CASEFILE_ANCHOR_S3_ACCESS_KEY", "")
	c.AnchorS3SecretKey = get("CASEFILE_ANCHOR_S3_SECRET_KEY", "")
	if (c.AnchorS3AccessKey == "") != (c.AnchorS3SecretKey == "") {
		return &configError{"CASEFILE_ANCHOR_S3_ACCESS_KEY", "the anchor credential needs both CASEFILE_ANCHOR_S3_ACCESS_KEY and CASEFILE_ANCHOR_S3_SECRET_KEY, or neither"}
	}
	if c.ExportSigningKeyFile = get("CASEFILE_EXPORT_SIGNING_KEY", ""); c.ExportSigningKeyFile != "" {
		if _, err := export.ReadPrivateKey(c.ExportSigningKeyFile); err != nil {
			return &configError{"CASEFILE_EXPORT_SIGNING_KEY", err.Error()}
		}
	}
	c.S3RecordsAccessKey = get("CASEFILE_S3_RECORDS_ACCESS_KEY", "")
	c.S3RecordsSecretKey = get("CASEFILE_S3_RECORDS_SECRET_KEY", "")
	if (c.S3RecordsAccessKey == "") != (c.S3RecordsSecretKey == "") {
		return &configError{"CASEFILE_S3_RECORDS_ACCESS_KEY", "the records credential needs both CASEFILE_S3_RECORDS_ACCESS_KEY and CASEFILE_S3_RECORDS_SECRET_KEY, or neither"}
	}
	s3Host, _, _ := net.SplitHostPort(c.S3Endpoint)
	if !onLoopback(s3Host) {
		for _, v := range [][2]string{{"CASEFILE_S3_SECRET_KEY", c.S3SecretKey}, {"CASEFILE_S3_RECORDS_SECRET_KEY", c.S3RecordsSecretKey},
			{"CASEFILE_ANCHOR_S3_SECRET_KEY", c.AnchorS3SecretKey}} {
			if v[1] == devS3Secret {
				return devSecret(v[0], "CASEFILE_S3_ENDPOINT", c.S3Endpoint)
			}
		}
	}
	for _, nv := range [][2]string{{"CASEFILE_DATABASE_URL", c.DatabaseURL}, {"CASEFILE_MIGRATE_DATABASE_URL", c.MigrateDatabaseURL}} {
		name := nv[0]
		u, err := url.Parse(nv[1])
		if err != nil || u.User == nil {
			continue
		}
		if pw, _ := u.User.Password(); pw == devDBPass && !dbOnLoopback(u) {
			return devSecret(name, name, u.Host)
		}
	}
	return nil
}

func devSecret(name, where, host string) error {
	return &configError{name, fmt.Sprintf("holds the development default secret, and %s (%s) is not on loopback: "+
		"secrets left at their development defaults are refused unless the service they reach is on loopback; set your own (docs/setup.md)", where, host)}
}

// dbOnLoopback reports whether every host of a PostgreSQL URL is this
// machine (a Unix socket, or a loopback address).
func dbOnLoopback(u *url.URL) bool {
	if h := u.Query().Get("host"); h != "" && !strings.HasPrefix(h, "/") && !onLoopback(h) {
		return false
	}
	for _, hp := range strings.Split(u.Host, ",") {
		h := hp
		if host, _, err := net.SplitHostPort(hp); err == nil {
			h = host
		}
		if !onLoopback(strings.Trim(h, "[]")) {
			return false
		}
	}
	return true
}

// onLoopback reports whether host is this machine, without asking DNS:
// "localhost", a loopback address, or empty (a local socket).
func onLoopback(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// appRole returns the user and password of CASEFILE_DATABASE_URL when it is
// a different user from CASEFILE_MIGRATE_DATABASE_URL's: the application
// role that migrations make and grant. "" when one user does both.
func (c *config) appRole() (user, password string) {
	app, err1 := url.Parse(c.DatabaseURL)
	owner, err2 := url.Parse(c.MigrateDatabaseURL)
	if err1 != nil || err2 != nil || app.User == nil || app.User.Username() == "" {
		return "", ""
	}
	if owner.User != nil && owner.User.Username() == app.User.Username() {
		return "", ""
	}
	pw, _ := app.User.Password()
	return app.User.Username(), pw
}

// migrateDB applies the migrations as the owner (CASEFILE_MIGRATE_DATABASE_URL)
// and, when the service runs as another user, makes that user the
// least-privileged application role.
func migrateDB(ctx context.Context, cfg *config, log *slog.Logger) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := postgres.Open(cctx, cfg.MigrateDatabaseURL, log)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_MIGRATE_DATABASE_URL: %w", err)
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return applied, err
	}
	if role, password := cfg.appRole(); role != "" {
		if err := db.EnsureAppRole(ctx, role, password); err != nil {
			return applied, fmt.Errorf("CASEFILE_DATABASE_URL: %w", err)
		}
	}
	return applied, nil
}
