package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the council's time zone, wherever the binary runs

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
	"github.com/council/casefile/disclosure"
	"github.com/council/casefile/extract"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/web"
)

// config is every setting, read from the environment once, in cmd only.
type config struct {
	HTTPAddr    string
	DatabaseURL string
	RedisAddr   string
	RedisDB     int
	// RedisSentinels, when set, are Redis Sentinel addresses to ask for the
	// master named RedisMaster (CASEFILE_REDIS_ADDR is then unused).
	RedisSentinels    []string
	RedisMaster       string
	S3Endpoint        string
	S3AccessKey       string
	S3SecretKey       string
	S3Bucket          string
	S3Secure          bool
	S3Region          string
	MaxUploadBytes    int64
	RetentionCron     string
	ReconcileCron     string
	RetentionSchedule string
	// Disposal approval (docs/retention.md).
	DisposalApproval  string // required (default) or automatic
	DisposalApprovers int
	SettleDays        int
	ScheduleConfirm   string // the sha256 of a changed schedule a person has checked
	WorkerQueue       string
	WorkerConcurrency int
	LogLevel          string
	PprofAddr         string // empty: no profiling listener
	ExportKeepDays    int    // 0: bundles are kept until their record is destroyed
	LateNoteDays      int    // a note recorded more than this many days after it happened is late (reports)
	PDFFontDir        string // where DejaVu Sans is; without it the PDF chronology is Latin-1 only
	CouncilName       string // shown on every page
	CouncilColour     string // the pages' header colour, #rrggbb
	Timezone          *time.Location
	Phase             string // a phase banner on the pages ("beta"), or none
	SpoolDir          string // large emails spooled for parsing (unlinked at once); cleaned at start
	BackupNote        string // the operator's statement of how long backups and archived WAL keep content (on certificates)
	Extract           extract.Limits
	// Disclosures (docs/disclosure.md): the reasons a reviewer may give, and
	// whether a second person approves before a bundle is built.
	DisclosureReasons   []disclosure.Reason
	DisclosureApprovers int

	// Audit anchors (package anchor): locked in compliance mode unless
	// governance is chosen, written with their own credential when one is set.
	AnchorLockMode    string
	AnchorLock        time.Duration // how long each anchor is locked
	AnchorS3AccessKey string
	AnchorS3SecretKey string

	// The records credential destroys objects, bypassing governance, and
	// places and lifts legal holds (the workers' work); empty: the app's
	// credential does it too (CASEFILE_S3_RECORDS_ACCESS_KEY).
	S3RecordsAccessKey string
	S3RecordsSecretKey string

	// MigrateDatabaseURL is the owner's URL that migrations run as (and
	// that creates the application role of DatabaseURL when they differ).
	MigrateDatabaseURL string

	// ExportSigningKeyFile is a PEM Ed25519 private key that signs bundles'
	// manifests; empty: a key casefile generates and keeps in the database.
	ExportSigningKeyFile string
	AdoptionTeam         string // a team's name or id: recording an adoption involvement restricts the record to it

	// Sign-in (#11).
	PublicURL        *url.URL // where browsers reach casefile; the callback is {PublicURL}/auth/callback
	OIDCIssuer       string   // empty: single sign-on off, the sign-in form takes an API token
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRolesClaim   string
	OIDCRoleMap      map[string]casefile.Role
	SessionIdle      time.Duration
	SessionMax       time.Duration
	AccessContact    string // whom a user without a role is told to ask
	BodyIdleSeconds  int    // a request body that sends nothing for this long is cut
}

// configError names the variable that is wrong, so that start-up fails with
// one line a person can act on.
type configError struct{ name, msg string }

func (e *configError) Error() string { return e.name + ": " + e.msg }

