package postgres_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

// The service's role owns nothing, and on PostgreSQL 15 only a table's
// owner may VACUUM it: after a removal done as that role the old row
// versions of the note's body stay in the heap (the service cannot purge
// them, and records that it could not); `casefile maintain`'s Maintain, as
// the owner, purges them and clears the record.
func TestMaintainAsOwnerPurgesWhatTheAppRoleCannot(t *testing.T) {
	ctx := context.Background()
	owner := testenv.DatabaseURL(t)
	ownerDB, err := postgres.Open(ctx, owner, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ownerDB.Close)
	role := "casefile_app_" + testenv.RandomName(8)
	if err := ownerDB.EnsureAppRole(ctx, role, "a-test-password"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), owner); err == nil {
			c.Exec(context.Background(), "DROP OWNED BY "+pgx.Identifier{role}.Sanitize())       //nolint:errcheck
			c.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize()) //nolint:errcheck
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(owner)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "a-test-password")
	app, err := postgres.Open(ctx, u.String(), testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	if risk, err := app.RoleRisk(ctx); err != nil || risk != "" {
		t.Fatalf("the app role: %q, %v", risk, err)
	}

	const word = "Quetzalcoatlword"
	p := mustPerson(t, app, "M1")
	n := mustNote(t, app, p.ID, "contact", time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), "Pasted: "+word+" said so.")
	removeByTicket(t, app, n.ID, "pasted email")
	tables := []string{"notes", "note_versions"}
	if got := testenv.PagesHolding(t, app, tables, word); len(got[word]) == 0 {
		t.Fatal("the removed body is not on disk after a removal as the app role: this test cannot show the purge")
	}
	var pending int
	if err := ownerDB.Pool().QueryRow(ctx, "SELECT count(*) FROM maintenance_pending WHERE table_name = ANY($1) AND reindex", tables).Scan(&pending); err != nil || pending != 2 {
		t.Fatalf("purges recorded for the owner: %d, %v", pending, err)
	}

	if _, err := app.Maintain(ctx); err == nil {
		t.Fatal("Maintain as the app role: no error, want it to say the owner is needed")
	}
	done, err := ownerDB.Maintain(ctx)
	if err != nil || len(done) < 2 {
		t.Fatalf("Maintain as the owner: %v, %v", done, err)
	}
	if got := testenv.PagesHolding(t, app, tables, word); len(got) > 0 {
		t.Errorf("the removed body is still on disk after maintenance: %v", got)
	}
	if err := ownerDB.Pool().QueryRow(ctx, "SELECT count(*) FROM maintenance_pending").Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("purges still recorded after maintenance: %d, %v", pending, err)
	}
}
