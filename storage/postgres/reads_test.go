package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// A read that forces generic plans (genericPlans) sets plan_cache_mode inside
// its batch: the connection must go back to the pool as it was, whether the
// batch ran through or failed half way (a batch is one implicit transaction,
// so a failure takes the SET back).
func TestGenericPlansLeaveTheConnectionAsItWas(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mode := func() string {
		var m string
		if err := conn.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var b pgx.Batch
	b.Queue("SET plan_cache_mode = force_generic_plan")
	b.Queue("SELECT 1 / (SELECT count(*) FROM persons)::int") // no persons: division by zero
	b.Queue("RESET plan_cache_mode")
	if err := conn.SendBatch(ctx, &b).Close(); err == nil {
		t.Fatal("the batch did not fail")
	}
	m := mode()
	conn.Release()
	if m != "auto" {
		t.Fatalf("after a failed batch plan_cache_mode = %s", m)
	}

	// And after reads of a record's notes, on every connection of the pool.
	p := &casefile.Person{ExternalRef: "GEN-1", GivenName: "Ada", FamilyName: "Lovelace"}
	if err := db.CreatePerson(actorCtx(), p); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, _, err := db.Notes(actorCtx(), casefile.NoteFilter{PersonID: p.ID}); err != nil {
			t.Fatal(err)
		}
	}
	conns := db.Pool().AcquireAllIdle(ctx)
	if len(conns) == 0 {
		t.Fatal("no idle connections")
	}
	for _, c := range conns {
		var m string
		if err := c.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&m); err != nil || m != "auto" {
			t.Fatalf("after reads plan_cache_mode = %s, %v", m, err)
		}
		c.Release()
	}
}
