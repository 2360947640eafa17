package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
)

// keptAfter authenticates secret until a lookup costs no round trip (the
// process keeps the token, once its listener listens) and fails the test if
// that never happens.
func keptAfter(t *testing.T, db *postgres.DB, secret string) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		before := db.RoundTrips()
		if _, err := db.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if db.RoundTrips() == before {
			return
		}
	}
	t.Fatal("every lookup of the token still reads the tokens table")
}

// Two processes on one database: each keeps the token it looked up, and a
// revocation made through either is refused by both at once: by the one that
// revoked before RevokeToken returns, by the other when PostgreSQL's
// notification reaches it, within milliseconds.
func TestRevokingAKeptTokenReachesEveryProcess(t *testing.T) {
	url := testenv.DatabaseURL(t)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url, testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	a, b := open(), open()
	tok, secret, err := a.CreateToken(actorCtx(), "kept", casefile.RoleAuditor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret, err := a.CreateToken(actorCtx(), "other", casefile.RoleAuditor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keptAfter(t, a, secret)
	keptAfter(t, b, secret)
	keptAfter(t, b, otherSecret)

	if _, err := a.RevokeToken(actorCtx(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, secret); casefile.ErrorKind(err) != casefile.EUnauthorized {
		t.Fatalf("the revoking process still takes the token: %v", err)
	}
	t0 := time.Now()
	for {
		_, err := b.Authenticate(ctx, secret)
		if casefile.ErrorKind(err) == casefile.EUnauthorized {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(t0) > 2*time.Second {
			t.Fatal("the other process still takes the revoked token 2 s later")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("the other process refused the revoked token %v after the revocation", time.Since(t0).Round(time.Microsecond))
	// The token not revoked is still taken (read again, then kept).
	if got, err := b.Authenticate(ctx, otherSecret); err != nil || got.ID != other.ID {
		t.Fatalf("the other token: %+v %v", got, err)
	}
}

// A kept token is refused the moment it expires, and its use is still
// written once a minute.
func TestAKeptTokenExpiresOnTime(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	db.SetClock(func() time.Time { return time.Unix(0, now.Load()) })
	tok, secret, err := db.CreateToken(actorCtx(), "short", casefile.RoleAuditor, time.Unix(0, now.Load()).Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	keptAfter(t, db, secret)
	used := func() time.Time {
		ts, err := db.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			if x.ID == tok.ID && x.LastUsedAt != nil {
				return *x.LastUsedAt
			}
		}
		t.Fatal("last_used_at not written")
		return time.Time{}
	}
	first := used()
	now.Add(int64(4 * time.Second))
	if _, err := db.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(time.Second))
	if _, err := db.Authenticate(ctx, secret); casefile.ErrorKind(err) != casefile.EUnauthorized {
		t.Fatalf("expired but kept: %v", err)
	}
	if !used().Equal(first) {
		t.Fatal("last_used_at written again within the minute")
	}

	long, longSecret, err := db.CreateToken(actorCtx(), "long", casefile.RoleAuditor, time.Unix(0, now.Load()).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok = long
	keptAfter(t, db, longSecret)
	first = used()
	now.Add(int64(2 * time.Minute))
	if _, err := db.Authenticate(ctx, longSecret); err != nil {
		t.Fatal(err)
	}
	if !used().After(first) {
		t.Fatal("last_used_at not written after two minutes")
	}
}
