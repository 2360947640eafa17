package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/council/casefile/export"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/workers"
)

// exportService wires the export builder to the stores.
func (a *app) exportService() *export.Service {
	return &export.Service{
		Exports:      a.db,
		KeepFor:      time.Duration(a.cfg.ExportKeepDays) * 24 * time.Hour,
		FinalAttempt: workers.FinalAttempt,
		Destroy:      a.s3.Destroy,
		Builder: &export.Builder{Source: a.db, FontDir: a.cfg.PDFFontDir, Open: func(ctx context.Context, key string) (io.ReadCloser, error) {
			rc, _, err := a.s3.Get(ctx, key, nil)
			return rc, err
		}},
		Put: func(ctx context.Context, key string, r io.Reader) error {
			_, err := a.s3.Put(ctx, key, r, -1, "application/zip", noRetention)
			return err
		},
	}
}

// openObject opens a stored object for the API's downloads.
func (a *app) openObject(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	return a.s3.Get(ctx, key, (*s3.Range)(nil))
}

// cmdExportVerify checks a bundle against its manifest. It needs no services.
func cmdExportVerify(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: casefile export verify BUNDLE.zip")
		return exitError(2)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := export.Verify(f, st.Size())
	if err != nil {
		fmt.Fprintf(stdout, "%s: NOT a valid casefile bundle: %v\n", args[0], err)
		return exitError(1)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "MISMATCH %s\n", p)
	}
	m := rep.Manifest
	if !rep.OK() {
		fmt.Fprintf(stdout, "%s: %d problem(s); the bundle does not match its manifest\n", args[0], len(rep.Problems))
		return exitError(1)
	}
	fmt.Fprintf(stdout, "%s: intact: %d files match the manifest (person %s, generated %s by %s, audit event %d %s)\n",
		args[0], rep.Files, m.Person.ExternalRef, m.GeneratedAt.Format("2006-01-02 15:04:05Z07:00"), m.GeneratedBy, m.Audit.Seq, m.Audit.Hash)
	return nil
}
