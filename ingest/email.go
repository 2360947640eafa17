package ingest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"golang.org/x/text/encoding/charmap"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/council/casefile"
	"github.com/council/casefile/extract"
)

// Limits make hostile messages cheap: nesting, parts and header size are
// bounded, and text kept for search is capped.
type Limits struct {
	MaxDepth       int
	MaxParts       int
	MaxHeaderBytes int
	MaxTextBytes   int
}

// DefaultLimits are generous for real correspondence.
var DefaultLimits = Limits{MaxDepth: 20, MaxParts: 1000, MaxHeaderBytes: 256 << 10, MaxTextBytes: 1 << 20}

// parsedEmail is what reading one message yields; attachments were handed to
// the sink as they streamed past.
type parsedEmail struct {
	Meta     *casefile.EmailMeta
	Text     string
	Warnings []string
}

// attachmentSink stores one attachment's decoded bytes. forwarded is true for
// a message/rfc822 part, which the caller parses in turn.
type attachmentSink func(name, contentType string, body io.Reader, forwarded bool) error

type mimeWalker struct {
	lim      Limits
	sink     attachmentSink
	parts    int
	text     strings.Builder
	html     strings.Builder
	warnings []string
}

func (w *mimeWalker) warn(format string, args ...any) {
	if len(w.warnings) < 50 {
		w.warnings = append(w.warnings, fmt.Sprintf(format, args...))
	}
}

// readerPool holds parseEmail's 64 KiB readers (the longest header line it
// reads whole), and copyPool the buffers that copy text parts: every email
// uploaded would otherwise allocate them afresh.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	copyPool   = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

// parseEmail reads one RFC 5322 message leniently: what go-message refuses is
// salvaged where possible and said in warnings; only errors from r or the sink
// are returned.
func parseEmail(r io.Reader, lim Limits, sink attachmentSink) (*parsedEmail, error) {
	w := &mimeWalker{lim: lim, sink: sink}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // nothing reads from it once parseEmail returns
		readerPool.Put(br)
	}()
	h, err := w.readHeader(br)
	if err != nil {
		return nil, err
	}
	meta := w.meta(h)
	if err := w.walk(h, br, 0, "message"); err != nil {
		return nil, err
	}
	text := w.text.String()
	if strings.TrimSpace(text) == "" && w.html.Len() > 0 {
		text = htmlToText(w.html.String())
	}
	if len(text) > lim.MaxTextBytes {
		text = truncateUTF8(text, lim.MaxTextBytes)
	}
	return &parsedEmail{Meta: meta, Text: text, Warnings: w.warnings}, nil
}

// readHeader reads a header block with go-message, and when it refuses the
// block, with a tolerant reader that keeps every line that looks like a field.
func (w *mimeWalker) readHeader(br *bufio.Reader) (textproto.Header, error) {
	raw, tooBig, cut, err := readHeaderBlock(br, w.lim.MaxHeaderBytes)
	if err != nil {
		return textproto.Header{}, err
	}
	if cut {
		w.warn("a header line longer than %d bytes was cut short", br.Size())
	}
	if tooBig {
		w.warn("header block is larger than %d bytes; the rest of it was skipped", w.lim.MaxHeaderBytes)
	}
	h, perr := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(append(raw, '\r', '\n'))))
	if perr == nil {
		return h, nil
	}
	w.warn("malformed header (%v); fields salvaged line by line", perr)
	var out textproto.Header
	var key, val string
	flush := func() {
		if key != "" {
			out.Add(key, strings.TrimSpace(val))
		}
		key, val = "", ""
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && key != "" {
			val += " " + strings.TrimSpace(line)
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			key, val = k, v
		}
	}
	flush()
	return out, nil
}

// readHeaderBlock reads up to the blank line that ends a header block,
// keeping at most max bytes of it.
func readHeaderBlock(br *bufio.Reader, max int) (block []byte, tooBig, cut bool, err error) {
	var buf []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An enormous line: keep what fits of it, ended as a line, and
			// drop the rest, so that the fields after it stay whole.
			cut = true
			if len(buf)+len(line)+2 <= max {
				buf = append(append(buf, line...), '\r', '\n')
			} else {
				tooBig = true
			}
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, false, false, err
			}
			if err == io.EOF {
				return buf, tooBig, cut, nil
			}
			continue
		}
		if err != nil && err != io.EOF {
			return nil, false, false, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return buf, tooBig, cut, nil
		}
		if len(buf)+len(line) <= max {
			buf = append(buf, line...)
		} else {
			tooBig = true
		}
		if err == io.EOF {
			return buf, tooBig, cut, nil
		}
	}
}