func loadConfig(getenv func(string) string) (*config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &config{
		HTTPAddr:          get("CASEFILE_HTTP_ADDR", "127.0.0.1:8080"),
		DatabaseURL:       get("CASEFILE_DATABASE_URL", defaultAppDatabaseURL),
		RedisAddr:         get("CASEFILE_REDIS_ADDR", "127.0.0.1:6379"),
		S3Endpoint:        get("CASEFILE_S3_ENDPOINT", "127.0.0.1:9000"),
		S3AccessKey:       get("CASEFILE_S3_ACCESS_KEY", "casefile"),
		S3SecretKey:       get("CASEFILE_S3_SECRET_KEY", "casefile-dev-secret"),
		S3Bucket:          get("CASEFILE_S3_BUCKET", "casefile"),
		S3Region:          get("CASEFILE_S3_REGION", "us-east-1"),
		RetentionCron:     get("CASEFILE_RETENTION_CRON", "0 2 * * *"),
		ReconcileCron:     get("CASEFILE_RECONCILE_CRON", "*/15 * * * *"),
		RetentionSchedule: get("CASEFILE_RETENTION_SCHEDULE", ""),
		WorkerQueue:       get("CASEFILE_WORKER_QUEUE", "casefile"),
		LogLevel:          get("CASEFILE_LOG_LEVEL", "info"),
		PprofAddr:         get("CASEFILE_PPROF_ADDR", ""),
		PDFFontDir:        get("CASEFILE_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"),
		CouncilName:       get("CASEFILE_COUNCIL_NAME", "Children's Services"),
		CouncilColour:     get("CASEFILE_COUNCIL_COLOUR", "#0b0c0c"),
		Phase:             get("CASEFILE_PHASE", ""),
		SpoolDir:          get("CASEFILE_SPOOL_DIR", ingest.DefaultSpoolDir()),
		BackupNote:        get("CASEFILE_BACKUP_NOTE", ""),
		AdoptionTeam:      get("CASEFILE_ADOPTION_TEAM", ""),
	}
	if !web.ValidColour(c.CouncilColour) {
		return nil, &configError{"CASEFILE_COUNCIL_COLOUR", fmt.Sprintf("must be a colour like #1d70b8, got %q", c.CouncilColour)}
	}
	tz := get("CASEFILE_TIMEZONE", "Europe/London")
	loc, lerr := time.LoadLocation(tz)
	if lerr != nil {
		return nil, &configError{"CASEFILE_TIMEZONE", fmt.Sprintf("%q is not a time zone (such as Europe/London): %v", tz, lerr)}
	}
	c.Timezone = loc
	var err error
	if err := checkHostPort("CASEFILE_HTTP_ADDR", c.HTTPAddr); err != nil {
		return nil, err
	}
	if c.PprofAddr != "" {
		if err := checkHostPort("CASEFILE_PPROF_ADDR", c.PprofAddr); err != nil {
			return nil, err
		}
	}
	if err := checkHostPort("CASEFILE_REDIS_ADDR", c.RedisAddr); err != nil {
		return nil, err
	}
	if err := checkHostPort("CASEFILE_S3_ENDPOINT", c.S3Endpoint); err != nil {
		return nil, err
	}
	if u, perr := url.Parse(c.DatabaseURL); perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.Trim(u.Path, "/") == "" {
		return nil, &configError{"CASEFILE_DATABASE_URL", fmt.Sprintf("must be a URL like postgres://user@host:5432/dbname, got %q", c.DatabaseURL)}
	}
	if c.RedisDB, err = intSetting(get, "CASEFILE_REDIS_DB", "0", 0, 15); err != nil {
		return nil, err
	}
	if v := get("CASEFILE_REDIS_SENTINELS", ""); v != "" {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if err := checkHostPort("CASEFILE_REDIS_SENTINELS", a); err != nil {
				return nil, err
			}
			c.RedisSentinels = append(c.RedisSentinels, a)
		}
		if c.RedisMaster = get("CASEFILE_REDIS_MASTER", ""); c.RedisMaster == "" {
			return nil, &configError{"CASEFILE_REDIS_MASTER", "with CASEFILE_REDIS_SENTINELS, name the master the sentinels watch (e.g. mymaster)"}
		}
	}
	if c.LateNoteDays, err = intSetting(get, "CASEFILE_LATE_NOTE_DAYS", "2", 1, 365); err != nil {
		return nil, err
	}
	if c.ExportKeepDays, err = intSetting(get, "CASEFILE_EXPORT_KEEP_DAYS", "30", 0, 36500); err != nil {
		return nil, err
	}
	if c.DisclosureReasons, err = disclosure.ParseReasons(get("CASEFILE_DISCLOSURE_REASONS", disclosure.DefaultReasons)); err != nil {
		return nil, &configError{"CASEFILE_DISCLOSURE_REASONS", "a comma-separated list of reasons (" + err.Error() + ")"}
	}
	if c.DisclosureApprovers, err = intSetting(get, "CASEFILE_DISCLOSURE_APPROVERS", "1", 1, 2); err != nil {
		return nil, err
	}
	if c.Extract, err = extractLimits(get); err != nil {
		return nil, err
	}
	c.DisposalApproval = strings.ToLower(get("CASEFILE_DISPOSAL_APPROVAL", casefile.ApprovalRequired))
	if c.DisposalApproval != casefile.ApprovalRequired && c.DisposalApproval != casefile.ApprovalAutomatic {
		return nil, &configError{"CASEFILE_DISPOSAL_APPROVAL", fmt.Sprintf("must be required (a records officer approves every disposal list) or automatic (a person's request is their approval), got %q", getenv("CASEFILE_DISPOSAL_APPROVAL"))}
	}
	if c.DisposalApprovers, err = intSetting(get, "CASEFILE_DISPOSAL_APPROVERS", "1", 1, 5); err != nil {
		return nil, err
	}
	if c.SettleDays, err = intSetting(get, "CASEFILE_RETENTION_SETTLE_DAYS", "30", 0, 3650); err != nil {
		return nil, err
	}
	c.ScheduleConfirm = strings.ToLower(get("CASEFILE_RETENTION_SCHEDULE_CONFIRM", ""))
	if c.ScheduleConfirm != "" && !sha256Hex(c.ScheduleConfirm) {
		return nil, &configError{"CASEFILE_RETENTION_SCHEDULE_CONFIRM", fmt.Sprintf("must be the 64-hex-digit sha256 of the schedule file casefile printed when it refused it, got %q", c.ScheduleConfirm)}
	}
	if c.WorkerConcurrency, err = intSetting(get, "CASEFILE_WORKER_CONCURRENCY", "4", 1, 256); err != nil {
		return nil, err
	}
	if c.BodyIdleSeconds, err = intSetting(get, "CASEFILE_HTTP_BODY_IDLE_SECONDS", "60", 1, 3600); err != nil {
		return nil, err
	}
	max, err := intSetting(get, "CASEFILE_MAX_UPLOAD_BYTES", "1073741824", 1, 1<<40)
	if err != nil {
		return nil, err
	}
	c.MaxUploadBytes = int64(max)
	switch strings.ToLower(get("CASEFILE_S3_SECURE", "false")) {
	case "true", "1", "yes":
		c.S3Secure = true
	case "false", "0", "no":
	default:
		return nil, &configError{"CASEFILE_S3_SECURE", fmt.Sprintf("must be true or false, got %q", getenv("CASEFILE_S3_SECURE"))}
	}
	if c.S3AccessKey == "" || c.S3SecretKey == "" {
		return nil, &configError{"CASEFILE_S3_ACCESS_KEY", "the S3 access key and secret key must both be set"}
	}
	if !validBucket(c.S3Bucket) {
		return nil, &configError{"CASEFILE_S3_BUCKET", fmt.Sprintf("%q is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)", c.S3Bucket)}
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for name, spec := range map[string]string{"CASEFILE_RETENTION_CRON": c.RetentionCron, "CASEFILE_RECONCILE_CRON": c.ReconcileCron} {
		if spec == "off" {
			continue
		}
		if _, err := parser.Parse(spec); err != nil {
			return nil, &configError{name, fmt.Sprintf("%q is not a cron expression (minute hour day month weekday, e.g. \"0 2 * * *\"): %v", spec, err)}
		}
	}
	if c.RetentionSchedule != "" {
		if _, err := loadSchedule(c); err != nil {
			return nil, err
		}
	}
	if err := loadSignIn(c, get); err != nil {
		return nil, err
	}
	if err := c.loadTrust(get); err != nil {
		return nil, err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, &configError{"CASEFILE_LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error, got %q", c.LogLevel)}
	}
	return c, nil
}

