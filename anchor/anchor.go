// Package anchor keeps the audit log's chain heads outside the database, in
// the Object-Lock bucket, so that someone who can rewrite the database (a
// superuser recomputing every hash) still cannot rewrite the log unseen: the
// rewritten chain no longer reaches the hashes the bucket kept.
//
// Every reconciliation writes the current heads, when they changed, as a
// small JSON object locked in compliance mode (which no credential, the
// bucket's root included, can delete or shorten before it ends), naming the
// anchor before it by key and sha256. Verification reads every version of
// every anchor in the bucket, hidden behind a delete marker or not, and
// checks the log against each of them: a later anchor of a rewritten log,
// written by whoever holds a credential that can write to the bucket, cannot
// hide the genuine older ones. Anchors dated in the future, dated otherwise
// than when the bucket received them, out of their chain, or whose heads go
// backwards are refused. Hashes chain, so one anchor vouches for every event
// before it; only the events after the latest genuine anchor (at most one
// reconciliation interval) rest on the database alone.
package anchor

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/council/casefile"
)

// Prefix is where anchors live in the bucket.
const Prefix = "audit-anchors/"

// Retention is how long an anchor is locked.
const Retention = 10 * 365 * 24 * time.Hour

// Skew is how far an anchor's own date may be from the time the bucket
// received it (or from now) before it is refused: clocks of the service and
// the S3 server drift, but not by this much.
const Skew = 5 * time.Minute

// Store is what anchoring needs from the database.
type Store interface {
	// AuditHeads returns each chain's newest event.
	AuditHeads(ctx context.Context) ([]casefile.AuditHead, error)
	// AuditEventHashes returns the chain and hash of each of the events
	// seqs that exists (missing ones are left out).
	AuditEventHashes(ctx context.Context, seqs []int64) (map[int64]casefile.AuditHead, error)
}

// Version is one stored version of an anchor object.
type Version struct {
	Key       string
	VersionID string
	// LastModified is when the bucket received it (the server's clock).
	LastModified time.Time
}

// Objects is what anchoring needs from the bucket.
type Objects interface {
	// PutAnchor stores b, whose sha256 is sum, locked until retainUntil in
	// compliance mode (or governance, where the operator chose it).
	PutAnchor(ctx context.Context, key string, b []byte, sum []byte, retainUntil time.Time) (string, error)
	// Versions lists every version of every object under prefix, delete
	// markers left out (a version hidden behind one is listed).
	Versions(ctx context.Context, prefix string) ([]Version, error)
	// GetVersion reads one version.
	GetVersion(ctx context.Context, key, versionID string) ([]byte, error)
}

// Anchor is one record of the heads.
type Anchor struct {
	At    time.Time            `json:"at"`
	Heads []casefile.AuditHead `json:"heads"`
	// PrevKey and PrevSHA256 name the anchor written before this one (empty
	// for the first, and in anchors written before anchors were chained).
	PrevKey    string `json:"prev_key,omitempty"`
	PrevSHA256 string `json:"prev_sha256,omitempty"`
}

// Anchorer writes and checks anchors.
type Anchorer struct {
	Store   Store
	Objects Objects
	Now     func() time.Time
	// Retention is how long a new anchor is locked; Retention when zero.
	Retention time.Duration
}

