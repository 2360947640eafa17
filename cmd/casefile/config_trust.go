package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/council/casefile/export"
)

// Development secrets: the defaults that `make run` and the tests use with
// the services on this machine. Secrets left at their development defaults
// are refused unless the service they reach is on loopback.
const (
	devS3Secret = "casefile-dev-secret"
	devDBPass   = "casefile-dev-password"
)

// loadTrust reads the settings that keep the audit anchors and the
// credentials trustworthy, and refuses development secrets sent off the
// machine.
func (c *config) loadTrust(get func(string, string) string) error {
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
	s3Host, _, _ := net.SplitHostPort(c.S3Endpoint)
	if !onLoopback(s3Host) {
		for name, v := range map[string]string{"CASEFILE_S3_SECRET_KEY": c.S3SecretKey, "CASEFILE_ANCHOR_S3_SECRET_KEY": c.AnchorS3SecretKey} {
			if v == devS3Secret {
				return devSecret(name, "CASEFILE_S3_ENDPOINT", c.S3Endpoint)
			}
		}
	}
	for _, name := range []string{"CASEFILE_DATABASE_URL", "CASEFILE_MIGRATE_DATABASE_URL"} {
		u, err := url.Parse(get(name, ""))
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
