package testenv

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile/storage/s3"
)

// A test's bucket is removed when the test ends, with objects under
// governance retention and a legal hold, several versions and a delete
// marker: test buckets do not pile up in the S3 server's data.
func TestBucketIsRemovedAtCleanup(t *testing.T) {
	var bucket string
	t.Run("a test with a bucket", func(t *testing.T) {
		st := S3(t)
		bucket = st.Bucket()
		ctx := context.Background()
		until := time.Now().AddDate(1, 0, 0)
		for _, key := range []string{"documents/a", "documents/a", "documents/b", "exports/c"} {
			if _, err := st.Put(ctx, key, bytes.NewReader([]byte(key)), int64(len(key)), "text/plain", until); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetLegalHold(ctx, "documents/b", true); err != nil {
			t.Fatal(err)
		}
		// No version: a delete marker.
		if err := st.Client().RemoveObject(ctx, bucket, "exports/c", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	c := S3(t).Client()
	if ok, err := c.BucketExists(context.Background(), bucket); err != nil || ok {
		t.Fatalf("bucket %s still there after its test ended (%v)", bucket, err)
	}
}

// Buckets left behind (a failed test's, or one holding anchors locked for a
// day) are dropped by a later test run once they are old enough.
func TestStaleBucketsAreDropped(t *testing.T) {
	cfg := S3Config(t)
	cfg.Bucket = "stale-" + RandomName(10)
	st, err := s3.Open(context.Background(), cfg, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), "documents/x", bytes.NewReader([]byte("x")), 1, "text/plain", time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	dropStaleBuckets(cfg, cfg.Bucket, time.Hour, 20) // not old enough
	if ok, err := st.Client().BucketExists(context.Background(), cfg.Bucket); err != nil || !ok {
		t.Fatalf("a new bucket was dropped (%v)", err)
	}
	dropStaleBuckets(cfg, cfg.Bucket, 0, 20)
	if ok, err := st.Client().BucketExists(context.Background(), cfg.Bucket); err != nil || ok {
		t.Fatalf("the stale bucket is still there (%v)", err)
	}
}
