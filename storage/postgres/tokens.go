package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.TokenService = (*DB)(nil)

// tokenPrefix marks casefile secrets so that secret scanners can find leaked ones.
const tokenPrefix = "cf_"

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// CreateToken stores a new token; only the hash of its secret is kept.
func (db *DB) CreateToken(ctx context.Context, name string, role casefile.Role) (*casefile.Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_name", "A token needs a name: say whose it is or what it is for.")
	}
	if !casefile.ValidRole(role) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_role", "Unknown role %q; use one of practitioner, manager, ict, records_officer, auditor, admin.", role)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t := &casefile.Token{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Role: role}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO tokens (id, name, role, secret_hash) VALUES ($1,$2,$3,$4) RETURNING created_at`,
			t.ID, t.Name, string(t.Role), hashSecret(secret)).Scan(&t.CreatedAt)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "token.create", TargetType: "token", TargetID: t.ID,
			Details: map[string]string{"name": t.Name, "role": string(t.Role)}})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// Authenticate finds the actor holding secret.
func (db *DB) Authenticate(ctx context.Context, secret string) (casefile.Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return casefile.Actor{}, casefile.Errorf(casefile.EUnauthorized, "unauthorized", "The bearer token is not valid.")
	}
	var a casefile.Actor
	var role string
	err := db.pool.QueryRow(ctx, `SELECT id, name, role FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL`,
		hashSecret(secret)).Scan(&a.TokenID, &a.Name, &role)
	if err == pgx.ErrNoRows {
		return casefile.Actor{}, casefile.Errorf(casefile.EUnauthorized, "unauthorized", "The bearer token is not valid.")
	}
	if err != nil {
		return casefile.Actor{}, mapError(err)
	}
	a.Role = casefile.Role(role)
	a.ID, a.Kind = a.TokenID, casefile.ActorToken
	return a, nil
}

// CountTokens counts tokens ever created.
func (db *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM tokens").Scan(&n); err != nil {
		return 0, mapError(err)
	}
	return n, nil
}