func (a *Anchorer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// stored is one anchor version as read from the bucket.
type stored struct {
	Version
	sum    string // sha256 of the bytes
	anchor Anchor
	err    error
}

func (s *stored) name() string {
	return fmt.Sprintf("%s (written %s)", s.Key, s.LastModified.UTC().Format(time.RFC3339))
}

// Write records the current heads unless the latest anchor already has
// them, naming that anchor. It returns the key written, or "".
func (a *Anchorer) Write(ctx context.Context) (string, error) {
	heads, err := a.Store.AuditHeads(ctx)
	if err != nil {
		return "", err
	}
	all, err := a.read(ctx)
	if err != nil {
		return "", err
	}
	an := Anchor{At: a.now().UTC(), Heads: heads}
	if latest := latestReadable(all); latest != nil {
		if sameHeads(latest.anchor.Heads, heads) {
			return "", nil
		}
		an.PrevKey, an.PrevSHA256 = latest.Key, latest.sum
	}
	b, err := json.Marshal(an)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	key := Prefix + an.At.Format("20060102T150405.000000000Z") + ".json"
	_, err = a.Objects.PutAnchor(ctx, key, b, sum[:], an.At.Add(cmp.Or(a.Retention, Retention)))
	return key, err
}

// Check checks the log against every anchor in the bucket, adding what it
// found to v: the first problem found stands.
func (a *Anchorer) Check(ctx context.Context, v *casefile.AuditVerification) error {
	all, err := a.read(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	now := a.now()
	for _, s := range all {
		if s.err != nil {
			v.Fail(0, fmt.Sprintf("audit anchor %s is not readable (%v): something other than casefile wrote to %s", s.name(), s.err, Prefix))
		}
	}
	// The log against each anchor's heads.
	want := map[int64]bool{}
	for _, s := range all {
		for _, h := range s.anchor.Heads {
			if h.Seq > 0 {
				want[h.Seq] = true
			}
		}
	}
	seqs := make([]int64, 0, len(want))
	for seq := range want {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	found, err := a.Store.AuditEventHashes(ctx, seqs)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.err != nil {
			continue
		}
		at := s.anchor.At.UTC().Format(time.RFC3339)
		for _, h := range s.anchor.Heads {
			if h.Seq == 0 {
				continue
			}
			got, ok := found[h.Seq]
			switch {
			case !ok:
				v.Fail(h.Seq, fmt.Sprintf("event %d, anchored in the bucket on %s (%s), is missing from the log", h.Seq, at, s.Key))
			case got.Chain != h.Chain || got.Hash != h.Hash:
				v.Fail(h.Seq, fmt.Sprintf("event %d differs from its anchor of %s (%s): the log before it was rewritten", h.Seq, at, s.Key))
			}
		}
	}
	// Each anchor's date, and its place in the chain of anchors.
	var prev *stored
	for _, s := range all {
		if s.err != nil {
			continue
		}
		at := s.anchor.At
		switch {
		case at.After(now.Add(Skew)):
			v.Fail(0, fmt.Sprintf("audit anchor %s is dated %s, in the future: refused, as casefile dates each anchor when it writes it; someone else wrote this one",
				s.name(), at.UTC().Format(time.RFC3339)))
		case !s.LastModified.IsZero() && (at.Sub(s.LastModified) > Skew || s.LastModified.Sub(at) > Skew):
			v.Fail(0, fmt.Sprintf("audit anchor %s is dated %s, but the bucket received it at %s: refused, as casefile writes each anchor when it dates it",
				s.name(), at.UTC().Format(time.RFC3339), s.LastModified.UTC().Format(time.RFC3339)))
		}
		if prev != nil {
			if s.anchor.PrevSHA256 != "" && (s.anchor.PrevSHA256 != prev.sum || s.anchor.PrevKey != prev.Key) {
				v.Fail(0, fmt.Sprintf("audit anchor %s does not follow %s, the anchor before it: an anchor was inserted or rewritten", s.name(), prev.name()))
			}
			for _, h := range s.anchor.Heads {
				for _, p := range prev.anchor.Heads {
					if p.Chain == h.Chain && h.Seq < p.Seq {
						v.Fail(h.Seq, fmt.Sprintf("audit anchor %s has chain %d at event %d, behind the anchor before it (%s, event %d): anchors never go back, so the log was rewritten",
							s.name(), h.Chain, h.Seq, prev.name(), p.Seq))
					}
				}
			}
		}
		prev = s
	}
	if latest := latestReadable(all); latest != nil {
		at := latest.anchor.At
		v.AnchoredAt = &at
	}
	v.Anchors = len(all)
	return nil
}

// read reads every version of every anchor, oldest first (by the date each
// names, then by when the bucket received it).
func (a *Anchorer) read(ctx context.Context) ([]*stored, error) {
	vs, err := a.Objects.Versions(ctx, Prefix)
	if err != nil {
		return nil, err
	}
	all := make([]*stored, len(vs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	for i, ver := range vs {
		all[i] = &stored{Version: ver}
		wg.Add(1)
		sem <- struct{}{}
		go func(s *stored) {
			defer func() { <-sem; wg.Done() }()
			b, err := a.Objects.GetVersion(ctx, s.Key, s.VersionID)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			sum := sha256.Sum256(b)
			s.sum = hex.EncodeToString(sum[:])
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&s.anchor); err != nil {
				s.err = err
			}
		}(all[i])
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	slices.SortStableFunc(all, func(x, y *stored) int {
		return cmp.Or(x.anchor.At.Compare(y.anchor.At), x.LastModified.Compare(y.LastModified), cmp.Compare(x.Key, y.Key))
	})
	return all, nil
}

func latestReadable(all []*stored) *stored {
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].err == nil {
			return all[i]
		}
	}
	return nil
}

func sameHeads(a, b []casefile.AuditHead) bool {
	return slices.Equal(a, b)
}
