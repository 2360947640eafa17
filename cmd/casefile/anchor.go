package main

import (
	"context"
	"errors"
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
	// checks keeps each verification for the audit-integrity report.
	checks casefile.ReportStore
}

func (a anchoredAudit) VerifyAudit(ctx context.Context) (*casefile.AuditVerification, error) {
	v, err := a.AuditService.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	err = a.anchors.Check(ctx, v)
	return v, errors.Join(err, recordVerification(ctx, a.checks, v, err))
}

// recordVerification keeps a verification's outcome (audit_checks): the
// audit-integrity report shows the last one and every failure. A
// verification whose anchors could not be read is kept as failed, with why.
func recordVerification(ctx context.Context, checks casefile.ReportStore, v *casefile.AuditVerification, anchorErr error) error {
	if checks == nil {
		return nil
	}
	c := &casefile.AuditCheck{Kind: "verify", OK: v.OK && anchorErr == nil, Events: &v.Events, FirstBadSeq: v.FirstBadSeq,
		Problem: v.Problem, AnchoredAt: v.AnchoredAt}
	if v.Anchors > 0 {
		c.Anchors = &v.Anchors
	}
	if anchorErr != nil && c.Problem == "" {
		c.Problem = "the anchors in the bucket could not be checked: " + casefile.ErrorMessage(anchorErr)
	}
	return checks.RecordAuditCheck(ctx, c)
}

// writeAnchor writes an anchor and keeps what happened (audit_checks): a new
// anchor or a failure; nothing when the heads had not moved.
func writeAnchor(ctx context.Context, an *anchor.Anchorer, checks casefile.ReportStore) (string, error) {
	key, err := an.Write(ctx)
	if err == nil && key == "" {
		return "", nil
	}
	c := &casefile.AuditCheck{Kind: "anchor", OK: err == nil, AnchorKey: key}
	if err != nil {
		c.Problem = casefile.ErrorMessage(err)
	} else {
		now := time.Now().UTC()
		c.AnchoredAt = &now
	}
	return key, errors.Join(err, checks.RecordAuditCheck(ctx, c))
}

// cmdAuditAnchor writes an anchor now (the reconciliation does it every run).
func cmdAuditAnchor(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	key, err := writeAnchor(ctx, a.anchorer(), a.db)
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
	if rerr := recordVerification(ctx, db, v, err); rerr != nil {
		return rerr
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
