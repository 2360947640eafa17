package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
}

// Expire expires the bundles older than KeepFor (part of the periodic
// reconciliation; the tickets' sweep destroys their objects).
func (s *Service) Expire(ctx context.Context) error {
	if s.KeepFor <= 0 {
		return nil
	}
	_, err := s.Exports.ExpireExports(ctx, time.Now().Add(-s.KeepFor))
	return err
}

// Payload is the task payload of casefile.TaskExportBuild.
type Payload struct {
	ExportID string `json:"export_id"`
}

// Handle builds one export: the zip streams into the object store through a
// pipe, so the worker's memory stays bounded whatever the record's size. It
// is idempotent: a done export is left as it is, and a retry after a crash
// builds the bundle again from the start.
func (s *Service) Handle(ctx context.Context, payload []byte) error {
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil || p.ExportID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "export task payload: %s", payload)
	}
	e, err := s.Exports.StartExport(ctx, p.ExportID)
	if casefile.ErrorCode(err) == "export_done" {
		return nil
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
	return s.Exports.FinishExport(ctx, e.ID, key, cr.n, hex.EncodeToString(h.Sum(nil)), manifest.Audit.Hash, "")
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
