package extract

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// maxRTFDepth bounds the nesting of RTF groups: deeper is refused (the
// reader keeps a stack of its own, so depth costs no Go stack, but a
// document nested this deep is not one a person wrote).
const maxRTFDepth = 1000

// rtfSkip are the destinations whose content is not the document's text:
// tables of fonts, colours and styles, metadata, pictures and objects,
// field instructions (their results are text), and the like. A group
// starting with \* is skipped as well.
var rtfSkip = map[string]bool{"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true,
	"object": true, "objdata": true, "themedata": true, "colorschememapping": true, "latentstyles": true,
	"datastore": true, "xmlnstbl": true, "listtable": true, "listoverridetable": true, "rsidtbl": true,
	"generator": true, "filetbl": true, "revtbl": true, "pgdsctbl": true, "fldinst": true, "private": true,
	"userprops": true, "template": true, "docvar": true, "xe": true, "tc": true, "bkmkstart": true, "bkmkend": true,
	"nonshppict": true, "mmathPr": true, "falt": true, "panose": true, "listtext": true}

// rtfChars are the control words that stand for text.
var rtfChars = map[string]string{"par": "\n", "line": "\n", "sect": "\n\n", "page": "\n\n", "row": "\n",
	"tab": "\t", "cell": "\t", "emdash": "—", "endash": "–", "bullet": "•", "lquote": "‘", "rquote": "’",
	"ldblquote": "“", "rdblquote": "”", "emspace": " ", "enspace": " ", "qmspace": " "}

// rtfGroup is the state a group keeps: whether its content is skipped,
// and how many characters stand in for each \u character (\ucN).
type rtfGroup struct {
	skip bool
	uc   int
}

// RTF writes the text of an RTF document to out: its own small reader
// of control words, groups, \'hh bytes in the document's code page, \uN
// characters (surrogate pairs joined) and \bin data, skipping the
// destinations that are not text.
func RTF(r io.Reader, out io.StringWriter) error {
	p := &rtfReader{r: bufio.NewReaderSize(r, 32<<10), out: out, dec: charmap.Windows1252}
	return p.run()
}

type rtfReader struct {
	r       *bufio.Reader
	out     io.StringWriter
	stack   []rtfGroup
	cur     rtfGroup
	fresh   bool // just after {: the next control word may name a destination
	pending []byte
	dec     encoding.Encoding
	skipN   int    // characters still to skip after a \u
	high    uint16 // a high surrogate waiting for its pair
	buf     strings.Builder
}

func (p *rtfReader) run() error {
	p.cur.uc = 1
	for {
		c, err := p.r.ReadByte()
		if err == io.EOF {
			return p.flush()
		}
		if err != nil {
			return err
		}
		switch c {
		case '{':
			if len(p.stack) >= maxRTFDepth {
				p.flush()
				return fmt.Errorf("the RTF is nested deeper than %d groups; the text before that is kept", maxRTFDepth)
			}
			p.stack = append(p.stack, p.cur)
			p.fresh = true
			continue
		case '}':
			if len(p.stack) == 0 {
				continue // unbalanced: ignored, as word processors do
			}
			p.cur = p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			p.skipN = 0
		case '\\':
			if err := p.control(); err != nil {
				return err
			}
		case '\r', '\n':
			continue
		default:
			if p.skipN > 0 {
				p.skipN--
			} else {
				p.byteText(c)
			}
		}
		p.fresh = false
		if p.buf.Len() > 16<<10 {
			if err := p.flush(); err != nil {
				return err
			}
		}
	}
}

