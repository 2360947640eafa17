package ingest

// Parsing a staged email (.eml, .msg, winmail.dat) and storing each of its
// attachments as a document of its own.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest/msg"
	"github.com/council/casefile/ingest/tnef"
)

// store writes one extracted attachment as an object and returns its document.
func (s *Service) store(ctx context.Context, st *Staged, parent *casefile.Document, name, declared string, body io.Reader) (*casefile.Document, error) {
	id, key, retain, ok := s.newAttachment(st, name)
	if !ok {
		return nil, nil
	}
	h := sha256.New()
	sniff := &prefixWriter{max: 3072}
	cr := &countingReader{r: body, max: s.MaxBytes}
	// An attachment that fits is read whole and sent in one request with its
	// checksum; a larger one streams in parts and is never held.
	limit := int(s.attachmentLimit(st))
	src := io.TeeReader(cr, io.MultiWriter(h, sniff))
	b, err := readUpTo(src, limit+1, 64<<10)
	if err == io.EOF {
		return s.keep(ctx, st, parent, name, declared, id, key, retain, b, h.Sum(nil))
	}
	if err != nil {
		return nil, unwrapRead(err)
	}
	version, err := s.Blobs.Put(ctx, key, io.MultiReader(&onceReader{b: b}, src), -1, "application/octet-stream", retain)
	if err != nil {
		return nil, err
	}
	return s.attach(parent, name, declared, id, key, version, retain, cr.n, hex.EncodeToString(h.Sum(nil)), sniff.head()), nil
}

// storeBytes is store for an attachment already in memory (a .msg's, a
// winmail.dat's): bytes that fit are hashed and kept as they are, not copied.
func (s *Service) storeBytes(ctx context.Context, st *Staged, parent *casefile.Document, name, declared string, data []byte) (*casefile.Document, error) {
	if n := int64(len(data)); n > s.attachmentLimit(st) || s.MaxBytes > 0 && n > s.MaxBytes {
		return s.store(ctx, st, parent, name, declared, bytes.NewReader(data))
	}
	id, key, retain, ok := s.newAttachment(st, name)
	if !ok {
		return nil, nil
	}
	sum := sha256.Sum256(data)
	return s.keep(ctx, st, parent, name, declared, id, key, retain, data, sum[:])
}

// newAttachment names the object of the attachment about to be stored, and
// notes its key with the upload's; false when the upload already holds as
// many parts as allowed (the attachment is then left out).
func (s *Service) newAttachment(st *Staged, name string) (id, key string, retain time.Time, ok bool) {
	if countDocs(st.Doc) > s.limits().MaxParts {
		return "", "", time.Time{}, false
	}
	if s.onAttachment != nil {
		s.onAttachment(name)
	}
	id, key = newKey()
	st.keys = append(st.keys, key)
	return id, key, RetainUntil(s.now()), true
}

// attachmentLimit is the size up to which an attachment is held in memory
// and sent in one request.
func (s *Service) attachmentLimit(st *Staged) int64 {
	if st.whole {
		return wholeMax
	}
	return smallBody
}

// keep stores an attachment held in memory, whose sha256 is sum: with the
// upload's other objects by flush when the upload was read whole, else now.
func (s *Service) keep(ctx context.Context, st *Staged, parent *casefile.Document, name, declared, id, key string, retain time.Time,
	body, sum []byte) (*casefile.Document, error) {
	if st.cached == nil {
		st.cached = map[string][]byte{}
	}
	st.cached[key] = body
	var version string
	if !st.whole {
		var err error
		if version, err = s.Blobs.PutChecked(ctx, key, body, sum, "application/octet-stream", retain); err != nil {
			return nil, err
		}
	}
	a := s.attach(parent, name, declared, id, key, version, retain, int64(len(body)), hex.EncodeToString(sum), body[:min(len(body), 3072)])
	if st.whole {
		st.pending = append(st.pending, pendingPut{doc: a, body: body, sum: sum, retain: retain}) // written with the others by flush
	}
	return a, nil
}

// attach makes the document of a stored attachment, a child of parent.
func (s *Service) attach(parent *casefile.Document, name, declared, id, key, version string, retain time.Time, size int64, sum string,
	head []byte) *casefile.Document {
	filename := SafeFilename(name)
	if filename == "" {
		filename = fmt.Sprintf("attachment-%d%s", len(parent.Attachments)+1, extFor(declared))
	}
	pid := parent.ID
	rd := casefile.DateOf(retain)
	a := &casefile.Document{ID: id, PersonID: parent.PersonID, Kind: casefile.DocumentAttachment, ParentID: &pid, Filename: filename,
		Size: size, SHA256: sum, ObjectKey: key, ObjectVersion: version, DeclaredContentType: declared,
		ContentType: sniffType(head, filename, declared), ParseWarnings: []string{}, Attachments: []*casefile.Document{},
		RetainUntil: &rd}
	parent.Attachments = append(parent.Attachments, a)
	return a
}

