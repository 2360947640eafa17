package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/council/casefile"
)

// Lister lists stored objects under a prefix.
type Lister interface {
	List(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error
	Exists(ctx context.Context, key string) (bool, error)
}

// Reconciler keeps the object store and the database in step. One sweep
// lists the bucket's documents/ keys beside the database's active documents,
// both in key order, and merges the two: no request per object.
//
//   - An object no active document names (left by an upload whose database
//     write failed, or by a removal or destruction whose delete failed) is
//     destroyed once it is older than Grace, so that no upload can still be
//     committing it. Each destruction is audited.
//   - An active document whose object is not in the bucket is re-checked
//     (HEAD, and the row read again) and, if still missing, reported and
//     audited as storage.missing_object.
//   - Under exports/ and disclosures/, an object no export or disclosure
//     names (Bundles) is destroyed once older than Grace, as above; the
//     objects of bundles built, being built, or retired and still to be
//     destroyed by the exports' sweep are kept.
type Reconciler struct {
	Store casefile.DocumentStore
	// Bundles names the export bundles' objects; nil leaves exports/ alone.
	Bundles BundleKeys
	Audit   casefile.AuditService
	Blobs   Blobs
	Lister  Lister
	// Grace is how old an unreferenced object must be before it is destroyed.
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// BundleKeys says which objects under exports/ belong to an export.
type BundleKeys interface {
	KnownBundleKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

// Report is what one sweep found and did.
type Report struct {
	Inspected int      `json:"objects_inspected"`
	Orphans   int      `json:"orphans_destroyed"`
	Kept      []string `json:"orphans_not_destroyed"` // the store refused (a legal hold, say); tried again next sweep
	Missing   []string `json:"missing_objects"`       // document ids
}

// reconcilePage is how many rows and orphan keys are handled at a time.
const reconcilePage = 500

// Sweep runs one reconciliation.
func (r *Reconciler) Sweep(ctx context.Context) (*Report, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	rep := &Report{Kept: []string{}, Missing: []string{}}
	rows := &activeRows{store: r.Store}
	var unlisted []casefile.ObjectRef
	var orphans []string
	err := r.Lister.List(ctx, KeyPrefix, func(key string, modified time.Time) error {
		rep.Inspected++
		for {
			row, err := rows.peek(ctx)
			if err != nil {
				return err
			}
			switch {
			case row == nil || row.Key > key:
				if now().Sub(modified) >= r.Grace {
					if orphans = append(orphans, key); len(orphans) == reconcilePage {
						return r.destroyOrphans(ctx, rep, &orphans)
					}
				}
				return nil
			case row.Key == key:
				rows.next()
				return nil
			}
			unlisted = append(unlisted, *row) // its object was not listed
			rows.next()
		}
	})
	if err != nil {
		return rep, err
	}
	if err := r.destroyOrphans(ctx, rep, &orphans); err != nil {
		return rep, err
	}
	for {
		row, err := rows.peek(ctx)
		if err != nil {
			return rep, err
		}
		if row == nil {
			break
		}
		unlisted = append(unlisted, *row)
		rows.next()
	}
	for _, ref := range unlisted {
		if err := r.checkMissing(ctx, rep, ref); err != nil {
			return rep, err
		}
	}
	return rep, r.sweepBundles(ctx, rep, now)
}

// BundlePrefix is where export bundles are written, DisclosurePrefix
// disclosures' bundles.
const (
	BundlePrefix     = "exports/"
	DisclosurePrefix = "disclosures/"
)

// sweepBundles destroys the objects under exports/ and disclosures/ that no
// export or disclosure names,
// once older than Grace: a bundle whose build failed after writing it, or
// anything else left there. Bundles built, being built, or retired and
// waiting for the exports' sweep are kept.
func (r *Reconciler) sweepBundles(ctx context.Context, rep *Report, now func() time.Time) error {
	if r.Bundles == nil {
		return nil
	}
	for _, prefix := range []string{BundlePrefix, DisclosurePrefix} {
		var orphans []string
		err := r.Lister.List(ctx, prefix, func(key string, modified time.Time) error {
			rep.Inspected++
			if now().Sub(modified) < r.Grace {
				return nil
			}
			if orphans = append(orphans, key); len(orphans) == reconcilePage {
				return r.destroyUnnamed(ctx, rep, &orphans, r.Bundles.KnownBundleKeys)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := r.destroyUnnamed(ctx, rep, &orphans, r.Bundles.KnownBundleKeys); err != nil {
			return err
		}
	}
	return nil
}

// destroyOrphans destroys the objects of keys that, read again now, no
// active document names.
func (r *Reconciler) destroyOrphans(ctx context.Context, rep *Report, keys *[]string) error {
	return r.destroyUnnamed(ctx, rep, keys, r.Store.ActiveObjectKeys)
}

// destroyUnnamed destroys the objects of keys that, read again now, named
// does not name, auditing each.
func (r *Reconciler) destroyUnnamed(ctx context.Context, rep *Report, keys *[]string,
	namedBy func(context.Context, []string) (map[string]bool, error)) error {
	if len(*keys) == 0 {
		return nil
	}
	named, err := namedBy(ctx, *keys)
	if err != nil {
		return err
	}
	for _, k := range *keys {
		if named[k] {
			continue
		}
		if err := r.Blobs.Destroy(ctx, k); err != nil {
			if casefile.ErrorKind(err) == casefile.EUnavailable {
				return err
			}
			rep.Kept = append(rep.Kept, k)
			if r.Log != nil {
				r.Log.Warn("reconcile: could not destroy an object nothing names", "key", k, "err", err)
			}
			continue
		}
		rep.Orphans++
		if err := r.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "storage.orphan_destroyed", TargetType: "object", TargetID: k}); err != nil {
			return err
		}
	}
	*keys = (*keys)[:0]
	return nil
}

// checkMissing reports a document whose object the listing did not show,
// if it is still active and its object is still not there.
func (r *Reconciler) checkMissing(ctx context.Context, rep *Report, ref casefile.ObjectRef) error {
	ok, err := r.Lister.Exists(ctx, ref.Key)
	if err != nil || ok {
		return err
	}
	active, err := r.Store.ActiveObjectKeys(ctx, []string{ref.Key})
	if err != nil || !active[ref.Key] {
		return err
	}
	rep.Missing = append(rep.Missing, ref.DocumentID)
	return r.Audit.RecordEvent(ctx, &casefile.AuditEvent{Action: "storage.missing_object", TargetType: "document",
		TargetID: ref.DocumentID, PersonID: ref.PersonID})
}

// activeRows pages through the active documents' object keys in order.
type activeRows struct {
	store casefile.DocumentStore
	page  []casefile.ObjectRef
	after string
	done  bool
}

// peek returns the next row without taking it, or nil at the end.
func (a *activeRows) peek(ctx context.Context) (*casefile.ObjectRef, error) {
	if len(a.page) == 0 && !a.done {
		page, err := a.store.ActiveObjects(ctx, a.after, reconcilePage)
		if err != nil {
			return nil, err
		}
		a.done = len(page) < reconcilePage
		if len(page) > 0 {
			a.after = page[len(page)-1].Key
		}
		a.page = page
	}
	if len(a.page) == 0 {
		return nil, nil
	}
	return &a.page[0], nil
}

func (a *activeRows) next() { a.page = a.page[1:] }
