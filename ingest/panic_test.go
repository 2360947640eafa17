package ingest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// A panic anywhere in parsing (here in the middle of extracting an email's
// attachments) is a parse warning on the stored original, never a failed
// upload: the original is kept byte for byte, and the attachments extracted
// before the panic are dropped with their objects, whether the upload was
// read whole (objects not yet written) or streamed (already written).
func TestPanicInParsingKeepsTheOriginal(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "PANIC-1")
	mail := []byte("From: a@example.org\r\nSubject: parser panic\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4 a\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=b.pdf\r\n\r\n%PDF-1.4 b\r\n--B--\r\n")
	for i, budget := range []int64{0, 1} { // read whole; streamed (no memory budget)
		body := append(bytes.Clone(mail), strings.Repeat(" ", i)...) // other bytes: not a duplicate
		svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 64 << 20, MemoryBudget: budget, Log: testenv.Logger(t)}
		svc.OnAttachment(func(name string) {
			if name == "b.pdf" {
				panic("injected: index out of range")
			}
		})
		staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", DeclaredType: "message/rfc822",
			Body: bytes.NewReader(body), Size: int64(len(body))})
		if err != nil {
			t.Fatalf("budget %d: stage: %v", budget, err)
		}
		d, _, err := svc.Commit(ctx, staged, "", "correspondence", "")
		if err != nil {
			t.Fatalf("budget %d: commit: %v", budget, err)
		}
		if len(d.Attachments) != 0 || !strings.Contains(strings.Join(d.ParseWarnings, "; "), "could not be parsed") {
			t.Fatalf("budget %d: attachments %d, warnings %q", budget, len(d.Attachments), d.ParseWarnings)
		}
		got, err := db.Document(ctx, d.ID)
		if err != nil || got.SHA256 != sha(body) || len(got.ParseWarnings) == 0 {
			t.Fatalf("budget %d: stored document %+v, %v", budget, got, err)
		}
		rc, _, err := st.Get(ctx, d.ObjectKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		var kept bytes.Buffer
		kept.ReadFrom(rc)
		rc.Close()
		if !bytes.Equal(kept.Bytes(), body) {
			t.Fatalf("budget %d: the original holds %d bytes, want the %d sent", budget, kept.Len(), len(body))
		}
	}
	var keys []string
	if err := st.List(ctx, "documents/", func(o s3.ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil || len(keys) != 2 {
		t.Fatalf("objects in the bucket: %q (%v), want the 2 originals only", keys, err)
	}
}