// control reads what follows a backslash.
func (p *rtfReader) control() error {
	c, err := p.r.ReadByte()
	if err != nil {
		return nil
	}
	if !isLetter(c) {
		switch c {
		case '*':
			if p.fresh {
				p.cur.skip = true
			}
		case '\'':
			h, err := p.hex()
			if err != nil {
				return nil
			}
			if p.skipN > 0 {
				p.skipN--
			} else {
				p.byteText(h)
			}
		case '\\', '{', '}':
			p.byteText(c)
		case '~':
			p.text(" ")
		case '_':
			p.text("-")
		case '\r', '\n':
			p.text("\n")
		}
		return nil
	}
	word := []byte{c}
	for len(word) < 32 {
		c, err = p.r.ReadByte()
		if err != nil || !isLetter(c) {
			break
		}
		word = append(word, c)
	}
	// The parameter: an optional minus and up to ten digits.
	var num []byte
	hasNum := false
	if err == nil && (c == '-' || isDigit(c)) {
		hasNum = true
		num = append(num, c)
		for len(num) < 11 {
			c, err = p.r.ReadByte()
			if err != nil || !isDigit(c) {
				break
			}
			num = append(num, c)
		}
	}
	if err == nil && c != ' ' {
		p.r.UnreadByte()
	}
	n, _ := strconv.Atoi(string(num))
	w := string(word)
	fresh := p.fresh
	p.fresh = false
	if fresh && rtfSkip[w] {
		p.cur.skip = true
	}
	switch w {
	case "bin":
		// Binary data: n bytes, whatever they are (braces too).
		if n > 0 {
			if _, err := p.r.Discard(n); err != nil {
				return nil
			}
		}
		return nil
	case "u":
		if !hasNum {
			return nil
		}
		p.unicode(n)
		p.skipN = p.cur.uc
		return nil
	case "uc":
		if n >= 0 && n < 10 {
			p.cur.uc = n
		}
		return nil
	case "ansicpg":
		if e := codePage(n); e != nil {
			p.dec = e
		}
		return nil
	}
	if s, ok := rtfChars[w]; ok {
		p.text(s)
	}
	return nil
}

// unicode adds the character \uN names, joining surrogate pairs.
func (p *rtfReader) unicode(n int) {
	if n < 0 {
		n += 65536
	}
	if n < 0 || n > 0xFFFF {
		return
	}
	u := uint16(n)
	switch {
	case utf16.IsSurrogate(rune(u)) && u < 0xDC00:
		p.high = u
		return
	case utf16.IsSurrogate(rune(u)) && p.high != 0:
		p.text(string(utf16.DecodeRune(rune(p.high), rune(u))))
	case !utf16.IsSurrogate(rune(u)):
		p.text(string(rune(u)))
	}
	p.high = 0
}

func (p *rtfReader) hex() (byte, error) {
	var v byte
	for i := 0; i < 2; i++ {
		c, err := p.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch {
		case isDigit(c):
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			p.r.UnreadByte()
			return 0, errors.New("bad hex")
		}
	}
	return v, nil
}

// byteText adds a byte of text in the document's code page.
func (p *rtfReader) byteText(c byte) {
	if p.cur.skip {
		return
	}
	p.pending = append(p.pending, c)
}

// text adds characters.
func (p *rtfReader) text(s string) {
	if p.cur.skip {
		return
	}
	p.decodePending()
	p.buf.WriteString(s)
}

func (p *rtfReader) decodePending() {
	if len(p.pending) == 0 {
		return
	}
	s, err := p.dec.NewDecoder().Bytes(p.pending)
	if err == nil {
		p.buf.Write(s)
	}
	p.pending = p.pending[:0]
}

func (p *rtfReader) flush() error {
	p.decodePending()
	if p.buf.Len() == 0 {
		return nil
	}
	_, err := p.out.WriteString(p.buf.String())
	p.buf.Reset()
	return err
}

// codePage is the single-byte code page \ansicpgN names, or nil.
func codePage(n int) encoding.Encoding {
	switch n {
	case 437:
		return charmap.CodePage437
	case 850:
		return charmap.CodePage850
	case 852:
		return charmap.CodePage852
	case 866:
		return charmap.CodePage866
	case 874:
		return charmap.Windows874
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1252:
		return charmap.Windows1252
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	case 10000:
		return charmap.Macintosh
	case 28591:
		return charmap.ISO8859_1
	case 28592:
		return charmap.ISO8859_2
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
