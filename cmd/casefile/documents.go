package main

import (
	"context"
	"io"
	"time"

	"github.com/council/casefile/ingest"
	"github.com/council/casefile/storage/s3"
)

// ingestService is the one ingest service of the process: the API and the
// pages share it, and so its bound on uploads streaming at once.
func (a *app) ingestService() *ingest.Service {
	a.ingestOnce.Do(func() {
		a.ingest = &ingest.Service{Store: a.db, Blobs: s3.Blobs{S: a.s3, MaxStream: a.cfg.MaxUploadBytes}, MaxBytes: a.cfg.MaxUploadBytes, Log: a.log,
			SpoolDir: a.cfg.SpoolDir}
	})
	return a.ingest
}

func (a *app) openRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, int64, error) {
	return a.s3.Get(ctx, key, &s3.Range{Start: start, End: end})
}

// reconcile is the periodic storage:reconcile task.
func (a *app) reconcile(ctx context.Context, _ []byte) error {
	r := &ingest.Reconciler{Store: a.db, Bundles: a.db, Audit: a.db, Blobs: s3.Blobs{S: a.records}, Lister: s3.Blobs{S: a.records}, Grace: time.Hour, Log: a.log}
	rep, err := r.Sweep(ctx)
	if err != nil {
		return err
	}
	a.log.Info("storage reconciled", "inspected", rep.Inspected, "orphans_destroyed", rep.Orphans, "orphans_not_destroyed", len(rep.Kept), "missing_objects", len(rep.Missing))
	return nil
}
