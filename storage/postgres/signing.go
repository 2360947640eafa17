package postgres

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// signingKeyID names a public key as package export does ("ed25519:" and
// the first 16 hex digits of its sha256).
func signingKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// GeneratedSigningKey returns the bundle-signing key casefile generated and
// keeps in the database, generating it on first use (once, whoever asks
// first).
func (db *DB) GeneratedSigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var priv []byte
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7071)"); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT private_key FROM export_signing_keys WHERE private_key IS NOT NULL
			ORDER BY created_at LIMIT 1`).Scan(&priv)
		if err != pgx.ErrNoRows {
			return err
		}
		pub, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			return err
		}
		priv = key
		_, err = tx.Exec(ctx, "INSERT INTO export_signing_keys (key_id, public_key, private_key) VALUES ($1, $2, $3)",
			signingKeyID(pub), []byte(pub), []byte(key))
		return err
	})
	if err != nil {
		return nil, err
	}
	return ed25519.PrivateKey(priv), nil
}

// RecordSigningKey records the public half of a key held outside the
// database (CASEFILE_EXPORT_SIGNING_KEY), so that it is published and its
// bundles verify after it is replaced.
func (db *DB) RecordSigningKey(ctx context.Context, pub ed25519.PublicKey) error {
	_, err := db.pool.Exec(ctx, "INSERT INTO export_signing_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING",
		signingKeyID(pub), []byte(pub))
	return mapError(err)
}

// SigningKeys returns the public halves of every key that ever signed
// bundles, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]casefile.SigningKey, error) {
	rows, err := db.pool.Query(ctx, "SELECT key_id, public_key, created_at FROM export_signing_keys ORDER BY created_at, key_id")
	if err != nil {
		return nil, mapError(err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.SigningKey, error) {
		k := casefile.SigningKey{Algorithm: "ed25519"}
		var at time.Time
		err := r.Scan(&k.KeyID, &k.PublicKey, &at)
		k.CreatedAt = at.UTC()
		return k, err
	})
	return keys, mapError(err)
}
