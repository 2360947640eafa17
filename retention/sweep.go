package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/council/casefile"
)

// SweepStore is what the periodic sweep needs from storage.
type SweepStore interface {
	// TryLock takes a session lock if free, so two schedulers never sweep at once.
	TryLock(ctx context.Context, key int64) (release func(), ok bool, err error)
	RecomputeRetention(ctx context.Context) (int, error)
	SyncHoldIntent(ctx context.Context) (int64, error)
	PendingLegalHolds(ctx context.Context, limit int) ([]casefile.LockChange, error)
	MarkLegalHoldsApplied(ctx context.Context, cs []casefile.LockChange) error
	PendingRetainUntil(ctx context.Context, today casefile.Date, after string, limit int) ([]casefile.LockChange, error)
	MarkRetainUntil(ctx context.Context, cs []casefile.LockChange) error
	LiveRun(ctx context.Context) (string, error)
	// ExpireRuns closes disposal lists not approved in time.
	ExpireRuns(ctx context.Context) (int, error)
	CreateRun(ctx context.Context, dryRun bool, asOf casefile.Date) (*casefile.RetentionRun, error)
}

// sweepLockKey is the advisory lock of the sweep ("swep").
const sweepLockKey = 0x73776570

// holdsLockKey is the advisory lock of the legal-hold sync ("lhld").
const holdsLockKey = 0x6c686c64

// Sweeper is the periodic sweep and the legal-hold sync.
type Sweeper struct {
	Store SweepStore
	Blobs Blobs
	Log   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Workers is how many object-store calls run at once (default 8).
	Workers int
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Sweeper) workers() int {
	if s.Workers <= 0 {
		return 8
	}
	return s.Workers
}

// SweepReport says what one sweep did.
type SweepReport struct {
	Skipped     bool   // another sweep was running
	Assessed    int    // persons assessed again
	LegalHolds  int    // objects whose legal hold changed
	RetainUntil int    // objects whose retain-until moved later
	Expired     int    // disposal lists closed because nobody approved them in time
	RunID       string // the real run started, if any (it stops at awaiting_approval)
	LiveRunID   string // the run already under way, if one was
}

// Handle is the handler of casefile.TaskRetentionSweep.
func (s *Sweeper) Handle(ctx context.Context, _ []byte) error {
	_, err := s.Sweep(ctx)
	return err
}

// HandleSync is the handler of casefile.TaskRetentionSync, queued when a
// hold is placed or released: legal holds follow the holds, and retain-until
// dates move later where due.
func (s *Sweeper) HandleSync(ctx context.Context, _ []byte) error {
	if _, err := s.SyncHolds(ctx); err != nil {
		return err
	}
	_, err := s.SyncRetainUntil(ctx)
	return err
}

// Sweep is the daily work: assess every person again (the schedule may have
// changed), bring legal holds and retain-until dates into line, expire
// disposal lists nobody approved in time, then start a real run as of today
// unless one is under way. The run stops at awaiting_approval with its
// disposal list: the system never approves. Two sweeps never overlap.
func (s *Sweeper) Sweep(ctx context.Context) (*SweepReport, error) {
	rep := &SweepReport{}
	release, ok, err := s.Store.TryLock(ctx, sweepLockKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		rep.Skipped = true
		s.log().Info("retention sweep already running elsewhere; skipped")
		return rep, nil
	}
	defer release()
	if rep.Assessed, err = s.Store.RecomputeRetention(ctx); err != nil {
		return nil, err
	}
	if rep.LegalHolds, err = s.SyncHolds(ctx); err != nil {
		return nil, err
	}
	if rep.RetainUntil, err = s.SyncRetainUntil(ctx); err != nil {
		return nil, err
	}
	if rep.Expired, err = s.Store.ExpireRuns(ctx); err != nil {
		return nil, err
	}
	if rep.LiveRunID, err = s.Store.LiveRun(ctx); err != nil {
		return nil, err
	}
	if rep.LiveRunID == "" {
		actx := casefile.WithActor(ctx, casefile.SystemActor("retention"))
		run, err := s.Store.CreateRun(actx, false, casefile.DateOf(s.now().UTC()))
		switch {
		case casefile.ErrorCode(err) == "run_in_progress":
			// Another process started one between our check and now.
		case err != nil:
			return nil, err
		default:
			rep.RunID = run.ID
		}
	}
	s.log().Info("retention sweep done", "assessed", rep.Assessed, "legal_holds", rep.LegalHolds,
		"retain_until", rep.RetainUntil, "expired", rep.Expired, "run", rep.RunID, "live_run", rep.LiveRunID)
	return rep, nil
}

// SyncHolds sets legal holds on the objects of every document a hold covers
// and lifts them where no hold does any longer. The hold rows decide; this
// makes the object store agree. It returns how many objects changed.
func (s *Sweeper) SyncHolds(ctx context.Context) (int, error) {
	release, ok, err := s.Store.TryLock(ctx, holdsLockKey)
	if err != nil {
		return 0, err
	}
	if !ok {
		// Another sync is running; it will pick up our change, or the
		// next sweep will. Retry soon so that none is missed.
		return 0, errors.New("another legal-hold sync is running; retrying so that this change is not missed")
	}
	defer release()
	if _, err := s.Store.SyncHoldIntent(ctx); err != nil {
		return 0, err
	}
	n := 0
	for {
		cs, err := s.Store.PendingLegalHolds(ctx, 500)
		if err != nil || len(cs) == 0 {
			return n, err
		}
		done, ferr := parallel(ctx, cs, s.workers(), func(ctx context.Context, c casefile.LockChange) error {
			err := s.Blobs.SetLegalHold(ctx, c.Key, c.LegalHold)
			if casefile.ErrorKind(err) == casefile.ENotFound {
				return nil // no object: nothing to hold
			}
			return err
		})
		if len(done) > 0 {
			if err := s.Store.MarkLegalHoldsApplied(ctx, done); err != nil {
				return n, err
			}
		}
		n += len(done)
		if ferr != nil {
			return n, ferr
		}
	}
}

// SyncRetainUntil moves Object Lock retain-until dates later: to the
// disposal date where it is known, otherwise a rolling year ahead. It
// returns how many objects changed.
func (s *Sweeper) SyncRetainUntil(ctx context.Context) (int, error) {
	today := casefile.DateOf(s.now().UTC())
	n, after := 0, ""
	for {
		cs, err := s.Store.PendingRetainUntil(ctx, today, after, 500)
		if err != nil || len(cs) == 0 {
			return n, err
		}
		after = cs[len(cs)-1].DocumentID
		done, ferr := parallel(ctx, cs, s.workers(), func(ctx context.Context, c casefile.LockChange) error {
			err := s.Blobs.SetRetention(ctx, c.Key, c.RetainUntil.Time())
			if casefile.ErrorKind(err) == casefile.ENotFound {
				return nil
			}
			return err
		})
		if len(done) > 0 {
			if err := s.Store.MarkRetainUntil(ctx, done); err != nil {
				return n, err
			}
		}
		n += len(done)
		if ferr != nil {
			return n, ferr
		}
	}
}
