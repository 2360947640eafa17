package main

import (
	"context"
	"fmt"
	"io"

	"github.com/council/casefile"
	"github.com/council/casefile/anchor"
	"github.com/council/casefile/storage/s3"
)

func (a *app) anchorer() *anchor.Anchorer {
	return &anchor.Anchorer{Store: a.db, Objects: s3.Anchors{S: a.s3}}
}

// anchoredAudit is the audit log whose verification also checks the latest
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
