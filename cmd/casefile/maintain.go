package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/council/casefile/storage/postgres"
)

// cmdMaintain does, as the tables' owner (CASEFILE_MIGRATE_DATABASE_URL),
// the purges of removed and destroyed content that the service recorded
// and could not do as its own role: VACUUM, and REINDEX of the search
// indexes. Once, or every --every until stopped.
func cmdMaintain(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("maintain", stderr)
	every := fs.Duration("every", 0, "run again at this interval until stopped (e.g. 10m); 0: once")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	log := newLogger(cfg, stderr)
	for {
		done, err := maintainOnce(ctx, cfg, log)
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(stdout, "nothing to purge")
		} else {
			fmt.Fprintln(stdout, "purged", strings.Join(done, ", "))
		}
		if *every <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}

// maintainOnce connects as the owner and does what is pending.
func maintainOnce(ctx context.Context, cfg *config, log *slog.Logger) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := postgres.Open(cctx, cfg.MigrateDatabaseURL, log)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_MIGRATE_DATABASE_URL: %w", err)
	}
	defer db.Close()
	return db.Maintain(ctx)
}

// maintainEvery is how often `casefile run`, which holds the owner's URL to
// migrate, does the pending purges itself.
const maintainEvery = 5 * time.Minute

// runMaintenance does the pending purges every maintainEvery until ctx ends
// (for `casefile run`; in production run `casefile maintain --every`).
func runMaintenance(ctx context.Context, cfg *config, log *slog.Logger) {
	if cfg.MigrateDatabaseURL == "" || cfg.MigrateDatabaseURL == cfg.DatabaseURL {
		return // the service's own role does the purges, if it can
	}
	t := time.NewTicker(maintainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := maintainOnce(ctx, cfg, log); err != nil && ctx.Err() == nil {
				log.Warn("maintenance: purge of removed content as the owner failed; the next pass tries again", "err", err)
			}
		}
	}
}
