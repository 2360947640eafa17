package s3_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

func versions(t *testing.T, st *s3.Store, key string) int {
	t.Helper()
	n := 0
	for o := range st.Client().ListObjects(context.Background(), st.Bucket(), minio.ListObjectsOptions{Prefix: key, WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key == key {
			n++
		}
	}
	return n
}

func TestDestroyManyRemovesEveryVersion(t *testing.T) {
	st := testenv.S3(t)
	ctx := context.Background()
	put := func(key string) {
		t.Helper()
		if _, err := st.Put(ctx, key, bytes.NewReader([]byte("content")), 7, "text/plain", time.Now().AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	put("documents/one")
	put("documents/two")
	put("documents/two") // a second version
	put("documents/hidden")
	// A plain delete leaves a delete marker over the locked version.
	if err := st.Client().RemoveObject(ctx, st.Bucket(), "documents/hidden", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	put("documents/held")
	if err := st.SetLegalHold(ctx, "documents/held", true); err != nil {
		t.Fatal(err)
	}
	keys := []string{"documents/one", "documents/two", "documents/hidden", "documents/missing", "documents/held"}
	if versions(t, st, "documents/two") != 2 || versions(t, st, "documents/hidden") != 2 {
		t.Fatal("set-up: expected two versions")
	}
	failed, err := st.DestroyMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed["documents/held"] == nil {
		t.Fatalf("failed = %v, want only the legally held key", failed)
	}
	for _, k := range keys[:4] {
		if n := versions(t, st, k); n != 0 {
			t.Errorf("%s: %d versions left", k, n)
		}
	}
	if versions(t, st, "documents/held") != 1 {
		t.Error("an object under legal hold was destroyed")
	}
	// Again: nothing left is harmless.
	if failed, err := st.DestroyMany(ctx, keys[:4]); err != nil || len(failed) != 0 {
		t.Fatalf("second pass: %v %v", failed, err)
	}
	if err := st.SetLegalHold(ctx, "documents/held", false); err != nil {
		t.Fatal(err)
	}
	if failed, err := st.DestroyMany(ctx, []string{"documents/held"}); err != nil || len(failed) != 0 || versions(t, st, "documents/held") != 0 {
		t.Fatalf("after release: %v %v", failed, err)
	}
}
