package casefile

import "time"

// SigningKey is the public half of a key that signs disclosure bundles'
// manifests (package export), as published at GET /v1/exports/signing-key.
type SigningKey struct {
	KeyID     string    `json:"key_id"`    // "ed25519:" and the first 16 hex digits of the public key's sha256
	Algorithm string    `json:"algorithm"` // ed25519
	PublicKey []byte    `json:"public_key"`
	PEM       string    `json:"public_key_pem"`
	CreatedAt time.Time `json:"created_at"`
	// Current is the key new bundles are signed with.
	Current bool `json:"current"`
}
