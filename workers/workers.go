// Package workers runs casefile's background work on asynq: the handlers for
// queued tasks, the periodic scheduler, and the relay that moves work from the
// database outbox to Redis. It is a thin edge: handlers decode a payload and
// call the business logic.
package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"github.com/council/casefile"
)

// Config configures the workers.
type Config struct {
	Redis       asynq.RedisConnOpt
	Queue       string // the queue tasks go to and are taken from
	Concurrency int
	// Periodic maps a task type to its cron spec (UTC); empty disables it.
	Periodic map[string]string
	// RelayInterval is how often the outbox is polled.
	RelayInterval time.Duration
	// ShutdownTimeout is how long in-flight tasks get to finish on stop
	// before they are handed back to the queue.
	ShutdownTimeout time.Duration
	Log             *slog.Logger
}

// HandlerFunc carries out one task. It must be idempotent: a task can be
// delivered more than once. Returning an error of kind invalid or not_found
// stops retries; any other error retries with backoff.
type HandlerFunc func(ctx context.Context, payload []byte) error

// Workers is the set of background handlers, the scheduler and the relay.
type Workers struct {
	cfg      Config
	outbox   casefile.Outbox
	client   *asynq.Client
	handlers map[string]HandlerFunc
	log      *slog.Logger
}