// meta extracts the envelope fields through go-message's mail helpers, which
// decode RFC 2047 words in any charset the charset package knows.
func (w *mimeWalker) meta(h textproto.Header) *casefile.EmailMeta {
	h = h.Copy()
	_, ctParams := contentType(h)
	for _, k := range []string{"Subject", "From", "To", "Cc", "Reply-To"} {
		if v := h.Get(k); v != "" && !utf8.ValidString(v) {
			fixed, cs := legacyText(v, ctParams["charset"])
			h.Set(k, fixed)
			w.warn("%s held raw 8-bit text, not RFC 2047 words; read as %s", k, cs)
		}
	}
	mh := mail.Header{Header: message.Header{Header: h}}
	m := &casefile.EmailMeta{To: []string{}, Cc: []string{}}
	if subj, err := mh.Subject(); err == nil {
		m.Subject = subj
	} else {
		m.Subject = h.Get("Subject")
		w.warn("subject could not be decoded (%v); kept as written", err)
	}
	if id, err := mh.MessageID(); err == nil && id != "" {
		m.MessageID = id
	} else {
		m.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	}
	if ids, err := mh.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	if d, err := mh.Date(); err == nil && !d.IsZero() {
		t := d.UTC()
		m.Date = &t
	} else if h.Get("Date") != "" {
		w.warn("date %q could not be read", clip(h.Get("Date"), 80))
	}
	addrs := func(field string) []string {
		list, err := mh.AddressList(field)
		if err != nil {
			if raw := h.Get(field); raw != "" {
				w.warn("%s could not be parsed as addresses; kept as written", field)
				return []string{clip(decodeWords(raw), 500)}
			}
			return []string{}
		}
		out := make([]string, 0, len(list))
		for _, a := range list {
			out = append(out, formatAddress(a.Name, a.Address))
		}
		return out
	}
	if from := addrs("From"); len(from) > 0 {
		m.From = strings.Join(from, ", ")
	}
	m.To = addrs("To")
	m.Cc = addrs("Cc")
	return m
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// legacyText reads header text that old or careless mailers sent as raw
// 8-bit bytes instead of RFC 2047 words: in the message's declared charset
// when there is one the charset package knows, otherwise as Windows-1252
// (which covers Latin-1), the likeliest in a British council's mail. It
// returns the text and the charset used.
func legacyText(s, declared string) (string, string) {
	if declared != "" && !strings.EqualFold(declared, "utf-8") && !strings.EqualFold(declared, "us-ascii") {
		if r, err := charset.Reader(declared, strings.NewReader(s)); err == nil {
			if b, err := io.ReadAll(r); err == nil && utf8.Valid(b) {
				return string(b), strings.ToLower(declared)
			}
		}
	}
	b, _ := charmap.Windows1252.NewDecoder().String(s) // cannot fail: every byte has a meaning
	return b, "windows-1252"
}

func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// walk handles one entity: a multipart container, a forwarded message, a
// body text, or an attachment.
func (w *mimeWalker) walk(h textproto.Header, body io.Reader, depth int, where string) error {
	// A broken structure (a part cut short, a boundary never closed) ends the
	// part with a warning; only the source's own read errors fail the parse.
	body = &lenientReader{r: body, w: w, where: where, enc: "MIME structure"}
	w.parts++
	if w.parts > w.lim.MaxParts {
		if w.parts == w.lim.MaxParts+1 {
			w.warn("more than %d parts; the rest were not read", w.lim.MaxParts)
		}
		_, err := io.Copy(io.Discard, body)
		return err
	}
	mediaType, params := contentType(h)
	disp, dparams := disposition(h)
	name := decodeWords(firstNonEmpty(dparams["filename"], params["name"]))
	if !utf8.ValidString(name) {
		name, _ = legacyText(name, params["charset"])
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			w.warn("%s: multipart without a boundary; read as text", where)
			return w.bodyText(h, body, "text/plain", params, where)
		}
		if depth >= w.lim.MaxDepth {
			w.warn("%s: nested deeper than %d levels; not read further", where, w.lim.MaxDepth)
			_, err := io.Copy(io.Discard, body)
			return err
		}
		mr := textproto.NewMultipartReader(body, boundary)
		for i := 1; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				if isReadErr(err) {
					return err
				}
				w.warn("%s: broken multipart structure after part %d (%v)", where, i-1, err)
				break
			}
			if err := w.walk(p.Header, p, depth+1, fmt.Sprintf("%s part %d", where, i)); err != nil {
				return err
			}
		}
		_, err := io.Copy(io.Discard, body)
		return err
	case mediaType == "message/rfc822" || mediaType == "message/global":
		if name == "" {
			name = "forwarded-message.eml"
		}
		return w.sink(name, "message/rfc822", w.decode(h, body, where), true)
	case (mediaType == "text/plain" || mediaType == "text/html" || mediaType == "") && disp != "attachment" && name == "":
		return w.bodyText(h, body, mediaType, params, where)
	default:
		if mediaType == "" {
			mediaType = "application/octet-stream"
		}
		return w.sink(name, mediaType, w.decode(h, body, where), false)
	}
}

