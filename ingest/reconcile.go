package ingest

import (
	"context"
	"time"

	"github.com/council/casefile"
)

// Lister lists stored objects under a prefix.
type Lister interface {
	List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error
	Exists(ctx context.Context, key string) (bool, error)
}

// Reconciler keeps the object store and the database in step: objects that
// no row names (left by an upload whose database write failed) are destroyed
// once they are old enough that no upload can still be committing them; rows
// whose object is missing are reported.
type Reconciler struct {
	Store  casefile.DocumentStore
	Audit  casefile.AuditService
	Blobs  Blobs
	Lister Lister
	// Grace is how old an unreferenced object must be before it is destroyed.
	Grace time.Duration
	Now   func() time.Time
}

// Report is what one sweep found and did.
type Report struct {
	Orphans   int      `json:"orphans_destroyed"`
	Missing   []string `json:"missing_objects"`
	Inspected int      `json:"objects_inspected"`
}

// Sweep runs one reconciliation.
func (r *Reconciler) Sweep(ctx context.Context) (*Report, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	rep := &Report{Missing: []string{}}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		known, err := r.Store.KnownObjectKeys(ctx, batch)
		if err != nil {
			return err
		}
		for _, k := range batch {
			if !known[k] {
				if err := r.Blobs.Destroy(ctx, k); err != nil {
					return err
				}
				rep.Orphans++
			}
		}
		batch = batch[:0]
		return nil
	}
	err := r.Lister.List(ctx, KeyPrefix, func(key string, modified time.Time) error {
		rep.Inspected++
		if now().Sub(modified) < r.Grace {
			return nil
		}
		batch = append(batch, key)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := flush(); err != nil {
		return rep, err
	}
	err = r.Store.ActiveObjectKeys(ctx, func(id, personID, key string) error {
		ok, err := r.Lister.Exists(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			rep.Missing = append(rep.Missing, id)
			return r.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "storage.missing_object", TargetType: "document",
				TargetID: id, PersonID: personID})
		}
		return nil
	})
	return rep, err
}
