package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
)

// pausedQueue is the server's task queue, paused: tasks are still queued
// (the outbox relay runs), none is taken until it resumes.
type pausedQueue struct {
	in      *asynq.Inspector
	name    string
	resumed bool
}

func pauseQueue(s *server) (*pausedQueue, error) {
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: env("CASEFILE_REDIS_ADDR", "127.0.0.1:6379")})
	q := &pausedQueue{in: in, name: s.queue}
	if err := in.PauseQueue(q.name); err != nil {
		in.Close()
		return nil, fmt.Errorf("pause the task queue: %w", err)
	}
	return q, nil
}

// resume lets the workers take tasks again (once; deferred as well).
func (q *pausedQueue) resume() {
	if !q.resumed {
		q.resumed = true
		q.in.UnpauseQueue(q.name) //nolint:errcheck
		q.in.Close()
	}
}

// drain resumes the queue and measures the background work the uploads
// queued (text extraction of their documents), until the outbox is relayed
// and no task is pending or running; it prints its time and CPU apart from
// the upload figures.
func (q *pausedQueue) drain(s *server, measured, warm int) error {
	uploads := measured + warm
	ctx := context.Background()
	db, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	waiting := func() (int, error) {
		var outbox int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE enqueued_at IS NULL").Scan(&outbox); err != nil {
			return 0, err
		}
		info, err := q.in.GetQueueInfo(q.name)
		if err != nil {
			return outbox, nil // no task queued yet
		}
		return outbox + info.Pending + info.Active, nil
	}
	processed := func() int {
		if info, err := q.in.GetQueueInfo(q.name); err == nil {
			return info.ProcessedTotal
		}
		return 0
	}
	done0 := processed()
	children0 := childrenCPU(s.cmd.Process.Pid)
	start := time.Now()
	m, err := s.measure("", func() error {
		q.in.UnpauseQueue(q.name) //nolint:errcheck
		for {
			n, err := waiting()
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			if time.Since(start) > 10*time.Minute {
				return fmt.Errorf("the uploads' background tasks did not finish in 10 minutes (%d waiting)", n)
			}
			time.Sleep(250 * time.Millisecond) // GetQueueInfo costs Redis some work
		}
	})
	if err != nil {
		return err
	}
	tasks := processed() - done0
	children := childrenCPU(s.cmd.Process.Pid) - children0
	q.resume()
	fmt.Printf("  then, measured apart (the queue was paused during the figures above): the background work the %d uploads queued (%d of them the warm-up's; %d tasks, text extraction of their files and attachments), %.2f s\n",
		uploads, warm, tasks, m.took.Seconds())
	fmt.Printf("  its CPU per upload: casefile %.2f ms, its subprocesses (tesseract, ...) %.2f ms, PostgreSQL %.2f ms\n",
		m.casefile/float64(uploads)*1000, children/float64(uploads)*1000, m.postgres/float64(uploads)*1000)
	fmt.Printf("  background %s; ended subprocesses %.2f\n", m.all, children)
	return nil
}
