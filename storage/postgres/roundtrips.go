package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// roundTrips counts the requests sent to PostgreSQL that wait for an answer:
// each Query, QueryRow and Exec (BEGIN and COMMIT among them), each batch
// (however many statements it carries), each COPY and each explicit
// Prepare. It is what a request costs the database beyond its statements'
// own work, and what `make bench` prints per read.
type roundTrips struct{ n atomic.Uint64 }

var (
	_ pgx.QueryTracer    = (*roundTrips)(nil)
	_ pgx.BatchTracer    = (*roundTrips)(nil)
	_ pgx.CopyFromTracer = (*roundTrips)(nil)
	_ pgx.PrepareTracer  = (*roundTrips)(nil)
)

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (*roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (r *roundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (*roundTrips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (*roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// RoundTrips is how many requests this process has sent PostgreSQL and
// waited on (see roundTrips), for the metric casefile_postgres_round_trips_total.
func (db *DB) RoundTrips() uint64 { return db.trips.n.Load() }
