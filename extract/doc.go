package extract

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
	"golang.org/x/text/encoding/charmap"

	"github.com/council/casefile/ingest/msg"
)

// DOC writes the text of a Word 97-2003 document (.doc) to out: its
// pieces of text, found through the piece table (the CLX in the table
// stream), in order; field codes left out (their results are text), cell
// and row marks as tabs and lines. What is read of the file is bounded by
// maxBytes whatever its streams claim. Encrypted documents are refused.
func DOC(ctx context.Context, r io.ReaderAt, size, maxBytes int64, out io.StringWriter) (err error) {
	defer func() {
		// mscfb is third-party code that panics on some malformed files.
		if p := recover(); p != nil {
			err = fmt.Errorf("not a readable Word document (%v)", p)
		}
	}()
	if size > maxBytes {
		return fmt.Errorf("the Word document is larger than the %d bytes read of one (CASEFILE_EXTRACT_MAX_UNZIPPED_BYTES)", maxBytes)
	}
	// mscfb's memory grows with the square of storages' nesting: such
	// files are refused before it reads them, as uploaded .msg files are.
	if err := msg.CheckNesting(r, size); err != nil {
		return fmt.Errorf("not a readable Word document (%v)", err)
	}
	cf, err := mscfb.New(r)
	if err != nil {
		return fmt.Errorf("not a readable Word document (%v)", err)
	}
	streams := map[string][]byte{}
	budget := maxBytes
	for f, err := cf.Next(); err == nil; f, err = cf.Next() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch f.Name {
		case "WordDocument", "0Table", "1Table":
		default:
			continue
		}
		if f.Size > size || f.Size > budget {
			return fmt.Errorf("not a readable Word document: its %s stream claims %d bytes, more than can be read", f.Name, f.Size)
		}
		budget -= f.Size
		b := make([]byte, f.Size)
		if _, err := io.ReadFull(f, b); err != nil {
			return fmt.Errorf("not a readable Word document: its %s stream could not be read (%v)", f.Name, err)
		}
		streams[f.Name] = b
	}
	wd := streams["WordDocument"]
	if len(wd) < 0x22 || binary.LittleEndian.Uint16(wd) != 0xA5EC {
		return errors.New("not a Word 97-2003 document: it has no WordDocument stream")
	}
	flags := binary.LittleEndian.Uint16(wd[0x0A:])
	if flags&0x0100 != 0 {
		return errors.New("the Word document is encrypted (password-protected): its text cannot be read")
	}
	table := streams["0Table"]
	if flags&0x0200 != 0 {
		table = streams["1Table"]
	}
	// The FIB: a base of 32 bytes, then counted arrays of 16-bit and 32-bit
	// values, then the (offset, length) pairs; the CLX is pair 33.
	off := 0x20
	csw := int(le16(wd, off))
	off += 2 + 2*csw
	cslw := int(le16(wd, off))
	off += 2 + 4*cslw
	cbRgFcLcb := int(le16(wd, off))
	off += 2
	if cbRgFcLcb <= 33 || off+34*8 > len(wd) {
		return errors.New("not a readable Word document: its header is too short")
	}
	fcClx, lcbClx := int64(le32(wd, off+33*8)), int64(le32(wd, off+33*8+4))
	if fcClx < 0 || lcbClx <= 0 || fcClx+lcbClx > int64(len(table)) {
		return errors.New("not a readable Word document: its piece table is missing")
	}
	clx := table[fcClx : fcClx+lcbClx]
	// Skip the Prcs (formatting), to the Pcdt (the piece table).
	i := 0
	for i < len(clx) && clx[i] == 0x01 {
		if i+3 > len(clx) {
			return errors.New("not a readable Word document: its piece table is cut short")
		}
		i += 3 + int(le16(clx, i+1))
	}
	if i+5 > len(clx) || clx[i] != 0x02 {
		return errors.New("not a readable Word document: its piece table is missing")
	}
	lcb := int(le32(clx, i+1))
	plc := clx[i+5:]
	if lcb < 4 || lcb > len(plc) || (lcb-4)%12 != 0 {
		return errors.New("not a readable Word document: its piece table is cut short")
	}
	n := (lcb - 4) / 12
	w := &docWriter{out: out}
	for k := 0; k < n; k++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		start, end := int64(le32(plc, 4*k)), int64(le32(plc, 4*(k+1)))
		pcd := plc[4*(n+1)+8*k:]
		fc := le32(pcd, 2)
		chars := end - start
		if chars <= 0 || chars > int64(len(wd)) {
			continue
		}
		var piece string
		if fc&0x40000000 != 0 { // 8-bit text, in Windows-1252
			at := int64(fc&0x3FFFFFFF) / 2
			if at+chars > int64(len(wd)) {
				return errors.New("not a readable Word document: a piece of text lies outside it")
			}
			s, err := charmap.Windows1252.NewDecoder().Bytes(wd[at : at+chars])
			if err != nil {
				return err
			}
			piece = string(s)
		} else { // UTF-16
			at := int64(fc)
			if at+2*chars > int64(len(wd)) {
				return errors.New("not a readable Word document: a piece of text lies outside it")
			}
			u := make([]uint16, chars)
			for j := range u {
				u[j] = binary.LittleEndian.Uint16(wd[at+2*int64(j):])
			}
			piece = string(utf16.Decode(u))
		}
		if err := w.write(piece); err != nil {
			return err
		}
	}
	return w.flush()
}

// docWriter turns Word's special characters into text: paragraph and
// line marks into lines, cell marks into tabs, field codes (between the
// field's begin and separator marks) left out.
type docWriter struct {
	out   io.StringWriter
	b     strings.Builder
	field []bool // for each open field: whether its code is being skipped
}

func (w *docWriter) write(s string) error {
	for _, r := range s {
		skipping := len(w.field) > 0 && w.field[len(w.field)-1]
		switch r {
		case 0x13: // field begin: its code follows
			if len(w.field) < 64 {
				w.field = append(w.field, true)
			}
			continue
		case 0x14: // field separator: its result follows
			if len(w.field) > 0 {
				w.field[len(w.field)-1] = false
			}
			continue
		case 0x15: // field end
			if len(w.field) > 0 {
				w.field = w.field[:len(w.field)-1]
			}
			continue
		}
		if skipping {
			continue
		}
		switch r {
		case '\r', 0x0B:
			w.b.WriteByte('\n')
		case 0x07:
			w.b.WriteByte('\t')
		case 0x0C:
			w.b.WriteByte('\f')
		case 0x1E:
			w.b.WriteByte('-')
		case 0x01, 0x02, 0x05, 0x08, 0x1F:
			// pictures, note references, drawn objects, optional hyphens
		default:
			w.b.WriteRune(r)
		}
	}
	if w.b.Len() > 16<<10 {
		return w.flush()
	}
	return nil
}

func (w *docWriter) flush() error {
	if w.b.Len() == 0 {
		return nil
	}
	_, err := w.out.WriteString(w.b.String())
	w.b.Reset()
	return err
}

func le16(b []byte, off int) uint16 {
	if off < 0 || off+2 > len(b) {
		return 0
	}
	return binary.LittleEndian.Uint16(b[off:])
}

func le32(b []byte, off int) uint32 {
	if off < 0 || off+4 > len(b) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}
