package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// API tokens are looked up on every request. So that a client's requests do
// not each read the tokens table, a process keeps the tokens it has looked
// up for a few seconds. A revocation still takes effect at once everywhere:
// RevokeToken notifies tokensChannel in its transaction, and every process
// listens on it and forgets every token it keeps when told; the revoking
// process forgets them before RevokeToken returns. While a process is not
// listening (its listener's connection is lost or not yet made), it keeps
// nothing and every request reads the table, as before. What is kept is only
// what the table says; expiry is checked on every use.

// tokensChannel is the channel of PostgreSQL's NOTIFY that revocations send.
const tokensChannel = "casefile_tokens"

// tokenCacheTTL bounds how long a token is kept without a notification: the
// limit of a change made to the tokens table by hand (not through
// RevokeToken), which sends none.
const tokenCacheTTL = 10 * time.Second

// tokenCacheMax bounds the tokens kept; when full, all are forgotten.
const tokenCacheMax = 10000

type cachedToken struct {
	actor   casefile.Actor
	expires time.Time
	used    time.Time // last_used_at as last written
	fetched time.Time
}

type tokenCache struct {
	mu sync.Mutex
	// live says the listener is listening; nothing is kept otherwise.
	live bool
	// gen counts the times everything was forgotten: a lookup that began
	// under an earlier gen keeps nothing, as a revocation may have come
	// between its read and its keeping.
	gen    uint64
	tokens map[[32]byte]*cachedToken
	start  sync.Once
}

// get returns a copy of the token kept under key, if any is fresh, and the
// generation to keep a new lookup under.
func (c *tokenCache) get(key [32]byte, now time.Time) (cachedToken, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[key]
	if !ok || !c.live || now.Sub(t.fetched) >= tokenCacheTTL || now.Before(t.fetched) {
		return cachedToken{}, false, c.gen
	}
	return *t, true, c.gen
}

// put keeps t under key unless everything was forgotten since gen was read.
func (c *tokenCache) put(key [32]byte, t cachedToken, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if c.tokens == nil || len(c.tokens) >= tokenCacheMax {
		c.tokens = map[[32]byte]*cachedToken{}
	}
	c.tokens[key] = &t
}

// touched notes that last_used_at of the token kept under key was written.
func (c *tokenCache) touched(key [32]byte, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[key]; ok {
		t.used = at
	}
}

// listening says whether the listener listens.
func (c *tokenCache) listening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// forget forgets every token kept, and sets whether the listener listens.
func (c *tokenCache) forget(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.tokens = nil
	c.live = live
}

// listenTokens listens on tokensChannel until the database is closed,
// forgetting every token kept on each notification and whenever it is not
// listening.
func (db *DB) listenTokens() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-db.closing
		cancel()
	}()
	for ctx.Err() == nil {
		err := db.listenTokensOnce(ctx)
		db.tokens.forget(false)
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("postgres: not listening for token revocations; tokens are read on every request until it listens again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listenTokensOnce(ctx context.Context) error {
	cc := db.pool.Config().ConnConfig.Copy()
	cc.Tracer = nil
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+tokensChannel); err != nil {
		return err
	}
	db.tokens.forget(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		db.tokens.forget(true)
	}
}
