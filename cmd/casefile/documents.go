package main

import (
	"context"
	"io"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/storage/s3"
)

// blobs adapts the S3 store to what ingest needs.
type blobs struct{ s *s3.Store }

func (b blobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string, until time.Time) (string, error) {
	res, err := b.s.Put(ctx, key, r, size, ct, until)
	return res.VersionID, err
}

func (b blobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := b.s.Get(ctx, key, nil)
	return rc, err
}

func (b blobs) Destroy(ctx context.Context, key string) error { return b.s.Destroy(ctx, key) }

func (b blobs) List(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	return b.s.List(ctx, prefix, func(o s3.ObjectInfo) error { return fn(o.Key, o.LastModified) })
}

func (b blobs) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.s.Stat(ctx, key)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		return false, nil
	}
	return err == nil, err
}

func (a *app) ingestService() *ingest.Service {
	return &ingest.Service{Store: a.db, Blobs: blobs{a.s3}, MaxBytes: a.cfg.MaxUploadBytes, Log: a.log}
}

func (a *app) openRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, int64, error) {
	return a.s3.Get(ctx, key, &s3.Range{Start: start, End: end})
}

// reconcile is the periodic storage:reconcile task.
func (a *app) reconcile(ctx context.Context, _ []byte) error {
	r := &ingest.Reconciler{Store: a.db, Audit: a.db, Blobs: blobs{a.s3}, Lister: blobs{a.s3}, Grace: time.Hour}
	rep, err := r.Sweep(ctx)
	if err != nil {
		return err
	}
	a.log.Info("storage reconciled", "inspected", rep.Inspected, "orphans_destroyed", rep.Orphans, "missing_objects", len(rep.Missing))
	return nil
}