func (s *Service) limits() Limits {
	if s.Limits.MaxDepth == 0 {
		return DefaultLimits
	}
	return s.Limits
}

// parseStored parses the stored object of d (an email of the given kind)
// and stores its attachments as children of d.
func (s *Service) parseStored(ctx context.Context, st *Staged, d *casefile.Document, kind string, depth int) error {
	if depth > s.limits().MaxDepth {
		d.ParseWarnings = append(d.ParseWarnings, "nested too deeply; not parsed further")
		return nil
	}
	switch kind {
	case "eml":
		rc, err := s.open(ctx, st, d.ObjectKey)
		if err != nil {
			return err
		}
		defer rc.Close()
		var forwarded []*casefile.Document
		pe, err := parseEmail(&sourceReader{rc}, s.limits(), func(name, ct string, body io.Reader, fwd bool) error {
			a, err := s.store(ctx, st, d, name, ct, body)
			if err != nil || a == nil {
				return err
			}
			if fwd {
				forwarded = append(forwarded, a)
			}
			return nil
		})
		if err != nil {
			return unwrapRead(err)
		}
		d.Email, d.Text = pe.Meta, pe.Text
		d.ParseWarnings = append(d.ParseWarnings, pe.Warnings...)
		if d.ContentType == "text/plain" || d.ContentType == "application/octet-stream" {
			d.ContentType = "message/rfc822"
		}
		for _, f := range forwarded {
			f.ContentType = "message/rfc822"
			if err := s.parseStored(ctx, st, f, "eml", depth+1); err != nil {
				return err
			}
		}
	case "msg":
		r, size, cleanup, err := s.randomAccess(ctx, st, d)
		if err != nil {
			return err
		}
		defer cleanup()
		m, err := msg.Parse(r, size)
		if err != nil {
			d.ParseWarnings = append(d.ParseWarnings, "not a readable Outlook message: "+err.Error())
			return nil
		}
		d.ContentType = "application/vnd.ms-outlook"
		if err := s.fromMSG(ctx, st, d, m, depth); err != nil {
			return err
		}
	}
	// winmail.dat attachments are decoded into the files they carry.
	for _, a := range d.Attachments {
		if isTNEF(a) {
			if err := s.decodeTNEF(ctx, st, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) fromMSG(ctx context.Context, st *Staged, d *casefile.Document, m *msg.Message, depth int) error {
	meta := &casefile.EmailMeta{Subject: m.Subject, MessageID: strings.Trim(m.MessageID, "<>"), InReplyTo: strings.Trim(m.InReplyTo, "<>"),
		To: addrList(m.To), Cc: addrList(m.Cc)}
	if m.From.Email != "" || m.From.Name != "" {
		meta.From = addrString(m.From)
	}
	if !m.Date.IsZero() {
		t := m.Date.UTC()
		meta.Date = &t
	}
	d.Email = meta
	d.Text = m.Body
	if strings.TrimSpace(d.Text) == "" && m.HTMLBody != "" {
		d.Text = htmlToText(m.HTMLBody)
	}
	d.Text = truncateUTF8(d.Text, s.limits().MaxTextBytes)
	d.ParseWarnings = append(d.ParseWarnings, m.Warnings...)
	for i, att := range m.Attachments {
		if att.Message != nil {
			// An embedded Outlook item has no bytes of its own outside the
			// parent's compound file (which is kept whole); it is recorded
			// as a plain-text rendering so that its own attachments can hang
			// from it.
			name := SafeFilename(att.Filename)
			if name == "" {
				name = fmt.Sprintf("embedded-message-%d", i+1)
			}
			a, err := s.storeBytes(ctx, st, d, strings.TrimSuffix(name, ".msg")+".txt", "text/plain", []byte(renderMSG(att.Message)))
			if err != nil || a == nil {
				return err
			}
			a.ParseWarnings = append(a.ParseWarnings, "a rendering of an Outlook item embedded in "+d.Filename+"; the original bytes are inside that file")
			if depth < s.limits().MaxDepth {
				if err := s.fromMSG(ctx, st, a, att.Message, depth+1); err != nil {
					return err
				}
			}
			a.ContentType = "text/plain"
			continue
		}
		if att.Open == nil {
			if _, err := s.storeBytes(ctx, st, d, att.Filename, strings.ToLower(att.ContentType), att.Data); err != nil {
				return err
			}
			continue
		}
		// Too large for memory: read from the compound file as it is
		// stored. A damaged sector chain ends it with a warning.
		cut := &cutReader{r: att.Open()}
		a, err := s.store(ctx, st, d, att.Filename, strings.ToLower(att.ContentType), cut)
		if err != nil {
			return err
		}
		if a != nil && cut.err != nil {
			a.ParseWarnings = append(a.ParseWarnings, fmt.Sprintf("the attachment could not be read to its end (%v); what was read is kept", cut.err))
		}
	}
	return nil
}

// cutReader ends at the first error of r, keeping it: the bytes before it
// are kept, and the error becomes a warning.
type cutReader struct {
	r   io.Reader
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
		return n, io.EOF
	}
	return n, err
}

func renderMSG(m *msg.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo: %s\nCc: %s\nSubject: %s\n", addrString(m.From), strings.Join(addrList(m.To), ", "),
		strings.Join(addrList(m.Cc), ", "), m.Subject)
	if !m.Date.IsZero() {
		fmt.Fprintf(&b, "Date: %s\n", m.Date.UTC().Format(time.RFC1123Z))
	}
	b.WriteString("\n")
	body := m.Body
	if strings.TrimSpace(body) == "" {
		body = htmlToText(m.HTMLBody)
	}
	b.WriteString(body)
	return b.String()
}

func (s *Service) decodeTNEF(ctx context.Context, st *Staged, a *casefile.Document) error {
	if a.Size > inMemoryLimit {
		a.ParseWarnings = append(a.ParseWarnings, "winmail.dat larger than 32 MiB; not decoded")
		return nil
	}
	data, err := s.readAll(ctx, st, a.ObjectKey)
	if err != nil {
		return err
	}
	m, err := tnef.Decode(data)
	if err != nil {
		a.ParseWarnings = append(a.ParseWarnings, "winmail.dat could not be decoded: "+err.Error())
		return nil
	}
	a.ContentType = "application/ms-tnef"
	a.ParseWarnings = append(a.ParseWarnings, m.Warnings...)
	for _, f := range m.Attachments {
		if _, err := s.storeBytes(ctx, st, a, f.Name, strings.ToLower(f.ContentType), f.Data); err != nil {
			return err
		}
	}
	return nil
}

// randomAccess gives the stored object as an io.ReaderAt: in memory when
// small, otherwise spooled to a temp file that cleanup removes.
func (s *Service) randomAccess(ctx context.Context, st *Staged, d *casefile.Document) (io.ReaderAt, int64, func(), error) {
	if d.Size <= inMemoryLimit {
		b, err := s.readAll(ctx, st, d.ObjectKey)
		if err != nil {
			return nil, 0, nil, err
		}
		return bytes.NewReader(b), int64(len(b)), func() {}, nil
	}
	rc, err := s.Blobs.Get(ctx, d.ObjectKey)
	if err != nil {
		return nil, 0, nil, err
	}
	defer rc.Close()
	f, err := spoolFile(s.SpoolDir)
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup := func() { f.Close() } // unlinked already: closing frees it
	n, err := io.Copy(f, rc)
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return f, n, cleanup, nil
}

func isTNEF(a *casefile.Document) bool {
	return a.DeclaredContentType == "application/ms-tnef" || a.DeclaredContentType == "application/vnd.ms-tnef" ||
		strings.EqualFold(a.Filename, "winmail.dat")
}

// classify says whether a file is an email to parse: "eml", "msg" or "".
func classify(sniffed, declared, filename string, head []byte) string {
	ext := strings.ToLower(path.Ext(filename))
	switch {
	case declared == "application/vnd.ms-outlook" || ext == ".msg":
		if msg.IsMSG(head) {
			return "msg"
		}
	case declared == "message/rfc822" || ext == ".eml" || sniffed == "message/rfc822":
		return "eml"
	}
	return ""
}

// sniffType is the content type the bytes show, preferring the declared one
// where the bytes cannot tell (plain text, unknown binary).
func sniffType(head []byte, filename, declared string) string {
	mt := mimetype.Detect(head)
	t := mt.String()
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	if (t == "application/octet-stream" || t == "text/plain") && declared != "" && declared != "application/octet-stream" {
		return declared
	}
	if t == "application/x-ole-storage" && strings.EqualFold(path.Ext(filename), ".msg") {
		return "application/vnd.ms-outlook"
	}
	return t
}

func sameFamily(a, b string) bool {
	if a == b || a == "application/octet-stream" || b == "application/octet-stream" {
		return true
	}
	ta, _, _ := strings.Cut(a, "/")
	tb, _, _ := strings.Cut(b, "/")
	return ta == tb && ta == "text" || mimetype.Lookup(a) != nil && mimetype.Lookup(a).Is(b)
}

func extFor(contentType string) string {
	if m := mimetype.Lookup(contentType); m != nil {
		return m.Extension()
	}
	return ""
}

func addrString(a msg.Address) string { return formatAddress(a.Name, a.Email) }

func addrList(as []msg.Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, addrString(a))
	}
	return out
}

func countDocs(d *casefile.Document) int {
	if d == nil {
		return 0
	}
	n := 1
	for _, a := range d.Attachments {
		n += countDocs(a)
	}
	return n
}
