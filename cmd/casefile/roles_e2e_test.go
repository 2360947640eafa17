package main

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile/internal/testenv"
)

// The service runs as a role that owns nothing, made by the migration step
// (run as the owner): it serves, but cannot change or delete audit events,
// switch off the append-only triggers, alter or drop a table, or act as a
// replica to slip past triggers.
func TestTheServiceRoleCannotRewriteTheAuditLog(t *testing.T) {
	owner := testenv.DatabaseURL(t)
	role := "casefile_app_" + testenv.RandomName(8)
	u, err := url.Parse(owner)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "a-test-password")
	app := u.String()
	t.Cleanup(func() {
		// The role's grants in the test database go with DROP OWNED; the
		// role itself then goes (the database is dropped after).
		ctx := context.Background()
		if c, err := pgx.Connect(ctx, owner); err == nil {
			c.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{role}.Sanitize())       //nolint:errcheck
			c.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize()) //nolint:errcheck
			c.Close(ctx)
		}
	})
	s := startService(t, map[string]string{"CASEFILE_DATABASE_URL": app, "CASEFILE_MIGRATE_DATABASE_URL": owner})
	id := s.person("ROLE-1", "2016-06-06")
	if v := s.must(200, "GET", "/v1/audit/verify", s.token("auditor"), nil); v["ok"] != true {
		t.Fatalf("audit verify as the application role: %v", v)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var user string
	var super bool
	if err := conn.QueryRow(ctx, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&user, &super); err != nil || user != role || super {
		t.Fatalf("connected as %s (superuser %v): %v", user, super, err)
	}
	for _, q := range []string{
		"UPDATE audit_events SET actor = 'someone else' WHERE person_id = '" + id + "'",
		"DELETE FROM audit_events WHERE person_id = '" + id + "'",
		"TRUNCATE audit_events",
		"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
		"ALTER TABLE audit_events DISABLE TRIGGER ALL",
		"DROP TRIGGER audit_events_no_update ON audit_events",
		"ALTER TABLE audit_events ADD COLUMN x int",
		"DROP TABLE audit_events",
		"DROP TABLE notes",
		"SET session_replication_role = replica",
		"CREATE TABLE mine (x int)",
		"UPDATE schema_migrations SET name = 'x'",
		"ALTER ROLE " + pgx.Identifier{role}.Sanitize() + " SUPERUSER",
	} {
		_, err := conn.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the application role: %v, want permission denied (42501)", q, err)
		}
	}
	// Reading and appending still work, as the service needs.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE person_id = $1", id).Scan(&n); err != nil || n == 0 {
		t.Fatalf("reading the audit log as the application role: %d, %v", n, err)
	}
	out, err := s.cli("migrate")
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate again: %v %s", err, out)
	}
	// With the application role's URL alone (as the API container has it),
	// commands that migrate find nothing to do rather than failing.
	appOnly := func(k string) string {
		if k == "CASEFILE_MIGRATE_DATABASE_URL" {
			return ""
		}
		return s.env[k]
	}
	var tout, terr strings.Builder
	if err := run(ctx, []string{"token", "create", "--name", "ops", "--role", "auditor"}, appOnly, &tout, &terr); err != nil {
		t.Fatalf("token create as the application role: %v %s %s", err, tout.String(), terr.String())
	}

	// A removal as the application role leaves the vacuum to the owner:
	// `casefile maintain` does it.
	prac, ict := s.token("practitioner"), s.token("ict")
	note := s.must(201, "POST", "/v1/persons/"+id+"/notes", prac, map[string]any{"type": "contact",
		"occurred_at": "2026-03-02T10:00:00Z", "body": "Spoke to the school about the visit."})
	tk := s.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "note", "target_id": note["id"],
		"reason": "wrong child"})
	s.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	if st := s.waitTicket(t, ict, tk["id"].(string)); st["state"] != "done" {
		t.Fatalf("removal: %v", st)
	}
	if out, err := s.cli("maintain"); err != nil || !strings.Contains(out, "purged") || !strings.Contains(out, "note_versions") {
		t.Fatalf("maintain as the owner: %v %s", err, out)
	}
	if out, err := s.cli("maintain"); err != nil || !strings.Contains(out, "nothing to purge") {
		t.Fatalf("maintain again: %v %s", err, out)
	}
	var mout, merr strings.Builder
	if err := run(ctx, []string{"maintain"}, func(k string) string {
		if k == "CASEFILE_MIGRATE_DATABASE_URL" {
			return app
		}
		return s.env[k]
	}, &mout, &merr); err == nil && strings.Contains(mout.String(), "purged") {
		t.Fatalf("maintain as the application role purged: %s", mout.String())
	}
}
