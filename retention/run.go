package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/council/casefile"
)

// RunStore is what carrying out a run needs from storage. Every step is
// idempotent, so a run interrupted anywhere resumes where it stopped.
type RunStore interface {
	// StartRun marks a queued run running and returns it; a run already
	// done or failed comes back unchanged.
	StartRun(ctx context.Context, id string) (*casefile.RetentionRun, error)
	// PlanRun records the run's items once.
	PlanRun(ctx context.Context, id string) error
	// AwaitApproval stops a planned real run that is not yet approved at
	// awaiting_approval with its disposal list; a run with nothing due, or
	// already approved, comes back still running.
	AwaitApproval(ctx context.Context, id string) (*casefile.RetentionRun, error)
	// DestroyBatch settles up to limit due documents and notes, calling
	// destroy for their objects; 0 means none are left.
	DestroyBatch(ctx context.Context, runID string, limit int,
		destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error)
	// DestroyIdentities settles up to limit due persons.
	DestroyIdentities(ctx context.Context, runID string, limit int,
		destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error)
	// FinishRun closes the run and issues a real run's certificate.
	FinishRun(ctx context.Context, id string) (*casefile.RetentionRun, error)
	// FailRun records that a run cannot go on, with why.
	FailRun(ctx context.Context, id, why string) error
}

// Blobs is the object store as retention needs it.
type Blobs interface {
	// DestroyMany removes every version of each key (governance bypass),
	// returning the keys it could not remove.
	DestroyMany(ctx context.Context, keys []string) (map[string]error, error)
	SetLegalHold(ctx context.Context, key string, on bool) error
	SetRetention(ctx context.Context, key string, until time.Time) error
}

// DefaultBatchSize is how many items one destruction batch settles: one
// S3 RemoveObjects stream and one set-based transaction.
const DefaultBatchSize = 1000

// Runner carries out retention runs.
type Runner struct {
	Store     RunStore
	Blobs     Blobs
	BatchSize int
	Log       *slog.Logger
	// FinalAttempt reports whether the task in ctx will not be retried; the
	// run is then marked failed, so that it does not stay running for ever
	// and hold up the runs after it. Nil: never.
	FinalAttempt func(ctx context.Context) bool
}

// RunPayload is the payload of casefile.TaskRetentionRun.
type RunPayload struct {
	RunID string `json:"run_id"`
}

// Handle is the handler of casefile.TaskRetentionRun.
func (r *Runner) Handle(ctx context.Context, payload []byte) error {
	var p RunPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.RunID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "retention:run payload %q has no run_id", payload)
	}
	_, err := r.Execute(ctx, p.RunID)
	if err != nil && ctx.Err() == nil && r.FinalAttempt != nil && r.FinalAttempt(ctx) {
		// What was destroyed stays destroyed and certified in the audit
		// log; what is still due is found by the next run.
		r.log().Error("retention run failed for good", "run_id", p.RunID, "err", err)
		why := "gave up after repeated attempts: " + err.Error()
		return r.Store.FailRun(context.WithoutCancel(ctx), p.RunID, why)
	}
	return err
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Execute carries out a run: plan it; a real run nobody has approved then
// stops at awaiting_approval with its disposal list (the task ends there;
// approval queues it again). An approved real run destroys what is due in
// batches, then the identities of persons with nothing left, then issues
// the certificate. Called again after an interruption it carries on: what
// was destroyed stays destroyed and is never destroyed twice.
func (r *Runner) Execute(ctx context.Context, runID string) (*casefile.RetentionRun, error) {
	run, err := r.Store.StartRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if run.State != casefile.RunRunning {
		return run, nil
	}
	start := time.Now()
	if err := r.Store.PlanRun(ctx, runID); err != nil {
		return nil, fmt.Errorf("plan run %s: %w", runID, err)
	}
	size := r.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	destroy := !run.DryRun
	if !run.DryRun && run.ApprovedAt == nil {
		run, err = r.Store.AwaitApproval(ctx, runID)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", runID, err)
		}
		if run.State == casefile.RunAwaitingApproval {
			r.log().Info("retention run awaits approval", "run", runID, "due", run.Due, "held_back", run.HeldBack,
				"review", run.Review, "approvals_required", run.ApprovalsRequired, "expires_at", run.ExpiresAt)
			return run, nil
		}
		// Nothing is due: the run finishes, destroying nothing.
		destroy = run.ApprovedAt != nil
	}
	if destroy {
		for {
			n, err := r.Store.DestroyBatch(ctx, runID, size, r.destroy)
			if err != nil {
				return nil, fmt.Errorf("run %s: %w", runID, err)
			}
			if n == 0 {
				break
			}
		}
		for {
			n, err := r.Store.DestroyIdentities(ctx, runID, size, r.destroy)
			if err != nil {
				return nil, fmt.Errorf("run %s: %w", runID, err)
			}
			if n == 0 {
				break
			}
		}
	}
	run, err = r.Store.FinishRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	r.log().Info("retention run done", "run", runID, "dry_run", run.DryRun, "as_of", run.AsOf.String(), "due", run.Due,
		"destroyed", run.Destroyed, "held_back", run.HeldBack, "review", run.Review, "duration", time.Since(start))
	return run, nil
}

// destroy lifts legal holds left on objects (their holds are released: the
// store checked), then removes every version of every key in one batch.
func (r *Runner) destroy(ctx context.Context, keys, heldKeys []string) (map[string]error, error) {
	failed := map[string]error{}
	for _, k := range heldKeys {
		if err := r.Blobs.SetLegalHold(ctx, k, false); err != nil && casefile.ErrorKind(err) != casefile.ENotFound {
			failed[k] = err
		}
	}
	rest := keys
	if len(failed) > 0 {
		rest = make([]string, 0, len(keys))
		for _, k := range keys {
			if failed[k] == nil {
				rest = append(rest, k)
			}
		}
	}
	more, err := r.Blobs.DestroyMany(ctx, rest)
	for k, e := range more {
		failed[k] = e
	}
	return failed, err
}

// parallel calls fn for each change with n workers and returns the changes
// that succeeded and the first error.
func parallel(ctx context.Context, cs []casefile.LockChange, n int, fn func(context.Context, casefile.LockChange) error) ([]casefile.LockChange, error) {
	var mu sync.Mutex
	var ok []casefile.LockChange
	var errs []error
	ch := make(chan casefile.LockChange)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				err := fn(ctx, c)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", c.Key, err))
				} else {
					ok = append(ok, c)
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cs {
		ch <- c
	}
	close(ch)
	wg.Wait()
	return ok, errors.Join(errs...)
}
