package ingest_test

import (
	"bytes"
	"errors"
	"net"
	"net/url"
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

// commitCutter forwards connections to PostgreSQL and, while armed, lets a
// COMMIT through and then cuts the connection before the answer comes back:
// the transaction is committed, and the client cannot know it.
type commitCutter struct {
	ln    net.Listener
	to    string
	armed atomic.Bool
	cuts  atomic.Int32
}

func newCommitCutter(t *testing.T, to string) *commitCutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &commitCutter{ln: ln, to: to}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go c.serve(client)
		}
	}()
	return c
}

func (c *commitCutter) serve(client net.Conn) {
	server, err := net.Dial("tcp", c.to)
	if err != nil {
		client.Close()
		return
	}
	var once sync.Once
	cut := func() { once.Do(func() { client.Close(); server.Close() }) }
	var cutting atomic.Bool
	go func() {
		defer cut()
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && !cutting.Load() {
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			// pgx ends a transaction with the statement "commit" (its text
			// is NUL-terminated in the protocol's Query and Parse messages).
			commit := c.armed.Load() && bytes.Contains(buf[:n], []byte("commit\x00"))
			if commit {
				cutting.Store(true) // the answer to this is never passed on
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
			if commit {
				time.Sleep(300 * time.Millisecond) // the server commits meanwhile
				c.cuts.Add(1)
				break
			}
		}
		if err != nil {
			break
		}
	}
	cut()
}

// The connection to PostgreSQL is lost after COMMIT was sent: the upload
// answers 503 (the service cannot know it was recorded) but its objects are
// kept, because the rows were in fact committed; a retry of the same upload
// then finds the document, complete, as a duplicate; and the sweep finds
// nothing missing and nothing to destroy.
func TestCommitOutcomeUnknownKeepsTheObjects(t *testing.T) {
	direct := testenv.DatabaseURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	cutter := newCommitCutter(t, u.Host)
	u.Host = cutter.ln.Addr().String()
	ctx := testCtx()
	db, err := postgres.Open(ctx, u.String(), testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := testenv.S3(t)
	p := newPerson(t, db, "UNKNOWN-1")
	svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 1 << 20}
	mail := []byte("From: a@example.org\r\nSubject: answer lost\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n" +
		"%PDF-1.4 plan\r\n--B--\r\n")
	upload := func() (*casefile.Document, bool, error) {
		staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", Body: bytes.NewReader(mail), Size: int64(len(mail))})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Commit(ctx, staged, "", "correspondence", "")
	}
	cutter.armed.Store(true)
	_, _, err = upload()
	cutter.armed.Store(false)
	if cutter.cuts.Load() != 1 || !errors.Is(err, casefile.ErrOutcomeUnknown) || casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("commit with the answer lost: %v (%d cuts)", err, cutter.cuts.Load())
	}
	d, dup, err := upload()
	if err != nil || !dup {
		t.Fatalf("the retry: %v, duplicate %v; want the document recorded by the first attempt", err, dup)
	}
	for _, x := range append([]*casefile.Document{d}, d.Attachments...) {
		if _, err := st.Stat(ctx, x.ObjectKey); err != nil {
			t.Fatalf("object of %s (%s): %v", x.ID, x.Filename, err)
		}
	}
	r := &ingest.Reconciler{Store: db, Audit: db, Blobs: s3.Blobs{S: st}, Lister: s3.Blobs{S: st}, Grace: time.Hour,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	rep, err := r.Sweep(ctx)
	if err != nil || rep.Orphans != 0 || len(rep.Missing) != 0 {
		t.Fatalf("sweep: %+v, %v; want nothing to do", rep, err)
	}
}
