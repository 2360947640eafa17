package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/council/casefile"
)

// PutObject stores a stream of unknown length under key.
type PutObject func(ctx context.Context, key string, r io.Reader) error

// Service carries out queued exports.
type Service struct {
	Exports casefile.ExportService
	Builder *Builder
	Put     PutObject
	// KeepFor is how long a finished bundle is kept; 0 keeps it for ever.
	KeepFor time.Duration
	// FinalAttempt reports whether the task in ctx will not be retried; the
	// export is then recorded failed rather than left running. Nil: never.
	FinalAttempt func(ctx context.Context) bool
	// Destroy removes a bundle's object.
	Destroy func(ctx context.Context, key string) error
}

// Sweep is the exports' part of the periodic reconciliation: bundles older
// than KeepFor expire, and the objects of expired and withdrawn bundles are
// destroyed.
func (s *Service) Sweep(ctx context.Context) error {
	var err error
	if s.KeepFor > 0 {
		_, err = s.Exports.ExpireExports(ctx, time.Now().Add(-s.KeepFor))
	}
	return errors.Join(err, s.DestroyRetired(ctx))
}

// DestroyRetired destroys the objects of withdrawn and expired bundles.
func (s *Service) DestroyRetired(ctx context.Context) error {
	keys, err := s.Exports.RetiredBundles(ctx)
	if err != nil || len(keys) == 0 {
		return err
	}
	var gone []string
	var errs []error
	for _, k := range keys {
		if err := s.Destroy(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("bundle %s: %w", k, err))
			continue
		}
		gone = append(gone, k)
	}
	if len(gone) > 0 {
		errs = append(errs, s.Exports.BundlesDestroyed(ctx, gone))
	}
	return errors.Join(errs...)
}

// Payload is the task payload of casefile.TaskExportBuild.
type Payload struct {
	ExportID string `json:"export_id"`
}

// Handle builds one export: the zip streams into the object store through a
// pipe, so the worker's memory stays bounded whatever the record's size. It
// is idempotent: a done, failed, withdrawn or expired export is left as it
// is, and a retry after a crash builds the bundle again from the start.
func (s *Service) Handle(ctx context.Context, payload []byte) error {
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil || p.ExportID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "export task payload: %s", payload)
	}
	e, err := s.Exports.StartExport(ctx, p.ExportID)
	if casefile.ErrorKind(err) == casefile.EConflict {
		return nil // done, failed, withdrawn or expired: nothing to build
	}
	if err != nil {
		return err
	}
	key := "exports/" + e.ID + ".zip"
	pr, pw := io.Pipe()
	var manifest *Manifest
	go func() {
		m, err := s.Builder.Write(ctx, pw, e.ID, e.PersonID, e.RequestedBy)
		manifest = m
		pw.CloseWithError(err)
	}()
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(pr, h)}
	err = s.Put(ctx, key, cr)
	pr.CloseWithError(err) // unblocks the writer if the upload stopped early
	if err != nil {
		retried := s.FinalAttempt == nil || !s.FinalAttempt(ctx)
		if ctx.Err() != nil || casefile.ErrorKind(err) == casefile.EUnavailable && retried {
			return err // retried by the queue
		}
		if !retried {
			err = fmt.Errorf("gave up after repeated attempts: %w", err)
		}
		return s.Exports.FinishExport(context.WithoutCancel(ctx), e.ID, "", 0, "", "", err.Error())
	}
	if err := s.Exports.FinishExport(ctx, e.ID, key, cr.n, hex.EncodeToString(h.Sum(nil)), manifest.Audit.Hash, ""); err != nil {
		return err
	}
	// Withdrawn while it was being written (a removal or re-index took
	// something it holds; the record was destroyed): destroy it now rather
	// than leave it to the sweep.
	if done, err := s.Exports.Export(ctx, e.ID); err == nil && done.State == "withdrawn" && s.Destroy != nil {
		if err := s.Destroy(ctx, key); err == nil {
			return s.Exports.BundlesDestroyed(ctx, []string{key})
		}
	}
	return nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
