package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// appendOnlyTables are the tables the application role may only read and
// append to: the audit log (whose triggers refuse changes, and which a role
// that owns nothing cannot switch off) and the record of migrations.
var appendOnlyTables = []string{"audit_events", "schema_migrations"}

// EnsureAppRole makes role the least-privileged login the service runs as:
// it owns nothing (so it cannot disable the append-only triggers, alter or
// drop a table), is no superuser and cannot make roles or databases; it may
// read and write the tables, but only read and append to the audit log. It
// is created when missing, with password when one is given, and its grants
// are brought up to date (call it after every migration, as the owner).
// It refuses a role that owns anything in the database.
func (db *DB) EnsureAppRole(ctx context.Context, role, password string) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return mapError(err)
	}
	defer conn.Release()
	id := pgx.Identifier{role}.Sanitize()
	attrs := "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return mapError(err)
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE ROLE "+id+" "+attrs)
		var pgErr *pgconn.PgError
		// Another process made it first: carry on.
		if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505")) {
			return fmt.Errorf("create the application role %s (the migration URL's user needs CREATEROLE): %w", role, err)
		}
	}
	if _, err := conn.Exec(ctx, "ALTER ROLE "+id+" "+attrs); err != nil {
		return fmt.Errorf("restrict the application role %s: %w", role, err)
	}
	if password != "" {
		// ALTER ROLE takes no parameters: the password goes as a quoted literal.
		lit := "'" + strings.ReplaceAll(password, "'", "''") + "'"
		if _, err := conn.Exec(ctx, "ALTER ROLE "+id+" PASSWORD "+lit); err != nil {
			return fmt.Errorf("set the application role's password: %w", err)
		}
	}
	var owned int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)`, role).Scan(&owned); err != nil {
		return mapError(err)
	}
	if owned > 0 {
		return fmt.Errorf("the application role %s owns %d tables or sequences, so it could disable the audit log's triggers: "+
			"give them to the migration role (ALTER TABLE ... OWNER TO), or name another role in CASEFILE_DATABASE_URL", role, owned)
	}
	stmts := []string{
		"GRANT CONNECT, TEMPORARY ON DATABASE " + pgx.Identifier{conn.Conn().Config().Database}.Sanitize() + " TO " + id,
		"GRANT USAGE ON SCHEMA public TO " + id,
		"REVOKE CREATE ON SCHEMA public FROM " + id,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + id,
		"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO " + id,
		"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM " + id,
		// Tables the owner makes later, outside a migration, too.
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + id,
		"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO " + id,
	}
	for _, t := range appendOnlyTables {
		stmts = append(stmts, "REVOKE UPDATE, DELETE ON "+pgx.Identifier{t}.Sanitize()+" FROM "+id)
	}
	stmts = append(stmts, "REVOKE INSERT ON schema_migrations FROM "+id)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("grant the application role %s: %s: %w", role, s, err)
		}
	}
	return nil
}

// RoleRisk says what the role the service is connected as could do to the
// records beyond what it needs (a superuser, or the tables' owner, can
// disable the audit log's append-only triggers); "" when nothing.
func (db *DB) RoleRisk(ctx context.Context) (string, error) {
	var user string
	var super bool
	var owned int
	err := db.pool.QueryRow(ctx, `SELECT current_user, r.rolsuper, (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relowner = r.oid) FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &owned)
	if err != nil {
		return "", mapError(err)
	}
	switch {
	case super:
		return fmt.Sprintf("connected as %s, a superuser, who can disable the audit log's append-only triggers and alter any table", user), nil
	case owned > 0:
		return fmt.Sprintf("connected as %s, the owner of %d tables, who can disable the audit log's append-only triggers", user, owned), nil
	}
	return "", nil
}
