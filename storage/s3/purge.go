package s3

import (
	"context"
	"sync"

	"github.com/minio/minio-go/v7"
)

// purgeWorkers is how many HEAD requests run at once while a batch is
// being destroyed.
const purgeWorkers = 64

// DestroyMany removes every version of each key, for retention runs: it
// finds each key's current version with HEAD (whose cost does not grow with
// the bucket, unlike listing versions on some servers), removes them all in
// one RemoveObjects stream with governance bypass, and repeats for keys
// that still show a version (an older one). A key hidden behind a delete
// marker, or not found at first, is listed and destroyed version by
// version. Keys under a legal
// hold must have been released first. It returns the keys it could not
// destroy, with why; a key with no versions is already destroyed.
func (s *Store) DestroyMany(ctx context.Context, keys []string) (map[string]error, error) {
	failed := map[string]error{}
	pending := keys
	for round := 0; len(pending) > 0; round++ {
		if round == 8 {
			// Many versions: list them instead.
			for _, k := range pending {
				if err := s.Destroy(ctx, k); err != nil {
					failed[k] = err
				}
			}
			return failed, nil
		}
		current, marked, missing, err := s.currentVersions(ctx, pending)
		if err != nil {
			return failed, err
		}
		if round == 0 {
			// Not found at first: already destroyed (a resumed batch) or
			// hidden behind a delete marker some servers do not report on
			// HEAD. Listing tells; it is rare, so its cost does not matter.
			marked = append(marked, missing...)
		}
		for _, k := range marked {
			if err := s.Destroy(ctx, k); err != nil {
				failed[k] = err
			}
		}
		if len(current) == 0 {
			return failed, nil
		}
		ch := make(chan minio.ObjectInfo, len(current))
		for _, o := range current {
			ch <- minio.ObjectInfo{Key: o.Key, VersionID: o.VersionID}
		}
		close(ch)
		var next []string
		for e := range s.client.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
			if e.Err != nil && !isNotFound(e.Err) {
				failed[e.ObjectName] = mapError(e.Err)
			}
		}
		if err := ctx.Err(); err != nil {
			return failed, mapError(err)
		}
		for _, o := range current {
			if failed[o.Key] == nil {
				next = append(next, o.Key)
			}
		}
		pending = next
	}
	return failed, nil
}

// currentVersions finds the current version of each key; keys whose
// latest version is a delete marker, and keys not found, are returned apart.
func (s *Store) currentVersions(ctx context.Context, keys []string) (found []minio.ObjectInfo, marked, missing []string, err error) {
	var mu sync.Mutex
	var firstErr error
	ch := make(chan string)
	var wg sync.WaitGroup
	for range min(purgeWorkers, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				info, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
				mu.Lock()
				switch {
				case info.IsDeleteMarker:
					marked = append(marked, k)
				case err == nil:
					found = append(found, minio.ObjectInfo{Key: k, VersionID: info.VersionID})
				case isNotFound(err):
					missing = append(missing, k)
				default:
					if firstErr == nil {
						firstErr = mapError(err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	return found, marked, missing, firstErr
}
