// Package anchor keeps the audit log's chain heads outside the database, in
// the Object-Lock bucket, so that someone who can rewrite the database (a
// superuser recomputing every hash) still cannot rewrite the log unseen: the
// rewritten chain no longer reaches the hash the bucket kept.
//
// Every reconciliation writes the current heads, when they changed, as a
// small JSON object under governance retention; verification then checks the
// latest anchor against the log. Hashes chain, so one anchor vouches for
// every event before it; only the events after the latest anchor (at most
// one reconciliation interval) rest on the database alone.
package anchor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/council/casefile"
)

// Prefix is where anchors live in the bucket.
const Prefix = "audit-anchors/"

// Retention is how long an anchor is locked.
const Retention = 10 * 365 * 24 * time.Hour

// Store is what anchoring needs from the database.
type Store interface {
	// AuditHeads returns each chain's newest event.
	AuditHeads(ctx context.Context) ([]casefile.AuditHead, error)
	// AuditEventHash returns the chain and hash of event seq; ENotFound.
	AuditEventHash(ctx context.Context, seq int64) (int, string, error)
}

// Objects is what anchoring needs from the bucket.
type Objects interface {
	PutChecked(ctx context.Context, key string, b []byte, sum []byte, contentType string, retainUntil time.Time) (string, error)
	Get(ctx context.Context, key string) ([]byte, error)
	// Latest returns the greatest key under prefix, or "".
	Latest(ctx context.Context, prefix string) (string, error)
}

// Anchor is one record of the heads.
type Anchor struct {
	At    time.Time            `json:"at"`
	Heads []casefile.AuditHead `json:"heads"`
}

// Anchorer writes and checks anchors.
type Anchorer struct {
	Store   Store
	Objects Objects
	Now     func() time.Time
}

func (a *Anchorer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Write records the current heads unless the latest anchor already has
// them. It returns the key written, or "".
func (a *Anchorer) Write(ctx context.Context) (string, error) {
	heads, err := a.Store.AuditHeads(ctx)
	if err != nil {
		return "", err
	}
	latest, err := a.latest(ctx)
	if err != nil {
		return "", err
	}
	if latest != nil && sameHeads(latest.Heads, heads) {
		return "", nil
	}
	at := a.now().UTC()
	b, err := json.Marshal(Anchor{At: at, Heads: heads})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	key := Prefix + at.Format("20060102T150405.000000000Z") + ".json"
	_, err = a.Objects.PutChecked(ctx, key, b, sum[:], "application/json", at.Add(Retention))
	return key, err
}

// Check checks the log against the latest anchor, adding what it found to v.
func (a *Anchorer) Check(ctx context.Context, v *casefile.AuditVerification) error {
	latest, err := a.latest(ctx)
	if err != nil || latest == nil {
		return err
	}
	at := latest.At
	v.AnchoredAt = &at
	for _, h := range latest.Heads {
		if h.Seq == 0 {
			continue
		}
		chain, hash, err := a.Store.AuditEventHash(ctx, h.Seq)
		switch {
		case casefile.ErrorKind(err) == casefile.ENotFound:
			v.Fail(h.Seq, fmt.Sprintf("event %d, anchored in the bucket on %s, is missing from the log", h.Seq, at.Format(time.RFC3339)))
		case err != nil:
			return err
		case chain != h.Chain || hash != h.Hash:
			v.Fail(h.Seq, fmt.Sprintf("event %d differs from its anchor of %s: the log before it was rewritten", h.Seq, at.Format(time.RFC3339)))
		}
	}
	return nil
}

func (a *Anchorer) latest(ctx context.Context) (*Anchor, error) {
	key, err := a.Objects.Latest(ctx, Prefix)
	if err != nil || key == "" {
		return nil, err
	}
	b, err := a.Objects.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	var an Anchor
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&an); err != nil {
		return nil, fmt.Errorf("audit anchor %s is not readable: %w", strings.TrimPrefix(key, Prefix), err)
	}
	return &an, nil
}

func sameHeads(a, b []casefile.AuditHead) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
