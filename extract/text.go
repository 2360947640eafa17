package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/council/casefile"
)

// text collects a document's text up to max bytes; past that, writes are
// refused with errCut and the text is marked cut.
type text struct {
	b        strings.Builder
	max      int
	cut      bool
	warnings []string
}

func newText(max int) *text { return &text{max: max} }

// WriteString adds s, or as much of it as fits.
func (t *text) WriteString(s string) (int, error) {
	if t.cut {
		return 0, errCut
	}
	if room := t.max - t.b.Len(); len(s) > room {
		t.b.WriteString(truncUTF8(s, room))
		t.cut = true
		return room, errCut
	}
	return t.b.WriteString(s)
}

// Write is WriteString for bytes.
func (t *text) Write(p []byte) (int, error) { return t.WriteString(string(p)) }

// warn notes something incomplete about the text.
func (t *text) warn(format string, args ...any) {
	if len(t.warnings) < 5 {
		t.warnings = append(t.warnings, fmt.Sprintf(format, args...))
	}
}

// String is the text collected so far, tidied.
func (t *text) String() string { return tidy(t.b.String()) }

// result is the outcome of an extraction that collected t and ended with
// err: text read before a failure is kept, with a warning.
func (t *text) result(ctx context.Context, source string, err error, timeout time.Duration) casefile.ExtractedText {
	s := t.String()
	warnings := t.warnings
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		warnings = append(warnings, fmt.Sprintf("reading the text took longer than %v (CASEFILE_EXTRACT_TIMEOUT_SECONDS) and was stopped", timeout))
	case err != nil && !errors.Is(err, errCut):
		warnings = append(warnings, err.Error())
	}
	if t.cut {
		warnings = append(warnings, fmt.Sprintf("the text was cut at %d bytes (CASEFILE_EXTRACT_MAX_TEXT_BYTES)", t.max))
	}
	r := casefile.ExtractedText{State: casefile.TextDone, Source: source, Text: s, Warning: clip(strings.Join(warnings, "; "), 1000)}
	if s == "" {
		r.Source = ""
		r.State = casefile.TextNone
		if err != nil && !errors.Is(err, errCut) || ctx.Err() != nil {
			r.State = casefile.TextFailed
		}
	}
	return r
}

// tidy makes text storable and searchable: valid UTF-8 without NULs or
// other control characters, lines without trailing blanks, no more than
// one empty line in a row, pages apart by an empty line.
func tidy(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	var b strings.Builder
	b.Grow(len(s))
	newlines, spaces := 0, 0
	for _, r := range s {
		switch {
		case r == '\r':
			continue
		case r == '\n' || r == '\f' || r == '\v' || r == '\u2028' || r == '\u2029':
			spaces = 0
			newlines++
			if r == '\f' {
				newlines++
			}
			continue
		case r == ' ' || r == '\t' || r == '\u00a0':
			spaces++
			if r == '\t' {
				spaces = -1 << 20 // a tab stays a tab
			}
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\ufeff':
			continue
		}
		if b.Len() > 0 {
			switch {
			case newlines > 0:
				b.WriteString("\n\n"[:min(newlines, 2)])
			case spaces < 0:
				b.WriteByte('\t')
			case spaces > 0:
				b.WriteByte(' ')
			}
		}
		newlines, spaces = 0, 0
		b.WriteRune(r)
	}
	return b.String()
}

// truncUTF8 cuts s to at most n bytes, at a character boundary.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncUTF8(s, n) + "…"
}

// PlainText reads text in the character set contentType names, or else
// the one its bytes show: a byte-order mark, UTF-8, UTF-16 without a mark,
// or Windows-1252 (what text from Windows is when it is not UTF-8).
func PlainText(r io.Reader, contentType string, out io.StringWriter) error {
	br := bufio.NewReaderSize(r, 8192)
	head, _ := br.Peek(4096)
	enc := textEncoding(head, contentType)
	return copyText(out, transform.NewReader(br, enc.NewDecoder()))
}

// textEncoding decides the character set of text that begins with head.
func textEncoding(head []byte, contentType string) encoding.Encoding {
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		if e, err := htmlindex.Get(params["charset"]); err == nil {
			return e
		}
	}
	switch {
	case len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF:
		return unicode.UTF8BOM
	case len(head) >= 2 && head[0] == 0xFF && head[1] == 0xFE:
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case len(head) >= 2 && head[0] == 0xFE && head[1] == 0xFF:
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	if validUTF8Prefix(head) {
		return unicode.UTF8
	}
	even, odd := 0, 0
	for i, c := range head {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	switch {
	case odd > len(head)/4:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case even > len(head)/4:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	return charmap.Windows1252
}

// validUTF8Prefix reports whether b is UTF-8, but for a character cut at
// its end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// copyText copies decoded text into out until out is full.
func copyText(out io.StringWriter, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := out.WriteString(string(buf[:n])); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
