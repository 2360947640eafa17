package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/extract"
	"github.com/council/casefile/storage/s3"
)

// extractTask carries out document:extract tasks with the process's one
// extractor (which bounds the subprocesses running at once).
func (a *app) extractTask() *extract.Task {
	a.extractOnce.Do(func() { a.extractor = &extract.Extractor{Limits: a.cfg.Extract} })
	return &extract.Task{Store: a.db, Open: s3.Blobs{S: a.s3}.Get, Extractor: a.extractor, Log: a.log}
}

// textRequeueAfter is how long a document's text may wait before the
// periodic reconciliation queues its extraction again (its task was lost,
// or it was stored before extraction existed).
const textRequeueAfter = time.Hour

// requeueText is the text's part of the periodic reconciliation.
func (a *app) requeueText(ctx context.Context) error {
	n, err := a.db.QueueTextBackfill(ctx, time.Now().Add(-textRequeueAfter), 1000)
	if n > 0 {
		a.log.Info("document text queued again", "documents", n)
	}
	return err
}

// cmdExtractBackfill queues the extraction of every document whose text
// is still pending: those stored before extraction existed, and any whose
// task was lost. The workers do the extraction.
func cmdExtractBackfill(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("extract backfill", stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: casefile extract backfill")
		return exitError(2)
	}
	log := newLogger(cfg, stderr)
	if _, err := migrateDB(ctx, cfg, log); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = casefile.WithActor(ctx, cliActor())
	start, total := time.Now(), 0
	for {
		n, err := db.QueueTextBackfill(ctx, start, 1000)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		total += n
	}
	fmt.Fprintf(stdout, "queued %d document(s) for text extraction; the workers (casefile worker, or run) extract them\n", total)
	return nil
}

// cmdExtractFile prints the text extraction finds in a local file, with
// the configured limits: to see what a document will give before it is
// uploaded, or why one failed.
func cmdExtractFile(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("extract file", stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: casefile extract file PATH")
		return exitError(2)
	}
	e := &extract.Extractor{Limits: cfg.Extract}
	start := time.Now()
	r := e.Extract(ctx, fs.Arg(0), fs.Arg(0), "")
	fmt.Fprintln(stdout, r.Text)
	fmt.Fprintf(stderr, "state %s, source %s, %d bytes in %v", r.State, r.Source, len(r.Text), time.Since(start).Round(time.Millisecond))
	if r.Warning != "" {
		fmt.Fprintf(stderr, "; warning: %s", r.Warning)
	}
	fmt.Fprintln(stderr)
	if r.State == casefile.TextFailed {
		return exitError(1)
	}
	return nil
}