// New builds the workers. outbox may be nil when nothing is relayed.
func New(cfg Config, outbox casefile.Outbox) *Workers {
	if cfg.Queue == "" {
		cfg.Queue = "casefile"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.RelayInterval <= 0 {
		cfg.RelayInterval = time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 20 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Workers{cfg: cfg, outbox: outbox, client: asynq.NewClient(cfg.Redis),
		handlers: map[string]HandlerFunc{}, log: cfg.Log}
}

// Handle registers the handler of a task type.
func (w *Workers) Handle(taskType string, h HandlerFunc) { w.handlers[taskType] = h }

// Ping checks that Redis answers (for /readyz).
func (w *Workers) Ping(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- w.client.Ping() }()
	select {
	case err := <-done:
		if err != nil {
			return casefile.Unavailable("Redis", err)
		}
		return nil
	case <-ctx.Done():
		return casefile.Unavailable("Redis", ctx.Err())
	}
}

// Close releases the Redis client.
func (w *Workers) Close() error { return w.client.Close() }

// Enqueue sends one item to the queue; the same TaskID twice counts once.
func (w *Workers) Enqueue(ctx context.Context, it *casefile.OutboxItem) error {
	_, err := w.client.EnqueueContext(ctx, asynq.NewTask(it.TaskType, it.Payload), asynq.TaskID(it.TaskID),
		asynq.Queue(w.cfg.Queue), asynq.MaxRetry(MaxRetry), asynq.Retention(24*time.Hour), asynq.Timeout(2*time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // already queued or recently done: the handler is idempotent anyway
	}
	return err
}

// RelayOnce moves pending outbox items to the queue; it returns how many.
func (w *Workers) RelayOnce(ctx context.Context) (int, error) {
	return w.outbox.RelayOutbox(ctx, 100, func(it *casefile.OutboxItem) error {
		return w.Enqueue(ctx, it)
	})
}

// relay polls the outbox until ctx ends. While Redis is down items stay in
// the outbox; they go out once it is back, with no restart needed.
func (w *Workers) relay(ctx context.Context) {
	t := time.NewTicker(w.cfg.RelayInterval)
	defer t.Stop()
	for {
		n, err := w.RelayOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("outbox relay", "err", err)
		}
		if n == 100 {
			continue // more waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// mux adapts our handlers to asynq, with the system actor and error policy.
func (w *Workers) mux() *asynq.ServeMux {
	m := asynq.NewServeMux()
	for typ, h := range w.handlers {
		m.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error {
			ctx = casefile.WithActor(ctx, casefile.SystemActor(typ))
			start := time.Now()
			err := h(ctx, t.Payload())
			switch casefile.ErrorKind(err) {
			case casefile.EInvalid, casefile.ENotFound, casefile.EUnprocessable:
				w.log.Warn("task refused; not retrying", "type", typ, "err", err)
				return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
			}
			if err != nil {
				w.log.Warn("task failed; will retry", "type", typ, "err", err)
				return err
			}
			w.log.Info("task done", "type", typ, "duration", time.Since(start))
			return nil
		})
	}
	return m
}

// Run processes tasks, runs the scheduler and the relay until ctx ends, then
// stops cleanly: in-flight tasks get ShutdownTimeout to finish, after which
// asynq hands them back to the queue.
func (w *Workers) Run(ctx context.Context) error {
	srv := asynq.NewServer(w.cfg.Redis, asynq.Config{
		Concurrency:     w.cfg.Concurrency,
		Queues:          map[string]int{w.cfg.Queue: 1},
		ShutdownTimeout: w.cfg.ShutdownTimeout,
		RetryDelayFunc:  RetryDelay,
		Logger:          asynqLogger{w.log},
		LogLevel:        asynq.WarnLevel,
	})
	if err := srv.Start(w.mux()); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	sched, err := w.startScheduler()
	if err != nil {
		srv.Shutdown()
		return err
	}
	var wg sync.WaitGroup
	if w.outbox != nil {
		wg.Add(1)
		go func() { defer wg.Done(); w.relay(ctx) }()
	}
	<-ctx.Done()
	<-sched.Stop().Done()
	srv.Shutdown()
	wg.Wait()
	return nil
}

// startScheduler starts enqueueing the periodic tasks at their cron times
// (UTC). Every worker process runs a scheduler, so that the schedule goes on
// while any of them is up; each tick is enqueued once however many fire it
// (enqueueTick).
func (w *Workers) startScheduler() (*cron.Cron, error) {
	c := cron.New(cron.WithLocation(time.UTC), cron.WithParser(cronParser))
	for typ, spec := range w.cfg.Periodic {
		if spec == "" {
			continue
		}
		// Cron specs fire on whole minutes; "@every" ones wherever they
		// started, so their ticks are told apart by the second.
		slot := time.Minute
		if strings.HasPrefix(spec, "@every") {
			slot = time.Second
		}
		if _, err := c.AddFunc(spec, func() { w.enqueueTick(typ, time.Now().UTC().Truncate(slot)) }); err != nil {
			return nil, fmt.Errorf("schedule %s (%q): %w", typ, spec, err)
		}
	}
	c.Start()
	return c, nil
}

// cronParser reads the cron specs of Config.Periodic: five fields, or a
// descriptor such as @daily or @every 15m.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// enqueueTick enqueues the periodic task of one tick under an id made of its
// type and the tick's time. A second scheduler firing the same tick, even
// late, after the first one's task has run, is refused as a task id conflict,
// because a done task keeps its id for tickRetention. (asynq's Unique lock is
// released when the task succeeds, so a late second enqueue ran it again.)
func (w *Workers) enqueueTick(typ string, tick time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := w.client.EnqueueContext(ctx, asynq.NewTask(typ, nil), asynq.TaskID(typ+"@"+tick.Format(time.RFC3339)),
		asynq.Queue(w.cfg.Queue), asynq.MaxRetry(3), asynq.Retention(tickRetention))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		w.log.Warn("scheduler enqueue", "type", typ, "err", err)
	}
}

// tickRetention is how long a periodic task's id stays taken after it ran:
// far longer than the clocks of two worker machines can disagree.
const tickRetention = time.Hour

// asynqLogger routes asynq's logs into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// MaxRetry is how many times a failed task is tried again.
const MaxRetry = 25

// RetryDelay is the wait before retry n (from 0): 10 s, doubling, at most an
// hour, with up to 10% added so that tasks failed together spread out. A
// short outage is ridden out within minutes; a backing service that stays
// down makes the task fail for good (a ticket marked failed, with why) after
// about a day of retries, not the three weeks of asynq's default.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Hour
	if n < 9 {
		d = 10 * time.Second << n
	}
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}

// FinalAttempt reports whether the task running in ctx will not be retried
// if this delivery fails, so that a handler can record the failure where
// people look (a ticket's state) rather than leave it to the queue's archive.
// Outside a task it reports false.
func FinalAttempt(ctx context.Context) bool {
	n, ok1 := asynq.GetRetryCount(ctx)
	max, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && n >= max
}
