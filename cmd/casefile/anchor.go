package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/anchor"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

func (a *app) anchorer() *anchor.Anchorer {
	return newAnchorer(a.cfg, a.db, a.anchorS3)
}

// newAnchorer checks and writes anchors in store (the anchor credential's
// store when CASEFILE_ANCHOR_S3_ACCESS_KEY is set).
func newAnchorer(cfg *config, db *postgres.DB, store *s3.Store) *anchor.Anchorer {
	return &anchor.Anchorer{Store: db, Objects: s3.Anchors{S: store, Governance: cfg.AnchorLockMode == "governance"},
		Retention: cfg.AnchorLock}
}

// openRecordsStore opens the bucket with the records credential (which may
// destroy objects and lift legal holds), or returns fallback when there is
// none.
func openRecordsStore(ctx context.Context, cfg *config, fallback *s3.Store) (*s3.Store, error) {
	if cfg.S3RecordsAccessKey == "" {
		return fallback, nil
	}
	sc := cfg.s3Config()
	sc.AccessKey, sc.SecretKey = cfg.S3RecordsAccessKey, cfg.S3RecordsSecretKey
	st, err := s3.Open(ctx, sc, nil)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_S3_RECORDS_ACCESS_KEY: %w", err)
	}
	return st, nil
}

// openAnchorStore opens the bucket with the anchor credential, or returns
// fallback when there is none.
func openAnchorStore(ctx context.Context, cfg *config, fallback *s3.Store) (*s3.Store, error) {
	if cfg.AnchorS3AccessKey == "" {
		return fallback, nil
	}
	sc := cfg.s3Config()
	sc.AccessKey, sc.SecretKey = cfg.AnchorS3AccessKey, cfg.AnchorS3SecretKey
	st, err := s3.Open(ctx, sc, nil)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_ANCHOR_S3_ACCESS_KEY: %w", err)
	}
	return st, nil
}

// anchoredAudit is the audit log whose verification also checks every
// anchor kept in the bucket.
type anchoredAudit struct {
	casefile.AuditService
	anchors *anchor.Anchorer
}

func (a anchoredAudit) VerifyAudit(ctx context.Context) (*casefile.AuditVerification, error) {
	v, err := a.AuditService.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	return v, a.anchors.Check(ctx, v)
}

// cmdAuditAnchor writes an anchor now (the reconciliation does it every run).
func cmdAuditAnchor(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	key, err := a.anchorer().Write(ctx)
	if err != nil {
		return err
	}
	if key == "" {
		fmt.Fprintln(stdout, "the latest anchor already holds the audit log's heads")
		return nil
	}
	fmt.Fprintf(stdout, "anchored the audit log's heads in %s\n", key)
	return nil
}

func cmdAuditVerify(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	anchorNote := ""
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	store, err := s3.Open(cctx, cfg.s3Config(), nil)
	if err == nil {
		store, err = openAnchorStore(cctx, cfg, store)
	}
	if err == nil {
		err = newAnchorer(cfg, db, store).Check(ctx, v)
	}
	switch {
	case err != nil:
		anchorNote = "; the anchors in the bucket were NOT checked (" + casefile.ErrorMessage(err) + ")"
	case v.AnchoredAt != nil && v.Anchors > 1:
		anchorNote = fmt.Sprintf("; it matches the anchor kept in the bucket on %s and the %d before it",
			v.AnchoredAt.UTC().Format(time.RFC3339), v.Anchors-1)
	case v.AnchoredAt != nil:
		anchorNote = "; it matches the anchor kept in the bucket on " + v.AnchoredAt.UTC().Format(time.RFC3339)
	default:
		anchorNote = "; no anchor in the bucket yet"
	}
	if !v.OK {
		if *v.FirstBadSeq == 0 {
			fmt.Fprintf(stdout, "audit log BROKEN (%d events): %s\n", v.Events, v.Problem)
		} else {
			fmt.Fprintf(stdout, "audit log BROKEN at event %d of %d: %s\n", *v.FirstBadSeq, v.Events, v.Problem)
		}
		return exitError(1)
	}
	fmt.Fprintf(stdout, "audit log intact: %d events, hash chain verified%s\n", v.Events, anchorNote)
	return nil
}
