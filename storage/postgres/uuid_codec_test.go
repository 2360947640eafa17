package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile/internal/testenv"
)

// Ids sent as Go strings reach PostgreSQL as the uuids they name, in binary
// when canonical and as text otherwise (PostgreSQL's own forms, its own
// refusal of what is not a uuid), alone and in arrays.
func TestUUIDStringsAreSentAsUUIDs(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const want = "0190a0c0-0000-7000-8000-00000000abcd"
	for _, in := range []string{want, "0190A0C0-0000-7000-8000-00000000ABCD", "{" + want + "}", "0190a0c000007000800000000000abcd"} {
		var got string
		if err := db.Pool().QueryRow(ctx, "SELECT $1::uuid::text", in).Scan(&got); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
		var arr []string
		if err := db.Pool().QueryRow(ctx, "SELECT $1::uuid[]::text[]", []string{in, want}).Scan(&arr); err != nil || len(arr) != 2 || arr[0] != want || arr[1] != want {
			t.Errorf("[%q]: %q, %v", in, arr, err)
		}
		p := &in
		if err := db.Pool().QueryRow(ctx, "SELECT $1::uuid::text", p).Scan(&got); err != nil || got != want {
			t.Errorf("*%q: %q, %v", in, got, err)
		}
	}
	var pgErr *pgconn.PgError
	for _, in := range []string{"not-a-uuid", "0190a0c0-0000-7000-8000-00000000abcz", ""} {
		var got string
		err := db.Pool().QueryRow(ctx, "SELECT $1::uuid::text", in).Scan(&got)
		if !errors.As(err, &pgErr) || pgErr.Code != "22P02" {
			t.Errorf("%q: %q, %v; want PostgreSQL's invalid_text_representation", in, got, err)
		}
	}
	var null *string
	var got *string
	if err := db.Pool().QueryRow(ctx, "SELECT $1::uuid::text", null).Scan(&got); err != nil || got != nil {
		t.Errorf("nil: %v, %v", got, err)
	}
}
