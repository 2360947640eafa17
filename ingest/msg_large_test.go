package ingest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/cfbtest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// A .msg over 32 MiB (spooled to a temporary file to be parsed) keeps its
// large attachments: they are read from the file as they are stored, not
// held in memory, and arrive byte for byte.
func TestLargeMSGAttachmentsStreamFromTheFile(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "MSG-LARGE-1")
	var files []cfbtest.File
	want := map[string]bool{}
	for i, size := range []int{20 << 20, 20 << 20, 9000} {
		b := bytes.Repeat([]byte{byte(i + 1), 0x5A, byte(i)}, size/3)
		files = append(files, cfbtest.File{Path: []string{cfbtest.AttachName(i)}, Data: b})
		sum := sha256.Sum256(b)
		want[hex.EncodeToString(sum[:])] = true
	}
	file := cfbtest.Build(files)
	svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 64 << 20}
	staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "large.msg", DeclaredType: "application/vnd.ms-outlook",
		Body: bytes.NewReader(file), Size: int64(len(file))})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := svc.Commit(ctx, staged, "", "correspondence", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attachments) != 3 {
		t.Fatalf("%d attachments, warnings %q", len(d.Attachments), d.ParseWarnings)
	}
	for _, a := range d.Attachments {
		if !want[a.SHA256] || len(a.ParseWarnings) != 0 {
			t.Errorf("attachment %s: %d bytes, sha256 %s, warnings %q", a.Filename, a.Size, a.SHA256, a.ParseWarnings)
		}
	}
}
