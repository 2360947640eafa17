package ingest_test

import (
	"bytes"
	"io"
	"runtime/metrics"
	"testing"
	"testing/iotest"
	"time"

	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// forcedGCs is how many garbage collections the program has asked for
// (debug.FreeOSMemory is one), as the runtime counts them.
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Once the last large upload streaming at a time has ended, the memory it
// used goes back to the system at once (a long-running server's resident
// size then comes back down after each, instead of creeping up); a small
// upload, read whole, costs no such collection.
func TestMemoryGoesBackAfterALargeUpload(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "GIVEBACK-1")
	svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 64 << 20}
	upload := func(body []byte, size int64) {
		t.Helper()
		staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "scan.tif", Body: bytes.NewReader(body), Size: size})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Commit(ctx, staged, "", "report", ""); err != nil {
			t.Fatal(err)
		}
	}

	before := forcedGCs()
	upload(bytes.Repeat([]byte{1}, 64<<10), 64<<10)
	time.Sleep(200 * time.Millisecond)
	if n := forcedGCs() - before; n != 0 {
		t.Fatalf("a 64 KiB upload forced %d garbage collections, want none", n)
	}

	for _, size := range []int64{9 << 20, -1} { // length known, and unknown (a form's part)
		before = forcedGCs()
		upload(bytes.Repeat([]byte{byte(size)}, 9<<20), size)
		deadline := time.Now().Add(10 * time.Second)
		for forcedGCs() == before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if forcedGCs() == before {
			t.Fatalf("after a 9 MiB upload (size %d) streamed, its memory was not given back", size)
		}
	}
}

func TestReadUpToNeverGrowsPastItsLimit(t *testing.T) {
	for _, tc := range []struct {
		n, max, initial int
		end             bool
	}{
		{0, 10, 4, true}, {3, 10, 4, true}, {9, 10, 4, true}, {10, 10, 4, false}, {11, 10, 4, false},
		{3 << 10, 3<<10 + 1, 3<<10 + 1, true}, {9 << 20, 8<<20 + 1, 64 << 10, false}, {5 << 20, 8<<20 + 1, 64 << 10, true},
	} {
		src := bytes.Repeat([]byte{7}, tc.n)
		b, err := ingest.ReadUpTo(iotest.OneByteReader(bytes.NewReader(src)), tc.max, tc.initial)
		if end := err == io.EOF; end != tc.end || (err != nil && err != io.EOF) {
			t.Errorf("%d bytes, max %d: error %v, want the end found %v", tc.n, tc.max, err, tc.end)
		}
		if want := min(tc.n, tc.max); !bytes.Equal(b, src[:want]) {
			t.Errorf("%d bytes, max %d: read %d bytes, want %d", tc.n, tc.max, len(b), want)
		}
		if cap(b) > tc.max {
			t.Errorf("%d bytes, max %d: buffer of %d bytes", tc.n, tc.max, cap(b))
		}
	}
}
