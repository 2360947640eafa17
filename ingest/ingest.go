// Package ingest is how correspondence reaches a person's record: the
// uploaded bytes are kept exactly as received in the object store, emails
// (.eml, Outlook .msg, with winmail.dat and forwarded messages inside) are
// parsed, and every attachment becomes a document of its own.
//
// An upload is staged first (objects written, parsed) and committed second
// (rows written in one transaction), so that nothing half-kept is ever
// acknowledged: a failure before the commit destroys the staged objects, and
// what a crash leaves behind is found by the reconciliation sweep.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest/tnef"
)

// Blobs is the object store as ingest needs it.
type Blobs interface {
	// Put stores r under key and returns the version id the store gave it.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string, retainUntil time.Time) (string, error)
	// PutChecked stores b, whose sha256 is sum, in one request; the store
	// refuses it unless what it received has that sha256.
	PutChecked(ctx context.Context, key string, b []byte, sum []byte, contentType string, retainUntil time.Time) (string, error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Destroy(ctx context.Context, key string) error
}

// KeyPrefix is where originals live in the bucket; keys are generated here,
// never taken from the uploader.
const KeyPrefix = "documents/"

// inMemoryLimit bounds what is read into memory to parse formats that need
// random access (.msg, TNEF); larger files are spooled to a temp file.
const inMemoryLimit = 32 << 20

// RetainUntil is the Object Lock retain-until date of a new original: a
// rolling year ahead until retention knows the record's disposal date, and
// the daily sweep extends it.
var RetainUntil = func(now time.Time) time.Time { return now.AddDate(1, 0, 0) }

// Service ingests uploads.
type Service struct {
	Store    casefile.DocumentStore
	Blobs    Blobs
	MaxBytes int64
	Limits   Limits
	Log      *slog.Logger
	Now      func() time.Time

	// MemoryBudget bounds the bytes that uploads read whole into memory hold
	// at once (default 64 MiB); an upload that does not fit streams instead.
	MemoryBudget int64
	held         atomic.Int64

	// MaxStreams bounds how many uploads stream to the store at once
	// (default 4): each holds one part buffer of the S3 client (16 MiB), so
	// that memory stays bounded however many large files arrive together.
	// The others wait their turn.
	MaxStreams  int
	streamsOnce sync.Once
	streams     chan struct{}
	givingBack  atomic.Bool

	// SpoolDir is where emails too large to parse in memory are spooled
	// (files unlinked as soon as made); "" is DefaultSpoolDir. PrepareSpool
	// cleans it at start.
	SpoolDir string

	onAttachment func(name string) // for tests: called as each attachment is extracted
}

// streamSlot waits for a turn to stream an upload, and returns its release.
func (s *Service) streamSlot(ctx context.Context) (func(), error) {
	s.streamsOnce.Do(func() {
		n := s.MaxStreams
		if n <= 0 {
			n = 4
		}
		s.streams = make(chan struct{}, n)
	})
	select {
	case s.streams <- struct{}{}:
		return func() {
			<-s.streams
			s.giveBackMemory()
		}, nil
	case <-ctx.Done():
		return nil, Interrupted()
	}
}

// giveBackMemory returns to the system, once the last of the uploads
// streaming at a time has ended, the memory they used (the S3 client's part
// buffers, a multipart form's reads): free in the heap, it would otherwise
// stay with the process until the runtime's scavenger gives it back,
// slowly, and each large upload after it would peak that much higher. It
// costs one garbage collection after an upload of over 8 MiB; a small
// upload never streams, so never pays it.
func (s *Service) giveBackMemory() {
	if len(s.streams) > 0 || !s.givingBack.CompareAndSwap(false, true) {
		return // another stream is on; the last to end gives it back
	}
	go func() {
		defer s.givingBack.Store(false)
		debug.FreeOSMemory()
	}()
}

// wholeMax is the largest upload read whole into memory before anything is
// stored: its sha256 is then known first (a duplicate costs no write), the
// email is parsed without reading it back, and each object goes to the
// store in one request with its checksum. Larger uploads stream, never held.
const wholeMax = 8 << 20

const defaultMemoryBudget = 64 << 20

// reserve takes n bytes of the memory budget, or reports that it is spent.
func (s *Service) reserve(n int64) bool {
	budget := s.MemoryBudget
	if budget == 0 {
		budget = defaultMemoryBudget
	}
	if s.held.Add(n) > budget {
		s.held.Add(-n)
		return false
	}
	return true
}

// Upload is one file as it arrives.
type Upload struct {
	PersonID     string
	Filename     string
	DeclaredType string // the Content-Type the uploader gave, if any
	Body         io.Reader
	Size         int64 // -1 when unknown
}

// Staged is an upload whose objects are written and parsed, not yet recorded.
type Staged struct {
	Doc       *casefile.Document
	keys      []string
	duplicate *casefile.Document
	cached    map[string][]byte // small objects' bytes, to parse without a read back
	whole     bool              // the upload was read whole: attachments up to wholeMax go in one request
	pending   []pendingPut      // objects read whole, written together once parsing is done
}

// pendingPut is an object held in memory, to be written with its checksum.
type pendingPut struct {
	doc    *casefile.Document
	body   []byte
	sum    []byte
	retain time.Time
}

// putConcurrency is how many of an upload's objects are written at once.
const putConcurrency = 4

// flush writes the pending objects, a few at a time (an email's original and
// its attachments need not wait for each other), and records each version.
func (s *Service) flush(ctx context.Context, st *Staged) error {
	if len(st.pending) == 1 { // most uploads: one object, written here
		p := st.pending[0]
		st.pending = nil
		v, err := s.Blobs.PutChecked(ctx, p.doc.ObjectKey, p.body, p.sum, "application/octet-stream", p.retain)
		p.doc.ObjectVersion = v
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(putConcurrency)
	for _, p := range st.pending {
		g.Go(func() error {
			v, err := s.Blobs.PutChecked(gctx, p.doc.ObjectKey, p.body, p.sum, "application/octet-stream", p.retain)
			p.doc.ObjectVersion = v
			return err
		})
	}
	st.pending = nil
	return g.Wait()
}

// smallBody is the size under which an object's bytes stay in memory while
// its upload is staged (parsing then needs no read back, and a small
// attachment is sent in one request rather than a multipart upload).
const smallBody = 1 << 20

// open returns a stored object's bytes, from memory when they were kept.
func (s *Service) open(ctx context.Context, st *Staged, key string) (io.ReadCloser, error) {
	if b, ok := st.cached[key]; ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return s.Blobs.Get(ctx, key)
}

// readAll returns a staged object's bytes (at most inMemoryLimit+1 of
// them): those kept in memory when there are, else read back from the store.
func (s *Service) readAll(ctx context.Context, st *Staged, key string) ([]byte, error) {
	if b, ok := st.cached[key]; ok {
		return b, nil
	}
	rc, err := s.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, inMemoryLimit+1))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func newKey() (id, key string) {
	id = uuid.Must(uuid.NewV7()).String()
	return id, KeyPrefix + id
}

// Stage stores the upload's bytes and parses them, without recording
// anything yet. An upload of up to wholeMax bytes (while the memory budget
// allows) is read whole first; a larger one streams into the object store,
// hashed on the way, and is never held in memory.
func (s *Service) Stage(ctx context.Context, up Upload) (*Staged, error) {
	if up.Size > s.MaxBytes {
		return nil, tooLarge(s.MaxBytes)
	}
	if up.Size == 0 {
		if err := s.Store.CheckPerson(ctx, up.PersonID); err != nil {
			return nil, err // an unknown person is the first thing to say
		}
		return nil, emptyFile()
	}
	counted := &countingReader{r: up.Body, max: s.MaxBytes}
	if limit := s.wholeLimit(up.Size); limit > 0 {
		defer s.held.Add(-2 * limit)
		initial := 64 << 10 // of unknown length: 64 KiB, doubled as it comes
		if up.Size > 0 {
			initial = int(up.Size) + 1 // +1: the read that finds the end
		}
		body, err := readUpTo(counted, int(limit)+1, initial)
		switch {
		case counted.over:
			return nil, tooLarge(s.MaxBytes)
		case err == io.EOF:
			return s.stageWhole(ctx, up, body)
		case err != nil:
			return nil, interrupted(counted)
		}
		// Of unknown length and longer than limit: the rest streams, and
		// what was read goes as soon as it is sent.
		counted.r = io.MultiReader(&onceReader{b: body}, up.Body)
		counted.n = 0
		return s.stageStream(ctx, up, counted, -1)
	}
	return s.stageStream(ctx, up, counted, up.Size)
}

// wholeLimit is how much of an upload of the given size (-1: unknown) may be
// read into memory, with twice that taken from the memory budget (the body,
// and its attachments decoded); 0 when it is to stream. An upload of unknown
// length (a file of the record page's form without JavaScript) asks for
// smallBody, which most emails fit; a longer one streams, as a file of over
// wholeMax always does. Reading up to wholeMax of it first would hold that
// much, and as much again in the buffer's growth, while it is sent: a
// 1 GiB upload then peaked 22 MiB higher than the same upload of known
// length.
func (s *Service) wholeLimit(size int64) int64 {
	if size > wholeMax {
		return 0
	}
	n := size
	if size < 0 {
		n = smallBody
	}
	if s.reserve(2 * n) {
		return n
	}
	return 0
}

// stageWhole stages an upload held in memory: the person and duplicate
// checks come first (one query), so a duplicate writes nothing.
func (s *Service) stageWhole(ctx context.Context, up Upload, body []byte) (_ *Staged, err error) {
	if len(body) == 0 {
		if err := s.Store.CheckPerson(ctx, up.PersonID); err != nil {
			return nil, err
		}
		return nil, emptyFile()
	}
	sum := sha256.Sum256(body)
	hexSum := hex.EncodeToString(sum[:])
	dup, err := s.Store.CheckUpload(ctx, up.PersonID, hexSum)
	if err != nil {
		return nil, err
	}
	if dup != nil {
		return &Staged{duplicate: dup}, nil
	}
	st := &Staged{whole: true}
	defer s.discardIfFailed(ctx, st, &err)
	id, key := newKey()
	retain := RetainUntil(s.now())
	st.keys = append(st.keys, key)
	st.cached = map[string][]byte{key: body}
	d := s.newDocument(up, id, key, "", int64(len(body)), hexSum, retain)
	st.pending = append(st.pending, pendingPut{d, body, sum[:], retain})
	if err := s.describe(ctx, st, d, body[:min(len(body), 3072)]); err != nil {
		return nil, err
	}
	if err := s.flush(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// discardIfFailed, deferred, destroys what a stage that failed (or
// panicked) has written.
func (s *Service) discardIfFailed(ctx context.Context, st *Staged, err *error) {
	if p := recover(); p != nil {
		s.Discard(context.WithoutCancel(ctx), st)
		panic(p)
	}
	if *err != nil {
		s.Discard(context.WithoutCancel(ctx), st)
	}
}

// stageStream streams an upload into the object store, hashing it on the
// way, then parses it.
func (s *Service) stageStream(ctx context.Context, up Upload, counted *countingReader, size int64) (_ *Staged, err error) {
	if err := s.Store.CheckPerson(ctx, up.PersonID); err != nil {
		return nil, err
	}
	release, err := s.streamSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	st := &Staged{}
	defer s.discardIfFailed(ctx, st, &err)
	id, key := newKey()
	retain := RetainUntil(s.now())
	h := sha256.New()
	// The first bytes are kept: 3 KiB to sniff the type, and the whole body
	// when it is small, so that it is parsed without reading it back.
	sniff := &prefixWriter{max: smallBody + 1}
	body := io.TeeReader(counted, io.MultiWriter(h, sniff))
	st.keys = append(st.keys, key)
	version, err := s.Blobs.Put(ctx, key, body, size, "application/octet-stream", retain)
	if err != nil {
		if counted.over {
			return nil, tooLarge(s.MaxBytes)
		}
		if counted.err != nil {
			return nil, interrupted(counted)
		}
		return nil, err
	}
	if counted.over {
		return nil, tooLarge(s.MaxBytes)
	}
	if counted.n == 0 {
		return nil, emptyFile()
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if dup, err := s.Store.DuplicateOf(ctx, up.PersonID, sum); err == nil {
		st.duplicate = dup
		return st, nil
	} else if casefile.ErrorKind(err) != casefile.ENotFound {
		return nil, err
	}
	if int64(sniff.buf.Len()) == counted.n {
		st.cached = map[string][]byte{key: sniff.buf.Bytes()}
	}
	d := s.newDocument(up, id, key, version, counted.n, sum, retain)
	if err := s.describe(ctx, st, d, sniff.head()); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Service) newDocument(up Upload, id, key, version string, size int64, sum string, retain time.Time) *casefile.Document {
	filename := SafeFilename(up.Filename)
	if filename == "" {
		filename = "document-" + id[:8]
	}
	rd := casefile.DateOf(retain)
	return &casefile.Document{ID: id, PersonID: up.PersonID, Filename: filename, Size: size, SHA256: sum, ObjectKey: key,
		ObjectVersion: version, DeclaredContentType: strings.ToLower(strings.TrimSpace(up.DeclaredType)), ParseWarnings: []string{},
		Attachments: []*casefile.Document{}, RetainUntil: &rd}
}

// describe sniffs the stored document's type and parses what it can: an
// email (.eml, .msg), or a winmail.dat on its own, and their attachments.
// A panic in any of it is a parse warning on the kept original (safely).
func (s *Service) describe(ctx context.Context, st *Staged, d *casefile.Document, head []byte) error {
	return s.safely(ctx, st, d, func() error { return s.describeUnsafe(ctx, st, d, head) })
}

func (s *Service) describeUnsafe(ctx context.Context, st *Staged, d *casefile.Document, head []byte) error {
	d.ContentType = sniffType(head, d.Filename, d.DeclaredContentType)
	st.Doc = d
	kind := classify(d.ContentType, d.DeclaredContentType, d.Filename, head)
	d.Kind = casefile.DocumentFile
	if kind == "" && tnef.IsTNEF(head) {
		// A winmail.dat saved on its own: keep it, and decode its files.
		if err := s.decodeTNEF(ctx, st, d); err != nil {
			return err
		}
	} else if kind != "" {
		d.Kind = casefile.DocumentEmail
		if err := s.parseStored(ctx, st, d, kind, 0); err != nil {
			return err
		}
	}
	if d.DeclaredContentType != "" && !sameFamily(d.DeclaredContentType, d.ContentType) {
		d.ParseWarnings = append(d.ParseWarnings, fmt.Sprintf("declared as %s but the content looks like %s", d.DeclaredContentType, d.ContentType))
	}
	return nil
}

// Interrupted is the error for an upload whose body could not be read to
// its end (the client went away, or the request was cut short).
func Interrupted() error {
	return casefile.Errorf(casefile.EInvalid, "upload_interrupted", "The upload was interrupted before it finished; nothing was kept.")
}

// interrupted is the error for a body that stopped: too large, or cut short.
func interrupted(counted *countingReader) error {
	if counted.over {
		return tooLarge(counted.max)
	}
	return Interrupted()
}

// showDuplicate answers an upload of bytes already on the record with the
// stored document: that shows it, so the read is audited.
func (s *Service) showDuplicate(ctx context.Context, id string) (*casefile.Document, bool, error) {
	d, err := s.Store.ShowDocument(ctx, id, "duplicate")
	if err != nil {
		return nil, false, err
	}
	d.Duplicate = true
	return d, true, nil
}

// Commit records a staged upload. Title and category come from the form,
// which may arrive after the file. It returns the document and whether it
// was already on the record.
func (s *Service) Commit(ctx context.Context, st *Staged, title, category, idempotencyKey string) (*casefile.Document, bool, error) {
	if st.duplicate != nil {
		s.Discard(ctx, st)
		return s.showDuplicate(ctx, st.duplicate.ID)
	}
	d := st.Doc
	d.Title, d.Category = title, category
	if d.Title == "" {
		d.Title = d.Filename
		if d.Email != nil && d.Email.Subject != "" {
			d.Title = d.Email.Subject
		}
	}
	var setCategory func(x *casefile.Document)
	setCategory = func(x *casefile.Document) {
		x.Category = category
		for _, a := range x.Attachments {
			if a.Title == "" {
				a.Title = a.Filename
			}
			setCategory(a)
		}
	}
	setCategory(d)
	cleanTree(d)
	err := s.Store.CreateDocument(ctx, d, idempotencyKey)
	if casefile.ErrorCode(err) == "duplicate_document" {
		// Another upload of the same bytes won the race: one row, one object.
		s.Discard(context.WithoutCancel(ctx), st)
		dup, derr := s.Store.DuplicateOf(ctx, d.PersonID, d.SHA256)
		if derr != nil {
			return nil, false, derr
		}
		return s.showDuplicate(ctx, dup.ID)
	}
	if errors.Is(err, casefile.ErrOutcomeUnknown) {
		// The rows may be committed: the objects stay. If no row names them,
		// the reconciliation sweep removes them; if the rows are there, a
		// retry of the upload finds the document as a duplicate.
		if s.Log != nil {
			s.Log.Warn("upload commit outcome unknown; its objects are left to the reconciliation sweep", "document_id", d.ID, "err", err)
		}
		st.keys = nil
		return nil, false, err
	}
	if err != nil {
		// The rows were not written: take the objects back now. If that fails
		// too (the database and the store both down), the reconciliation
		// sweep removes them later.
		s.Discard(context.WithoutCancel(ctx), st)
		return nil, false, err
	}
	return d, false, nil
}

// Discard destroys a staged upload's objects.
func (s *Service) Discard(ctx context.Context, st *Staged) {
	for _, k := range st.keys {
		if err := s.Blobs.Destroy(ctx, k); err != nil && s.Log != nil {
			s.Log.Warn("could not destroy staged object; the reconciliation sweep will", "key", k, "err", err)
		}
	}
	st.keys = nil
}

func unwrapRead(err error) error {
	var re *readError
	if errors.As(err, &re) {
		return re.err
	}
	return err
}

func tooLarge(max int64) error {
	return casefile.Errorf(casefile.ETooLarge, "too_large", "The file is larger than the %d bytes allowed (CASEFILE_MAX_UPLOAD_BYTES); nothing was kept.", max)
}

func emptyFile() error {
	return casefile.Errorf(casefile.EUnprocessable, "empty_file", "The file is empty; nothing was kept.")
}

// countingReader counts bytes and stops with an error past max, so that an
// oversized upload is refused while it streams.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
	err  error
}

var errTooLarge = errors.New("upload exceeds the size limit")

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.n > c.max {
		c.over = true
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// readUpTo reads r into memory until it ends (io.EOF) or max bytes are
// read (nil). Its buffer starts at initial bytes and doubles, but never past
// max: a bytes.Buffer would double past it, to twice the size, for the one
// byte that tells the end of an upload of unknown length.
func readUpTo(r io.Reader, max, initial int) ([]byte, error) {
	b := make([]byte, 0, min(initial, max))
	for len(b) < max {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(2*cap(b), max))
			copy(grown, b)
			b = grown
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// onceReader reads b once and lets go of it.
type onceReader struct{ b []byte }

func (o *onceReader) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		o.b = nil
		return 0, io.EOF
	}
	n := copy(p, o.b)
	o.b = o.b[n:]
	if len(o.b) == 0 {
		o.b = nil
	}
	return n, nil
}

// prefixWriter keeps the first max bytes written.
type prefixWriter struct {
	buf bytes.Buffer
	max int
}

// head is what content sniffing looks at.
func (p *prefixWriter) head() []byte {
	b := p.buf.Bytes()
	return b[:min(len(b), 3072)]
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// cleanTree makes every extracted text field storable: what parsers salvage
// from broken mail can hold invalid UTF-8 and NULs.
func cleanTree(d *casefile.Document) {
	d.Text, d.Title, d.Filename = cleanText(d.Text), cleanText(d.Title), cleanText(d.Filename)
	for i, w := range d.ParseWarnings {
		d.ParseWarnings[i] = cleanText(w)
	}
	if e := d.Email; e != nil {
		e.Subject, e.From, e.MessageID, e.InReplyTo = cleanText(e.Subject), cleanText(e.From), cleanText(e.MessageID), cleanText(e.InReplyTo)
		for i := range e.To {
			e.To[i] = cleanText(e.To[i])
		}
		for i := range e.Cc {
			e.Cc[i] = cleanText(e.Cc[i])
		}
	}
	for _, a := range d.Attachments {
		cleanTree(a)
	}
}
