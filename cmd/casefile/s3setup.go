package main

import (
	"context"
	"fmt"
	"io"
	"time"

	s3policy "github.com/council/casefile/deploy/s3"
	"github.com/council/casefile/storage/s3"
)

// cmdS3Setup, as the S3 server's root (CASEFILE_S3_ROOT_ACCESS_KEY and
// _SECRET_KEY, given to this command only), makes the bucket with Object
// Lock if it is missing and applies deploy/s3/bucket-policy.json for the
// app's, records and anchor credentials that casefile is configured with.
// The service itself then runs with those three, never the root.
func cmdS3Setup(ctx context.Context, cfg *config, getenv func(string) string, stdout io.Writer) error {
	rootKey, rootSecret := getenv("CASEFILE_S3_ROOT_ACCESS_KEY"), getenv("CASEFILE_S3_ROOT_SECRET_KEY")
	if rootKey == "" || rootSecret == "" {
		return fmt.Errorf("CASEFILE_S3_ROOT_ACCESS_KEY and CASEFILE_S3_ROOT_SECRET_KEY: the S3 server's root credential is needed to make the bucket and its policy")
	}
	keys := map[string]string{"CASEFILE_S3_ACCESS_KEY": cfg.S3AccessKey, "CASEFILE_S3_RECORDS_ACCESS_KEY": cfg.S3RecordsAccessKey,
		"CASEFILE_ANCHOR_S3_ACCESS_KEY": cfg.AnchorS3AccessKey}
	for name, k := range keys {
		if k == "" || k == rootKey {
			return fmt.Errorf("%s: set it to a credential of its own (not the root's) before applying the bucket policy", name)
		}
	}
	sc := cfg.s3Config()
	sc.AccessKey, sc.SecretKey = rootKey, rootSecret
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := s3.Open(cctx, sc, nil) // makes the bucket with Object Lock when missing
	if err != nil {
		return err
	}
	policy := s3policy.Bucket(cfg.S3Bucket, cfg.S3AccessKey, cfg.S3RecordsAccessKey, cfg.AnchorS3AccessKey)
	if err := st.Client().SetBucketPolicy(cctx, cfg.S3Bucket, policy); err != nil {
		return fmt.Errorf("apply the bucket policy to %s: %w", cfg.S3Bucket, err)
	}
	fmt.Fprintf(stdout, "bucket %s: Object Lock on; policy applied for %s (app), %s (records), %s (anchors)\n",
		cfg.S3Bucket, cfg.S3AccessKey, cfg.S3RecordsAccessKey, cfg.AnchorS3AccessKey)
	return nil
}
