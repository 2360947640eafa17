package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/council/casefile"
)

// MaxAttempts is how many times a document's extraction is started before
// it is recorded failed: a file that stops the worker itself (or takes it
// past its deadline every time) must not be tried for ever.
const MaxAttempts = 5

// Task carries out document:extract tasks: it reads the document's
// original from the object store into a temp file, extracts its text, and
// records it. Idempotent: a document whose text is no longer pending (done,
// removed, destroyed), or that another worker is extracting, is left alone.
type Task struct {
	Store     casefile.TextStore
	Open      func(ctx context.Context, key string) (io.ReadCloser, error)
	Extractor *Extractor
	Log       *slog.Logger
}

// Payload is the payload of casefile.TaskDocumentExtract.
type Payload struct {
	DocumentID string `json:"document_id"`
}

// Handle extracts one document's text.
func (t *Task) Handle(ctx context.Context, payload []byte) error {
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil || p.DocumentID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "document:extract payload: %s", payload)
	}
	t.Extractor.init()
	lim := t.Extractor.lim
	// The lease outlasts the extraction's own deadline and the download.
	job, err := t.Store.StartText(ctx, p.DocumentID, lim.Timeout+10*time.Minute)
	if err != nil || job == nil {
		return err
	}
	var res casefile.ExtractedText
	switch {
	case job.Attempts > MaxAttempts:
		res = failed("the text could not be extracted in %d attempts", MaxAttempts)
	case job.Size > lim.MaxBytes:
		res = failed("the file is larger than the %d bytes whose text is extracted (CASEFILE_EXTRACT_MAX_BYTES)", lim.MaxBytes)
	default:
		res, err = t.extract(ctx, job)
		if err != nil {
			// Not the file's fault: the task is retried, and this attempt
			// does not count towards MaxAttempts.
			return errors.Join(err, t.Store.ReleaseText(context.WithoutCancel(ctx), job.DocumentID))
		}
	}
	saved, err := t.Store.SaveText(ctx, job.DocumentID, res)
	if err != nil {
		return err
	}
	if t.Log != nil {
		t.Log.Info("document text", "document_id", job.DocumentID, "state", res.State, "source", res.Source,
			"chars", len(res.Text), "saved", saved, "warning", res.Warning != "")
	}
	return nil
}

// extract reads the original into a temp file and extracts it. An error
// is the object store's (the task is retried); the extraction's own
// failures are in the result.
func (t *Task) extract(ctx context.Context, job *casefile.TextJob) (casefile.ExtractedText, error) {
	rc, err := t.Open(ctx, job.ObjectKey)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		return failed("the original is not in the object store"), nil
	}
	if err != nil {
		return casefile.ExtractedText{}, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(t.Extractor.TempDir, tempPrefix+"*")
	if err != nil {
		return casefile.ExtractedText{}, fmt.Errorf("temp file for extraction: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, io.LimitReader(rc, t.Extractor.lim.MaxBytes+1)); err != nil {
		return casefile.ExtractedText{}, fmt.Errorf("read the original: %w", err)
	}
	if err := f.Close(); err != nil {
		return casefile.ExtractedText{}, err
	}
	res := t.Extractor.Extract(ctx, f.Name(), job.Filename, job.ContentType)
	if ctx.Err() != nil {
		// The worker is stopping (not the extraction's own deadline): the
		// task goes back to the queue.
		return casefile.ExtractedText{}, ctx.Err()
	}
	return res, nil
}
