package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// The server keeps an object sent with its sha256 only when the bytes it
// received have that sha256: a payload changed on the way, or hashed wrongly,
// is refused and nothing is kept under the key.
func TestPutCheckedIsVerifiedByTheServer(t *testing.T) {
	st := testenv.S3(t)
	ctx := context.Background()
	until := time.Now().AddDate(0, 0, 1)
	body := bytes.Repeat([]byte("case record "), 5000)
	sum := sha256.Sum256(body)
	res, err := st.PutChecked(ctx, "documents/right", body, sum[:], "message/rfc822", until)
	if err != nil {
		t.Fatal(err)
	}
	if res.VersionID == "" || res.Size != int64(len(body)) {
		t.Fatalf("put = %+v", res)
	}
	rc, _, err := st.Get(ctx, "documents/right", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes (err %v), want the %d sent", len(got), err, len(body))
	}

	other := sha256.Sum256([]byte("something else"))
	if _, err := st.PutChecked(ctx, "documents/wrong", body, other[:], "", until); err == nil {
		t.Fatal("a payload whose sha256 differs from the one sent was accepted")
	}
	if _, err := st.Stat(ctx, "documents/wrong"); err == nil {
		t.Fatal("the refused object was kept")
	}
	if _, err := st.PutChecked(ctx, "documents/short", body, sum[:5], "", until); err == nil {
		t.Fatal("a truncated sha256 was accepted")
	}
}

// A stream of unknown length written through Blobs with MaxStream set is sent
// in the parts that bound needs (5 MiB for the largest upload of 1 GiB), not
// in the 16 MiB parts of a stream that may be of any length: each part is
// held in memory while it is sent.
func TestBlobsSizePartsForTheLargestUpload(t *testing.T) {
	st := testenv.S3(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("0123456789abcdef"), 12<<20/16) // 12 MiB
	for _, c := range []struct {
		blobs s3.Blobs
		parts string
	}{
		{s3.Blobs{S: st}, "-1"},
		{s3.Blobs{S: st, MaxStream: 1 << 30}, "-3"},
	} {
		key := fmt.Sprintf("documents/stream-%d", c.blobs.MaxStream)
		if _, err := c.blobs.Put(ctx, key, io.MultiReader(bytes.NewReader(body)), -1, "", time.Now().AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		etag, err := st.ETag(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.Trim(etag, `"`), c.parts) {
			t.Errorf("MaxStream %d: ETag %s, want %s parts", c.blobs.MaxStream, etag, c.parts)
		}
	}
}
