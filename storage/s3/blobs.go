package s3

import (
	"context"
	"io"
	"time"

	"github.com/council/casefile"
)

// Blobs is the store as ingest uses it (ingest.Blobs and ingest.Lister):
// objects named by key, a write answering with its version id.
type Blobs struct{ S *Store }

func (b Blobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string, until time.Time) (string, error) {
	res, err := b.S.Put(ctx, key, r, size, ct, until)
	return res.VersionID, err
}

func (b Blobs) PutChecked(ctx context.Context, key string, body []byte, sum []byte, ct string, until time.Time) (string, error) {
	res, err := b.S.PutChecked(ctx, key, body, sum, ct, until)
	return res.VersionID, err
}

func (b Blobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := b.S.Get(ctx, key, nil)
	return rc, err
}

func (b Blobs) Destroy(ctx context.Context, key string) error { return b.S.Destroy(ctx, key) }

func (b Blobs) List(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	return b.S.List(ctx, prefix, func(o ObjectInfo) error { return fn(o.Key, o.LastModified) })
}

func (b Blobs) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.S.Stat(ctx, key)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		return false, nil
	}
	return err == nil, err
}

// Anchors is the store as package anchor uses it.
type Anchors struct{ S *Store }

func (a Anchors) PutChecked(ctx context.Context, key string, body []byte, sum []byte, ct string, until time.Time) (string, error) {
	res, err := a.S.PutChecked(ctx, key, body, sum, ct, until)
	return res.VersionID, err
}

func (a Anchors) Get(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := a.S.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	return b, mapError(err)
}

// Latest returns the greatest key under prefix, or "".
func (a Anchors) Latest(ctx context.Context, prefix string) (string, error) {
	latest := ""
	err := a.S.List(ctx, prefix, func(o ObjectInfo) error {
		if o.Key > latest {
			latest = o.Key
		}
		return nil
	})
	return latest, err
}
