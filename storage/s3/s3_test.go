package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/council/casefile/internal/testenv"
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
