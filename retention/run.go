package retention

import (
	"context"
	"encoding/json"
	"time"

	"github.com/council/casefile"
)

// Objects is the object store as retention needs it.
type Objects interface {
	DestroyObjects(ctx context.Context, objs []casefile.DueObject) (map[string]error, error)
	Destroy(ctx context.Context, key string) error
	SetRetention(ctx context.Context, key string, until time.Time) error
	SetLegalHold(ctx context.Context, key string, on bool) error
}

// Engine carries out retention runs and keeps Object Lock in line with the
// schedule and the holds.
type Engine struct {
	Store   casefile.RetentionStore
	Objects Objects
	Batch   int
	Now     func() time.Time
}

func (e *Engine) today() casefile.Date {
	if e.Now != nil {
		return casefile.DateOf(e.Now().UTC())
	}
	return casefile.Today()
}

// RunPayload is the payload of casefile.TaskRetentionRun.
type RunPayload struct {
	RunID string `json:"run_id"`
}

// HandleRun carries out one run. Every step is idempotent, so a run that was
// interrupted (a worker killed) resumes where it stopped when the task is
// delivered again, destroying nothing twice.
func (e *Engine) HandleRun(ctx context.Context, payload []byte) error {
	var p RunPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.RunID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "retention run payload: %s", payload)
	}
	run, err := e.Store.StartRun(ctx, p.RunID)
	if casefile.ErrorCode(err) == "run_finished" {
		return nil
	}
	if err != nil {
		return err
	}
	if err := e.Store.PlanRun(ctx, run.ID); err != nil {
		return err
	}
	if !run.DryRun {
		batch := e.Batch
		if batch <= 0 {
			batch = 1000
		}
		for {
			n, err := e.Store.DestroyBatch(ctx, run.ID, batch, func(objs []casefile.DueObject) (map[string]error, error) {
				failed, err := e.Objects.DestroyObjects(ctx, objs)
				if err != nil {
					return nil, err
				}
				// A stale legal hold (from a hold just released) refuses the
				// batch delete; those go one by one, lifting the hold first.
				for k := range failed {
					if err := e.Objects.Destroy(ctx, k); err == nil {
						delete(failed, k)
					}
				}
				return failed, nil
			})
			if err != nil {
				return err
			}
			if n < batch {
				break
			}
		}
		if err := e.Store.DestroyNotesAndIdentities(ctx, run.ID); err != nil {
			return err
		}
	}
	_, err = e.Store.FinishRun(ctx, run.ID)
	return err
}

// Sync brings the Object Lock state of stored originals in line: the
// retain-until reaches each record's disposal date (or rolls a year ahead
// while no date is known), and legal holds follow the holds.
func (e *Engine) Sync(ctx context.Context, _ []byte) error {
	for {
		targets, err := e.Store.ObjectLockTargets(ctx, e.today(), 500)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := e.Objects.SetLegalHold(ctx, t.ObjectKey, t.LegalHold); err != nil && casefile.ErrorKind(err) != casefile.ENotFound {
				return err
			}
			if err := e.Objects.SetRetention(ctx, t.ObjectKey, t.RetainUntil.Time()); err != nil && casefile.ErrorKind(err) != casefile.ENotFound {
				return err
			}
			if err := e.Store.RecordObjectLock(ctx, t); err != nil {
				return err
			}
		}
		if len(targets) < 500 {
			return nil
		}
	}
}

// Sweep is the periodic task: it syncs Object Lock and starts a real run as
// of today unless one is already in progress.
func (e *Engine) Sweep(ctx context.Context, _ []byte) error {
	if err := e.Sync(ctx, nil); err != nil {
		return err
	}
	live, err := e.Store.LiveRun(ctx)
	if err != nil || live != "" {
		return err
	}
	_, err = e.Store.CreateRun(ctx, false, e.today())
	if casefile.ErrorCode(err) == "run_in_progress" {
		return nil
	}
	return err
}
