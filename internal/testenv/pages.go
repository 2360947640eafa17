package testenv

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile/storage/postgres"
)

// PagesHolding looks into the pages of each table named, its TOAST table
// and every index of both (with pageinspect, as a superuser), and returns,
// for each needle found, the relations that still hold it: in a row
// version of the table or its TOAST table, live or dead (which no query
// shows), or anywhere in an index page (keys of removed rows). Empty when
// none is found. Bytes in a table page's free space (what VACUUM freed and
// nothing has overwritten yet) are not row versions and are not counted:
// PostgreSQL cannot reach them, and only a rewrite of the table (VACUUM
// FULL) or reuse of the space removes them from the file.
func PagesHolding(t testing.TB, db *postgres.DB, tables []string, needles ...string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, withDatabase(AdminURL(), db.Pool().Config().ConnConfig.Database))
	if err != nil {
		t.Fatalf("connect as superuser: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pageinspect"); err != nil {
		t.Fatalf("pageinspect: %v", err)
	}
	// get_raw_page reads through the buffer cache: what a crash, a copy of
	// the data directory or a base backup taken now would hold.
	rows, err := conn.Query(ctx, `WITH t AS (SELECT c.oid, c.reltoastrelid FROM pg_class c WHERE c.relname = ANY($1) AND c.relkind = 'r'),
		rels AS (SELECT oid FROM t UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0)
		SELECT r.oid::regclass::text, true FROM rels r
		UNION SELECT i.indexrelid::regclass::text, false FROM pg_index i JOIN rels r ON i.indrelid = r.oid`, tables)
	if err != nil {
		t.Fatal(err)
	}
	type relation struct {
		name string
		heap bool
	}
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (relation, error) {
		var x relation
		return x, r.Scan(&x.name, &x.heap)
	})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{}
	for _, r := range rels {
		rel := r.name
		var blocks int64
		if err := conn.QueryRow(ctx, "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int", rel).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for b := int64(0); b < blocks; b++ {
			var page []byte
			q := "SELECT get_raw_page($1, $2::int)"
			if r.heap { // every row version on the page, dead ones too
				q = "SELECT coalesce(string_agg(t_data, ''::bytea), '') FROM heap_page_items(get_raw_page($1, $2::int))"
			}
			if err := conn.QueryRow(ctx, q, rel, b).Scan(&page); err != nil {
				t.Fatalf("page %d of %s: %v", b, rel, err)
			}
			for _, n := range needles {
				if !seen[n] && bytes.Contains(page, []byte(n)) {
					seen[n] = true
					found[n] = append(found[n], rel)
				}
			}
		}
	}
	return found
}
