// Package postgres implements casefile's services on PostgreSQL with pgx.
//
// Every change and every read of a person's record appends an audit event in
// the same transaction, so the record and its trail cannot disagree.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/council/casefile"
)

// DB is the PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	// Uploads are recorded by group commit (CreateDocument).
	uploads   chan *upload
	committer sync.Once
	// Reads' audit events are kept by group commit too (readTx).
	reads         chan *readAudit
	readCommitter sync.Once
	closing       chan struct{}
	closeOnce     sync.Once

	policy   casefile.RetentionPolicy
	disposal casefile.DisposalSettings

	// adoptionTeam names the team (by name or id) that a record is
	// restricted to when an adoption involvement is recorded; empty: none.
	adoptionTeam string

	// residual is the operator's statement of how long backups keep
	// content, written on destruction certificates.
	residual string

	// tokens keeps the API tokens looked up lately (tokens_cache.go).
	tokens tokenCache

	// trips counts the round trips to PostgreSQL (RoundTrips).
	trips *roundTrips
}

// Open connects to the database named by url, creating it when missing.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 16
	}
	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerUUIDCodec(conn)
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DB{pool: pool, log: log, now: time.Now, uploads: make(chan *upload), reads: make(chan *readAudit), closing: make(chan struct{}),
		disposal: casefile.DefaultDisposal(), trips: trips}, nil
}

// ensureDatabase creates the configured database if it does not exist, by
// connecting to the maintenance database "postgres" on the same server.
func ensureDatabase(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cc.Host, cc.Port, err)
	}
	admin := cc.Copy()
	admin.Database = "postgres"
	aconn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL to create database %q: %w", cc.Database, err)
	}
	defer aconn.Close(ctx)
	_, err = aconn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cc.Database}.Sanitize())
	if err != nil {
		// 42P04 duplicate_database, 23505: another process created it first.
		if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
			return nil
		}
		return fmt.Errorf("create database %q: %w", cc.Database, err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() {
	db.closeOnce.Do(func() { close(db.closing) })
	db.pool.Close()
}

// Pool exposes the pool to tests and to other storage code of ours.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that PostgreSQL answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return mapError(err)
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.inTxWith(ctx, &chainTx{chain: -1}, fn)
}

// inTxWith is inTx with the chainTx that fn is given (its Tx is set here).
// An access check the context carries is made first (checkInTx).
func (db *DB) inTxWith(ctx context.Context, ct *chainTx, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // rollback after commit is a no-op
	ct.Tx = tx
	if refused, err := db.checkInTx(ctx, tx); err != nil {
		if refused != "" {
			tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
			return db.denied(ctx, refused, nil)
		}
		return mapError(err)
	}
	if err := fn(ct); err != nil {
		return mapError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		// An answer from the server means the transaction did not commit.
		// Anything else leaves it unknown: the connection may have been lost
		// after COMMIT was sent (pgconn's SafeToRetry cannot tell: a socket
		// that fails while the commit is written reads back as "conn
		// closed", which it calls safe).
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			err = fmt.Errorf("%w: %w", casefile.ErrOutcomeUnknown, err)
		}
		return mapError(err)
	}
	return nil
}

// mapError turns driver errors into casefile errors at the boundary: missing
// rows are not_found, unique violations conflicts, lost connections
// unavailable. Errors that are already ours pass through.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var ce *casefile.Error
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return casefile.Unavailable("PostgreSQL", err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &casefile.Error{Kind: casefile.ENotFound, Code: "not_found", Message: "Not found.", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return &casefile.Error{Kind: casefile.EConflict, Code: "conflict", Message: "That conflicts with an existing record.", Err: err}
		case pgErr.Code == "23503":
			return &casefile.Error{Kind: casefile.ENotFound, Code: "not_found", Message: "A record it refers to does not exist.", Err: err}
		case pgErr.Code == "22021" || pgErr.Code == "22P05":
			return &casefile.Error{Kind: casefile.EInvalid, Code: "invalid_text", Message: "Text must be valid UTF-8 without NUL characters.", Err: err}
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "53"),
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			return casefile.Unavailable("PostgreSQL", err)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) || isClosedConn(err) {
		return casefile.Unavailable("PostgreSQL", err)
	}
	return err
}

func isClosedConn(err error) bool {
	s := err.Error()
	return strings.Contains(s, "conn closed") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "failed to connect") ||
		strings.Contains(s, "connection refused")
}

func notFound(what string) error {
	return casefile.Errorf(casefile.ENotFound, "not_found", "%s not found.", what)
}

// SetClock replaces the clock that dates audit events and audit checks (for
// tests that need events in other weeks; the database's own defaults, such
// as a note's recorded_at, keep the server's clock).
func (db *DB) SetClock(now func() time.Time) { db.now = now }