// bodyText keeps a text part for search (capped), decoding its transfer
// encoding and charset.
func (w *mimeWalker) bodyText(h textproto.Header, body io.Reader, mediaType string, params map[string]string, where string) error {
	r := w.decode(h, body, where)
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		cr, err := charset.Reader(cs, r)
		if err != nil {
			w.warn("%s: unknown charset %q; text kept as raw bytes", where, cs)
		} else {
			r = cr
		}
	}
	dst := &w.text
	if mediaType == "text/html" {
		dst = &w.html
	}
	room := int64(w.lim.MaxTextBytes - dst.Len())
	if room > 0 {
		buf := copyPool.Get().(*[]byte)
		_, err := io.CopyBuffer(dst, io.LimitReader(r, room), *buf)
		copyPool.Put(buf)
		if err != nil {
			if isReadErr(err) {
				return err
			}
			w.warn("%s: %v", where, err)
		}
		dst.WriteString("\n")
	}
	_, err := io.Copy(io.Discard, r)
	if err != nil && !isReadErr(err) {
		err = nil
	}
	return err
}

// decode undoes the Content-Transfer-Encoding leniently: a broken base64 or
// quoted-printable body yields what decodes, and a warning.
func (w *mimeWalker) decode(h textproto.Header, body io.Reader, where string) io.Reader {
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); enc {
	case "base64":
		return &lenientReader{r: base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body}), w: w, where: where, enc: enc}
	case "quoted-printable":
		return &lenientReader{r: quotedprintable.NewReader(body), w: w, where: where, enc: enc}
	case "", "7bit", "8bit", "binary":
		return body
	default:
		w.warn("%s: unknown transfer encoding %q; kept as is", where, enc)
		return body
	}
}

// lenientReader turns a decoding error into a warning and an early end.
type lenientReader struct {
	r     io.Reader
	w     *mimeWalker
	where string
	enc   string
	done  bool
}

func (l *lenientReader) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF && !isReadErr(err) {
		l.w.warn("%s: malformed %s (%v); kept what decoded", l.where, l.enc, err)
		l.done = true
		return n, io.EOF
	}
	return n, err
}

// base64Cleaner drops everything that is not base64 alphabet, as mail readers do.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// readError marks errors from the underlying stream (the object store), which
// must fail the ingest rather than become a parse warning.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func isReadErr(err error) bool {
	var re *readError
	return errors.As(err, &re)
}

// sourceReader wraps the object stream so that its errors are recognisable.
type sourceReader struct{ r io.Reader }

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		return n, &readError{err}
	}
	return n, err
}

func contentType(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		// Salvage "type/sub; junk": the media type and any key=value pairs.
		parts := strings.Split(v, ";")
		mt = strings.ToLower(strings.TrimSpace(parts[0]))
		params = map[string]string{}
		for _, p := range parts[1:] {
			if k, val, ok := strings.Cut(p, "="); ok {
				params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return strings.ToLower(mt), params
}

func disposition(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Disposition")
	if v == "" {
		return "", map[string]string{}
	}
	d, params, err := mime.ParseMediaType(v)
	if err != nil {
		d = strings.ToLower(strings.TrimSpace(strings.Split(v, ";")[0]))
		params = map[string]string{}
		// The offset is found in a copy lower-cased byte for byte (ASCII
		// only), so that it indexes v itself: strings.ToLower changes the
		// length of invalid UTF-8.
		if i := strings.Index(asciiLower(v), "filename="); i >= 0 {
			params["filename"] = strings.Trim(strings.TrimSpace(strings.Split(v[i+9:], ";")[0]), `"`)
		}
	}
	return strings.ToLower(d), params
}

// asciiLower lower-cases the ASCII letters of s and keeps every other byte
// as it is, so that the result has the length of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// htmlToText extracts readable text from HTML for search, as documents'
// HTML is read (package extract). The HTML is never rendered; scripts and
// styles are dropped.
func htmlToText(s string) string { return extract.HTMLText(s) }

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "..."
}

// formatAddress writes an address for people to read: the display name in
// plain UTF-8 (not RFC 2047-encoded), the address in angle brackets.
func formatAddress(name, addr string) string {
	switch {
	case name != "" && addr != "":
		return fmt.Sprintf("%q <%s>", name, addr)
	case addr != "":
		return "<" + addr + ">"
	}
	return name
}

// cleanText makes extracted text storable: valid UTF-8, no NUL characters.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "")
}
