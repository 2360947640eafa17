package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/council/casefile/internal/testenv"
)

// casefile_addresses (migration 0100) gives what 0065's gave for every
// input, so the search vectors already stored stay right, and PostgreSQL
// inlines it into the documents' generated search column instead of running
// it as a function of its own (planning it again) for each row inserted.
func TestAddressesInlinedAndUnchanged(t *testing.T) {
	ctx := context.Background()
	db := testenv.Postgres(t)
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// 0065's definition, kept here to compare with.
	if _, err := conn.Exec(ctx, `CREATE FUNCTION pg_temp.addresses_0065(email jsonb) RETURNS text LANGUAGE sql IMMUTABLE RETURN
		(SELECT a || ' ' || translate(a, '@', ' ') || ' ' || translate(a, '@._-+', '     ')
		 FROM (SELECT coalesce(email->>'from', '') || ' ' || coalesce((email->'to')::text, '') || ' ' || coalesce((email->'cc')::text, '')) s(a))`); err != nil {
		t.Fatal(err)
	}
	inputs := []string{
		`{"from": "a.b@x-y.org", "to": ["c_d@e.org", "f+g@h.org"], "cc": ["Zoë Ünal <zoe@example.org>"]}`,
		`{"from": "duty.team@example.org"}`,
		`{"to": [], "cc": []}`,
		`{"subject": "no addresses"}`,
		`{"from": null, "to": null}`,
		`{"from": "\"Smith, J\" <j.smith@school.sch.uk>", "to": "not-an-array@example.org"}`,
		`{}`,
	}
	for _, in := range inputs {
		var got, want string
		if err := conn.QueryRow(ctx, `SELECT casefile_addresses($1::jsonb), pg_temp.addresses_0065($1::jsonb)`, in).Scan(&got, &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got != want {
			t.Errorf("casefile_addresses(%s) = %q, 0065's gave %q", in, got, want)
		}
	}
	var same bool
	if err := conn.QueryRow(ctx, `SELECT casefile_addresses(NULL) IS NOT DISTINCT FROM pg_temp.addresses_0065(NULL)`).Scan(&same); err != nil || !same {
		t.Errorf("casefile_addresses(NULL) differs from 0065's (%v)", err)
	}

	var plan strings.Builder
	rows, err := conn.Query(ctx, `EXPLAIN (VERBOSE, COSTS OFF) SELECT casefile_addresses(email) FROM documents`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.String(), "casefile_addresses") || !strings.Contains(plan.String(), "translate") {
		t.Errorf("casefile_addresses is not inlined:\n%s", plan.String())
	}
}
