package workers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/council/casefile/internal/testenv"
)

// Two worker processes each run a scheduler. A tick enqueued by the second
// one late, after the first one's task has already run, must not run again.
func TestTickRunsOnceWhenASecondSchedulerFiresLate(t *testing.T) {
	cfg := Config{Redis: asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, Queue: testenv.Queue(t), Log: testenv.Logger(t)}
	var runs atomic.Int32
	w1, w2 := New(cfg, nil), New(cfg, nil)
	defer w1.Close()
	defer w2.Close()
	w1.Handle("test:tick", func(context.Context, []byte) error { runs.Add(1); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w1.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitRuns := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for runs.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d", runs.Load(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	tick := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	w1.enqueueTick("test:tick", tick)
	waitRuns(1)
	w2.enqueueTick("test:tick", tick) // the second scheduler, late
	w2.enqueueTick("test:tick", tick.Add(24*time.Hour))
	waitRuns(2) // the next tick runs, and is the last to: the late one was refused
	time.Sleep(time.Second)
	if n := runs.Load(); n != 2 {
		t.Fatalf("two ticks, one fired twice: %d runs", n)
	}
}