func intSetting(get func(string, string) string, name, def string, lo, hi int) (int, error) {
	v := get(name, def)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &configError{name, fmt.Sprintf("must be a whole number from %d to %d, got %q", lo, hi, v)}
	}
	return n, nil
}

func sha256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// disposal is the disposal approval configuration.
func (c *config) disposal() casefile.DisposalSettings {
	d := casefile.DefaultDisposal()
	d.Approval, d.Approvers, d.SettleDays = c.DisposalApproval, c.DisposalApprovers, c.SettleDays
	return d
}

func checkHostPort(name, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return &configError{name, fmt.Sprintf("must be host:port, got %q", v)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &configError{name, fmt.Sprintf("has a bad port in %q", v)}
	}
	_ = host
	return nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return b[0] != '-' && b[0] != '.' && b[len(b)-1] != '-' && b[len(b)-1] != '.'
}

// s3Config is the object store's configuration.
func (c *config) s3Config() s3.Config {
	return s3.Config{Endpoint: c.S3Endpoint, AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
		Bucket: c.S3Bucket, Secure: c.S3Secure, Region: c.S3Region}
}

// loadSignIn reads the sign-in settings: the public URL, the OpenID Connect
// provider (all of issuer, client id and secret, or none), the role claim
// and map, and the session timeouts.
func loadSignIn(c *config, get func(string, string) string) error {
	raw := get("CASEFILE_PUBLIC_URL", "http://127.0.0.1:8080")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return &configError{"CASEFILE_PUBLIC_URL", fmt.Sprintf("must be where browsers reach casefile, like https://casefile.example.gov.uk (no path), got %q", raw)}
	}
	u.Path = ""
	c.PublicURL = u
	c.OIDCIssuer = get("CASEFILE_OIDC_ISSUER", "")
	c.OIDCClientID = get("CASEFILE_OIDC_CLIENT_ID", "")
	c.OIDCClientSecret = get("CASEFILE_OIDC_CLIENT_SECRET", "")
	c.OIDCRolesClaim = get("CASEFILE_OIDC_ROLES_CLAIM", "roles")
	c.AccessContact = get("CASEFILE_ACCESS_CONTACT", "")
	if c.OIDCIssuer != "" {
		iu, err := url.Parse(c.OIDCIssuer)
		if err != nil || iu.Host == "" || (iu.Scheme != "https" && !(iu.Scheme == "http" && loopback(iu.Hostname()))) {
			return &configError{"CASEFILE_OIDC_ISSUER", fmt.Sprintf("must be the provider's https issuer URL, e.g. https://login.microsoftonline.com/{tenant-id}/v2.0, got %q", c.OIDCIssuer)}
		}
		if strings.EqualFold(iu.Host, "login.microsoftonline.com") {
			switch strings.ToLower(strings.Trim(strings.Split(strings.Trim(iu.Path, "/"), "/")[0], "/")) {
			case "common", "organizations", "consumers":
				return &configError{"CASEFILE_OIDC_ISSUER", fmt.Sprintf("%q is Entra ID's multi-tenant endpoint, whose ID tokens name each tenant as issuer and fail the issuer check: use https://login.microsoftonline.com/{your tenant id}/v2.0", c.OIDCIssuer)}
			}
		}
		if c.OIDCClientID == "" {
			return &configError{"CASEFILE_OIDC_CLIENT_ID", "must be set when CASEFILE_OIDC_ISSUER is (the application (client) id registered at the provider)"}
		}
		if c.OIDCClientSecret == "" {
			return &configError{"CASEFILE_OIDC_CLIENT_SECRET", "must be set when CASEFILE_OIDC_ISSUER is (a client secret of the registered application)"}
		}
	}
	if c.OIDCRoleMap, err = auth.ParseRoleMap(get("CASEFILE_OIDC_ROLE_MAP", "")); err != nil {
		return &configError{"CASEFILE_OIDC_ROLE_MAP", err.Error()}
	}
	if c.SessionIdle, err = durationSetting(get, "CASEFILE_SESSION_IDLE", "30m", time.Minute, 24*time.Hour); err != nil {
		return err
	}
	if c.SessionMax, err = durationSetting(get, "CASEFILE_SESSION_MAX", "10h", time.Minute, 7*24*time.Hour); err != nil {
		return err
	}
	if c.SessionIdle > c.SessionMax {
		return &configError{"CASEFILE_SESSION_IDLE", fmt.Sprintf("%s is longer than CASEFILE_SESSION_MAX (%s)", c.SessionIdle, c.SessionMax)}
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func durationSetting(get func(string, string) string, name, def string, lo, hi time.Duration) (time.Duration, error) {
	v := get(name, def)
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, &configError{name, fmt.Sprintf("must be a duration from %s to %s, like 30m or 10h, got %q", lo, hi, v)}
	}
	return d, nil
}

// redisOpt is how the workers and the queue reach Redis: one server, or the
// master that Redis Sentinel names (which follows a failover).
func (c *config) redisOpt() asynq.RedisConnOpt {
	if len(c.RedisSentinels) > 0 {
		return asynq.RedisFailoverClientOpt{MasterName: c.RedisMaster, SentinelAddrs: c.RedisSentinels, DB: c.RedisDB,
			DialTimeout: 3 * time.Second}
	}
	return asynq.RedisClientOpt{Addr: c.RedisAddr, DB: c.RedisDB, DialTimeout: 3 * time.Second}
}
