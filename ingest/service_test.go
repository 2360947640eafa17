package ingest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

// The memory budget decides whether an upload is read whole or streamed;
// with the budget spent, concurrent uploads of every size still arrive
// byte-exact, with their attachments, and nothing of the budget stays held.
func TestUploadsStreamWhenTheMemoryBudgetIsSpent(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "BUDGET-1")
	for round, budget := range []int64{1, 3 << 20, 5 << 20, 64 << 20} {
		svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 64 << 20, MemoryBudget: budget}
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				att := bytes.Repeat([]byte{byte(i), byte(round)}, (i+1)<<18) // 0.5 to 3 MiB
				mail := []byte("From: a@example.org\r\nSubject: budget " + strings.Repeat("x", i) + "\r\nMIME-Version: 1.0\r\n" +
					"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\n" +
					"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\n")
				mail = append(append(mail, att...), "\r\n--B--\r\n"...)
				size := int64(len(mail))
				if i%2 == 1 {
					size = -1 // as a multipart form part arrives
				}
				staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", DeclaredType: "message/rfc822",
					Body: bytes.NewReader(mail), Size: size})
				if err != nil {
					t.Error(err)
					return
				}
				d, dup, err := svc.Commit(ctx, staged, "", "correspondence", "")
				if err != nil || dup {
					t.Errorf("commit: %v (duplicate %v)", err, dup)
					return
				}
				sum := sha256.Sum256(att)
				if d.SHA256 != sha(mail) || len(d.Attachments) != 1 || d.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("budget %d, upload %d: document %+v", budget, i, d)
					return
				}
				for key, want := range map[string][]byte{d.ObjectKey: mail, d.Attachments[0].ObjectKey: att} {
					rc, _, err := st.Get(ctx, key, nil)
					if err != nil {
						t.Error(err)
						return
					}
					got, _ := io.ReadAll(rc)
					rc.Close()
					if !bytes.Equal(got, want) {
						t.Errorf("budget %d, upload %d: %s holds %d bytes, want the %d sent", budget, i, key, len(got), len(want))
					}
				}
			}()
		}
		wg.Wait()
		if !svc.MemoryIdle() {
			t.Fatalf("budget %d: memory still held after every upload finished", budget)
		}
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// PostgreSQL going down between storing an upload's objects and recording
// them: the commit fails as unavailable (a 503 at the API), the objects are
// destroyed at once, and nothing of the upload remains once the database is
// back. With the object store down too, the objects stay until the
// reconciliation sweep finds them.
func TestDatabaseLostBeforeCommitLeavesNoObjects(t *testing.T) {
	pg, url := testenv.PrivatePostgres(t)
	ctx := testCtx()
	db, err := postgres.Open(ctx, url, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := testenv.S3(t)
	p := newPerson(t, db, "LOST-1")
	svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 1 << 20}
	objects := func() int {
		n := 0
		if err := st.List(ctx, "documents/", func(s3.ObjectInfo) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mail := []byte("From: a@example.org\r\nSubject: lost\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n" +
		"%PDF-1.4 plan\r\n--B--\r\n")
	staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", DeclaredType: "message/rfc822", Body: bytes.NewReader(mail), Size: int64(len(mail))})
	if err != nil {
		t.Fatal(err)
	}
	if n := objects(); n != 2 {
		t.Fatalf("staged: %d objects, want the email and its attachment", n)
	}
	pg.Stop()
	if _, _, err := svc.Commit(ctx, staged, "", "correspondence", ""); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("commit with PostgreSQL down: %v, want unavailable", err)
	}
	if n := objects(); n != 0 {
		t.Fatalf("%d objects left after the failed commit", n)
	}
	pg.Start()
	docs, _, err := db.Documents(ctx, p.ID, casefile.Page{})
	if err != nil || len(docs) != 0 {
		t.Fatalf("documents after the failed commit: %v, %v", docs, err)
	}

	// Both down: the objects cannot be taken back at once; the sweep does it.
	s3p := testenv.PrivateS3(t)
	cfg := testenv.S3Config(t)
	cfg.Endpoint = s3p.Addr
	private, err := s3.Open(ctx, cfg, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	svc.Blobs = s3.Blobs{S: private}
	if staged, err = svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", Body: bytes.NewReader(mail), Size: int64(len(mail))}); err != nil {
		t.Fatal(err)
	}
	pg.Stop()
	s3p.Stop()
	if _, _, err := svc.Commit(ctx, staged, "", "correspondence", ""); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("commit with both down: %v", err)
	}
	pg.Start()
	s3p.Start()
	left := 0
	if err := private.List(ctx, "documents/", func(s3.ObjectInfo) error { left++; return nil }); err != nil || left != 2 {
		t.Fatalf("objects left with both down: %d (%v), want 2", left, err)
	}
	r := &ingest.Reconciler{Store: db, Audit: db, Blobs: s3.Blobs{S: private}, Lister: s3.Blobs{S: private}, Grace: time.Hour,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	rep, err := r.Sweep(ctx)
	if err != nil || rep.Orphans != 2 {
		t.Fatalf("sweep: %+v, %v; want the 2 orphans destroyed", rep, err)
	}
}

func testCtx() context.Context {
	return casefile.WithActor(context.Background(), casefile.SystemActor("test"))
}

func newPerson(t *testing.T, db casefile.PersonService, ref string) *casefile.Person {
	t.Helper()
	p := &casefile.Person{ExternalRef: ref, GivenName: "Amy", FamilyName: "Test"}
	if err := db.CreatePerson(testCtx(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// countingBlobs is the real store, counting the streamed writes in flight.
type countingBlobs struct {
	s3.Blobs
	now, peak atomic.Int32
}

func (c *countingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string, until time.Time) (string, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	return c.Blobs.Put(ctx, key, r, size, ct, until)
}

// Large uploads arriving together stream a few at a time (each holds a part
// buffer of the S3 client), the others waiting their turn: all arrive whole.
func TestLargeUploadsStreamAFewAtATime(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx, p := testCtx(), newPerson(t, db, "STREAMS-1")
	blobs := &countingBlobs{Blobs: s3.Blobs{S: st}}
	svc := &ingest.Service{Store: db, Blobs: blobs, MaxBytes: 64 << 20, MaxStreams: 2}
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := bytes.Repeat([]byte{byte(i + 1)}, 9<<20) // over the 8 MiB read whole
			staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "scan.tif", Body: bytes.NewReader(body), Size: int64(len(body))})
			if err != nil {
				t.Error(err)
				return
			}
			d, _, err := svc.Commit(ctx, staged, "", "report", "")
			if err != nil || d.SHA256 != sha(body) {
				t.Errorf("upload %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if peak := blobs.peak.Load(); peak < 1 || peak > 2 {
		t.Fatalf("%d uploads streamed at once, want at most 2", peak)
	}
}
