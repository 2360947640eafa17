package export

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// SignatureName is the path in the zip of the manifest's signature, written
// after the manifest.
const SignatureName = "manifest.sig"

// Signature signs the exact bytes of manifest.json.
type Signature struct {
	Algorithm string `json:"algorithm"` // ed25519
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"` // base64
}

// KeyID names a public key: "ed25519:" and the first 16 hex digits of its
// sha256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Sign signs a manifest's bytes.
func Sign(key ed25519.PrivateKey, manifest []byte) Signature {
	return Signature{Algorithm: "ed25519", KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest))}
}

// PublicPEM encodes a public key as a PEM "PUBLIC KEY" (PKIX), as openssl
// reads it.
func PublicPEM(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub) // cannot fail for an Ed25519 key
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// ParsePublicKey reads a public key given as PEM (PKIX "PUBLIC KEY"), or as
// the base64 of its 32 bytes.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("not an Ed25519 public key")
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not a PEM public key nor the base64 of 32 bytes")
	}
	return ed25519.PublicKey(raw), nil
}

// ReadPrivateKey reads an Ed25519 private key from a PEM file (PKCS#8
// "PRIVATE KEY", as `openssl genpkey -algorithm ed25519` writes it).
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 private key (make one with: openssl genpkey -algorithm ed25519)", path)
	}
	return priv, nil
}

// checkSignature checks sig over manifest against keys, the service's public
// keys; it returns the key id that signed, or a problem.
func checkSignature(manifest, sig []byte, keys []ed25519.PublicKey) (string, string) {
	if sig == nil {
		return "", "missing: the manifest is not signed, so nothing shows this bundle is as casefile made it"
	}
	var s Signature
	if err := json.Unmarshal(sig, &s); err != nil || s.Algorithm != "ed25519" {
		return "", "not a casefile signature (ed25519)"
	}
	raw, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		return "", "the signature is not base64"
	}
	if len(keys) == 0 {
		return "", fmt.Sprintf("signed by %s, but no public key of the service was given to check it against "+
			"(--key FILE, from `casefile export signing-key` or GET /v1/exports/signing-key)", s.KeyID)
	}
	for _, k := range keys {
		if ed25519.Verify(k, manifest, raw) {
			return KeyID(k), ""
		}
	}
	for _, k := range keys {
		if KeyID(k) == s.KeyID {
			return "", fmt.Sprintf("the signature by %s does not match the manifest: the manifest was changed after casefile signed it", s.KeyID)
		}
	}
	return "", fmt.Sprintf("signed by %s, which is not the service's key: the bundle or its manifest was made or changed elsewhere", s.KeyID)
}
