package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.TokenService = (*DB)(nil)

// tokenPrefix marks casefile secrets so that secret scanners can find leaked ones.
const tokenPrefix = "cf_"

// touchEvery is how stale a last-used or last-seen time may get before a
// request writes it again: writing it on every request would take a row lock
// per call.
const touchEvery = time.Minute

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// randomSecret returns prefix and 32 random bytes, URL-safe.
func randomSecret(prefix string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// CreateToken stores a new token; only the hash of its secret is kept.
func (db *DB) CreateToken(ctx context.Context, name string, role casefile.Role, expiresAt time.Time) (*casefile.Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_name", "A token needs a name: say whose it is or what it is for.")
	}
	if casefile.ReservedName(name) {
		return nil, "", casefile.Errorf(casefile.EUnprocessable, "reserved_name",
			"Names beginning system: or cli: are kept for the service's own work; name the token after its holder or purpose.")
	}
	if !casefile.ValidRole(role) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_role", "Unknown role %q; use one of practitioner, manager, ict, records_officer, auditor, admin.", role)
	}
	if !expiresAt.After(db.now()) {
		return nil, "", casefile.Errorf(casefile.EUnprocessable, "invalid_expiry", "A token must expire in the future.")
	}
	secret, err := randomSecret(tokenPrefix)
	if err != nil {
		return nil, "", err
	}
	t := &casefile.Token{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Role: role, ExpiresAt: expiresAt.UTC().Truncate(time.Microsecond)}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO tokens (id, name, role, secret_hash, expires_at) VALUES ($1,$2,$3,$4,$5) RETURNING created_at`,
			t.ID, t.Name, string(t.Role), hashSecret(secret), t.ExpiresAt).Scan(&t.CreatedAt)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "token.create", TargetType: "token", TargetID: t.ID,
			Details: map[string]string{"name": t.Name, "role": string(t.Role), "expires_at": t.ExpiresAt.Format(time.RFC3339)}})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func errBadToken() error {
	return casefile.Errorf(casefile.EUnauthorized, "unauthorized", "The bearer token is not valid: it is unknown, revoked or expired.")
}

// Authenticate finds the actor holding secret.
func (db *DB) Authenticate(ctx context.Context, secret string) (casefile.Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return casefile.Actor{}, errBadToken()
	}
	sum := sha256.Sum256([]byte(secret))
	db.tokens.start.Do(func() { go db.listenTokens() })
	now := db.now()
	kept, ok, gen := db.tokens.get(sum, now)
	if !ok {
		a, expires, used, err := db.readToken(ctx, "secret_hash = $1", sum[:])
		if err != nil {
			return casefile.Actor{}, err
		}
		kept = cachedToken{actor: a, expires: expires, used: used, fetched: now}
		db.tokens.put(sum, kept, gen)
	}
	touched, err := db.admitToken(ctx, kept.actor, kept.expires, kept.used, now)
	if err != nil {
		return casefile.Actor{}, err
	}
	if touched {
		db.tokens.touched(sum, now)
	}
	return kept.actor, nil
}

// TokenActor finds the actor of the token with id (a session made from it).
func (db *DB) TokenActor(ctx context.Context, id string) (casefile.Actor, error) {
	if uuid.Validate(id) != nil {
		return casefile.Actor{}, errBadToken()
	}
	return db.tokenActor(ctx, "id = $1", id)
}

// tokenActor reads the token matched by where, refuses it when revoked or
// expired, and records its use when the last one is over a minute old.
func (db *DB) tokenActor(ctx context.Context, where string, arg any) (casefile.Actor, error) {
	a, expires, used, err := db.readToken(ctx, where, arg)
	if err != nil {
		return casefile.Actor{}, err
	}
	if _, err := db.admitToken(ctx, a, expires, used, db.now()); err != nil {
		return casefile.Actor{}, err
	}
	return a, nil
}

// admitToken refuses a token that has expired by now, and records its use
// when the last one recorded is over touchEvery old (touched).
func (db *DB) admitToken(ctx context.Context, a casefile.Actor, expires, used, now time.Time) (touched bool, err error) {
	if !now.Before(expires) {
		return false, errBadToken()
	}
	if now.Sub(used) <= touchEvery {
		return false, nil
	}
	return true, db.touchToken(ctx, a.TokenID, now)
}

// readToken reads the actor of the token matched by where, its expiry and
// its last use (zero if never), refusing it when it is unknown or revoked.
func (db *DB) readToken(ctx context.Context, where string, arg any) (casefile.Actor, time.Time, time.Time, error) {
	var a casefile.Actor
	var role string
	var expires time.Time
	var revoked, used *time.Time
	err := db.pool.QueryRow(ctx, `SELECT id, name, role, expires_at, revoked_at, last_used_at FROM tokens WHERE `+where, arg).
		Scan(&a.TokenID, &a.Name, &role, &expires, &revoked, &used)
	if err == pgx.ErrNoRows || err == nil && revoked != nil {
		return casefile.Actor{}, time.Time{}, time.Time{}, errBadToken()
	}
	if err != nil {
		return casefile.Actor{}, time.Time{}, time.Time{}, mapError(err)
	}
	a.Role = casefile.Role(role)
	a.ID, a.Kind = a.TokenID, casefile.ActorToken
	var lastUsed time.Time
	if used != nil {
		lastUsed = *used
	}
	return a, expires, lastUsed, nil
}

// touchToken records a token's use at now.
func (db *DB) touchToken(ctx context.Context, id string, now time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE tokens SET last_used_at = $2 WHERE id = $1`, id, now)
	return mapError(err)
}

const tokenColumns = "id, name, role, created_at, expires_at, revoked_at, last_used_at"

func scanToken(row pgx.Row) (*casefile.Token, error) {
	var t casefile.Token
	var role string
	if err := row.Scan(&t.ID, &t.Name, &role, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt); err != nil {
		return nil, err
	}
	t.Role = casefile.Role(role)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	for _, p := range []*time.Time{t.RevokedAt, t.LastUsedAt} {
		if p != nil {
			*p = p.UTC()
		}
	}
	return &t, nil
}

// Tokens lists every token, newest first.
func (db *DB) Tokens(ctx context.Context) ([]*casefile.Token, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at DESC, id DESC")
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Token, error) { return scanToken(r) })
	return out, mapError(err)
}

// RevokeToken ends a token now (audited); its sessions end with it.
func (db *DB) RevokeToken(ctx context.Context, id string) (*casefile.Token, error) {
	if uuid.Validate(id) != nil {
		return nil, notFound("Token")
	}
	var t *casefile.Token
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = $1 FOR UPDATE", id))
		if err == pgx.ErrNoRows {
			return notFound("Token")
		}
		if err != nil || t.RevokedAt != nil {
			return err
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		if _, err := tx.Exec(ctx, "UPDATE tokens SET revoked_at = $2 WHERE id = $1", id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_id = $1", id); err != nil {
			return err
		}
		t.RevokedAt = &now
		// Every process forgets the tokens it keeps when this commits.
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", tokensChannel, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "token.revoke", TargetType: "token", TargetID: id,
			Details: map[string]string{"name": t.Name}})
	})
	// This process forgets them now, before its listener hears of it.
	db.tokens.forget(db.tokens.listening())
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CountTokens counts tokens ever created.
func (db *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM tokens").Scan(&n); err != nil {
		return 0, mapError(err)
	}
	return n, nil
}
