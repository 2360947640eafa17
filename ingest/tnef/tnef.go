// Package tnef decodes Transport Neutral Encapsulation Format streams
// ([MS-OXTNEF]), the "winmail.dat" attachments that Outlook and Exchange send
// in place of ordinary MIME parts, into the files and message text they carry.
//
// Input is treated as hostile: every length is checked against the bytes that
// are actually there, nothing is allocated from a declared size alone, and the
// number of attachments and the bytes produced are capped. Damage that still
// leaves something usable is reported in Message.Warnings rather than as an
// error, because a partly readable case record beats a rejected one.
package tnef

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/council/casefile/ingest/internal/mapi"
	"strings"
	"time"
)

// Signature is the little-endian magic number at the start of every TNEF stream.
const Signature = 0x223E9F78

// Limits on what one Decode call produces. They bound memory for a stream
// crafted to expand: attachment data is copied out of the input, so it can
// never exceed len(data), but compressed RTF and nested messages could.
const (
	MaxAttachments = 1000      // attachments kept, counting nested messages' ones
	MaxTotalSize   = 256 << 20 // bytes of attachment data and bodies produced
	MaxDepth       = 8         // nesting of embedded messages
	maxWarnings    = 100       // a corrupt stream must not grow the warning list without end
)

// ErrNotTNEF is returned when the input does not start with the TNEF signature.
var ErrNotTNEF = errors.New("tnef: not a TNEF stream")

// Attachment is one file carried in the stream.
type Attachment struct {
	// Name is the long filename, else the 8.3 title, else the display name,
	// else "attachment-N" (N counting from 1). Any directory part and
	// control characters are removed, since the sender chose it.
	Name        string
	ContentType string // best guess from the MIME tag or the extension; may be ""
	Data        []byte
	Modified    time.Time
	ContentID   string
	// Message is the decoded embedded message when the attachment is itself an
	// Outlook item (attach method 5); Data then holds its raw TNEF encoding.
	Message *Message
}

// Message is what Decode recovers from a TNEF stream.
type Message struct {
	Subject      string
	MessageClass string
	Body         string // plain text body if present
	HTMLBody     string // HTML body if present, decoded to UTF-8
	BodyRTF      []byte // decompressed RTF body if present
	Attachments  []Attachment
	Warnings     []string
}

// IsTNEF reports whether data starts with the TNEF signature.
func IsTNEF(data []byte) bool {
	return len(data) >= 4 && binary.LittleEndian.Uint32(data) == Signature
}

// Decode parses a TNEF stream. It returns ErrNotTNEF when the signature is
// missing; any later damage is reported in Message.Warnings and decoding
// salvages what it can.
func Decode(data []byte) (*Message, error) {
	if !IsTNEF(data) {
		return nil, ErrNotTNEF
	}
	d := &decoder{budget: MaxTotalSize}
	m := d.decode(data, 0)
	if d.warnOverflow > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%d further warnings dropped", d.warnOverflow))
	}
	return m, nil
}

// decoder holds the limits shared by a stream and the messages nested in it.
type decoder struct {
	budget       int64 // bytes that may still be produced
	attachments  int   // attachments produced so far, at every depth
	warnings     int
	warnOverflow int
}

// take reserves n bytes of the output budget.
func (d *decoder) take(n int) bool {
	if int64(n) > d.budget {
		return false
	}
	d.budget -= int64(n)
	return true
}

// TNEF attribute levels.
const (
	lvlMessage    = 0x01
	lvlAttachment = 0x02
)

// Attribute IDs (the low 16 bits of the attribute tag). The high 16 bits give
// a type that writers do not always set consistently, so only the ID is
// matched.
const (
	attSubject          = 0x8004
	attMessageClass     = 0x8008
	attBody             = 0x800C
	attAttachData       = 0x800F
	attAttachTitle      = 0x8010
	attAttachModifyDate = 0x8013
	attAttachRendData   = 0x9002
	attMsgProps         = 0x9003
	attAttachment       = 0x9005
	attOemCodepage      = 0x9007
)

// msgState collects one message while its attributes are read.
type msgState struct {
	d        *decoder
	m        *Message
	depth    int
	oemCP    uint32 // code page of legacy attribute strings
	cur      *attachState
	atts     []*attachState
	dropping bool // attachment limit reached: ignore attachment attributes
	props    propSet
}

type attachState struct {
	title    string
	data     []byte
	hasData  bool
	modified time.Time
	props    propSet
}

func (d *decoder) warn(m *Message, format string, args ...any) {
	if d.warnings >= maxWarnings {
		d.warnOverflow++
		return
	}
	d.warnings++
	m.Warnings = append(m.Warnings, fmt.Sprintf(format, args...))
}

// decode reads the attribute sequence of one stream. data starts at the
// signature.
func (d *decoder) decode(data []byte, depth int) *Message {
	s := &msgState{d: d, m: &Message{}, depth: depth, oemCP: 1252}
	off := 6 // signature and legacy key
	if len(data) < off {
		d.warn(s.m, "stream ends inside the header")
		return s.m
	}
	for off < len(data) {
		// level(1) id(2) type(2) length(4), then the data and a 2-byte checksum.
		if len(data)-off < 9 {
			// A CR LF or NUL tail is left by tools that saved the stream
			// as text; anything else is worth a mention.
			if strings.Trim(string(data[off:]), "\r\n\x00") != "" {
				d.warn(s.m, "%d trailing bytes at offset %d are not an attribute", len(data)-off, off)
			}
			break
		}
		level := data[off]
		id := binary.LittleEndian.Uint16(data[off+1:])
		n := binary.LittleEndian.Uint32(data[off+5:])
		body := off + 9
		if uint64(n)+2 > uint64(len(data)-body) {
			d.warn(s.m, "attribute 0x%04X at offset %d claims %d bytes, only %d remain", id, off, n, len(data)-body)
			break
		}
		start := off
		val := data[body : body+int(n)]
		sum := binary.LittleEndian.Uint16(data[body+int(n):])
		if got := checksum(val); got != sum {
			d.warn(s.m, "attribute 0x%04X at offset %d: checksum 0x%04X, want 0x%04X", id, start, got, sum)
		}
		off = body + int(n) + 2
		switch level {
		case lvlMessage:
			s.messageAttr(id, val)
		case lvlAttachment:
			s.attachAttr(id, val)
		default:
			d.warn(s.m, "attribute 0x%04X at offset %d has unknown level %d; skipped", id, start, level)
		}
	}
	s.finish()
	return s.m
}

// checksum is the TNEF attribute checksum: the byte sum modulo 65536.
func checksum(b []byte) uint16 {
	var s uint16
	for _, c := range b {
		s += uint16(c)
	}
	return s
}

func (s *msgState) messageAttr(id uint16, val []byte) {
	switch id {
	case attSubject:
		if s.m.Subject == "" {
			s.m.Subject = mapi.DecodeString8(val, s.oemCP)
		}
	case attMessageClass:
		if s.m.MessageClass == "" {
			s.m.MessageClass = mapi.DecodeString8(val, s.oemCP)
		}
	case attBody:
		if s.m.Body == "" {
			s.m.Body = mapi.DecodeString8(val, s.oemCP)
		}
	case attOemCodepage:
		if len(val) >= 4 {
			s.oemCP = binary.LittleEndian.Uint32(val)
		}
	case attMsgProps:
		s.props.merge(s.d.parseProps(s.m, val, "message properties"))
	case attAttachRendData:
		// Some writers put attachment attributes at message level; treat
		// the rendering data as starting an attachment wherever it is.
		s.newAttachment()
	}
}

func (s *msgState) newAttachment() {
	if s.dropping {
		return
	}
	if s.d.attachments >= MaxAttachments {
		s.d.warn(s.m, "more than %d attachments; the rest are dropped", MaxAttachments)
		s.dropping = true
		s.cur = nil
		return
	}
	s.d.attachments++
	s.cur = &attachState{}
	s.atts = append(s.atts, s.cur)
}

func (s *msgState) attachAttr(id uint16, val []byte) {
	if id == attAttachRendData {
		s.newAttachment()
		return
	}
	if s.cur == nil {
		if s.dropping {
			return
		}
		// An attachment attribute before any attRenddata: start one anyway
		// rather than lose the data.
		s.d.warn(s.m, "attachment attribute 0x%04X before attAttachRendData", id)
		s.newAttachment()
		if s.cur == nil {
			return
		}
	}
	a := s.cur
	switch id {
	case attAttachTitle:
		a.title = mapi.DecodeString8(val, s.oemCP)
	case attAttachData:
		if !s.d.take(len(val)) {
			s.d.warn(s.m, "attachment data dropped: output limit of %d bytes reached", MaxTotalSize)
			return
		}
		a.data = append([]byte(nil), val...)
		a.hasData = true
	case attAttachModifyDate:
		a.modified = decodeDTR(val)
	case attAttachment:
		a.props.merge(s.d.parseProps(s.m, val, "attachment properties"))
	}
}

// decodeDTR reads the TNEF date structure: year, month, day, hour, minute,
// second and weekday as 16-bit words. The writer's local time is not
// recorded, so the value is taken as UTC.
func decodeDTR(b []byte) time.Time {
	if len(b) < 12 {
		return time.Time{}
	}
	w := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	y, mo, dd := w(0), w(1), w(2)
	if y == 0 || mo < 1 || mo > 12 || dd < 1 || dd > 31 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), dd, w(3), w(4), w(5), 0, time.UTC)
}

// finish turns the collected attributes into the public Message.
func (s *msgState) finish() {
	m, p := s.m, &s.props
	cp := s.oemCP
	if v, ok := p.long(pidTagMessageCodepage); ok && v != 0 {
		cp = v
	}
	if v := p.str(pidTagSubject, cp); v != "" {
		m.Subject = v
	} else if m.Subject == "" {
		// Some writers (Zimbra among them) send only the conversation
		// topic, which is the subject without its "RE:"-style prefix.
		m.Subject = p.str(pidTagConversationTopic, cp)
	}
	if v := p.str(pidTagMessageClass, cp); v != "" {
		m.MessageClass = v
	}
	if v := p.str(pidTagBody, cp); v != "" {
		m.Body = v
	}
	if v, ok := p.get(pidTagHTML); ok {
		htmlCP := cp
		if c, ok := p.long(pidTagInternetCodepage); ok && c != 0 {
			htmlCP = c
		}
		m.HTMLBody = v.text(htmlCP)
	}
	if v, ok := p.get(pidTagRtfCompressed); ok && len(v.data) > 0 {
		rtf, err := decompressRTF(v.data, int(min(s.d.budget, int64(MaxTotalSize))))
		if err != nil {
			s.d.warn(m, "compressed RTF body: %v", err)
		}
		if len(rtf) > 0 && s.d.take(len(rtf)) {
			m.BodyRTF = rtf
		}
	}
	for i, a := range s.atts {
		m.Attachments = append(m.Attachments, s.attachment(i, a, cp))
	}
}

func (s *msgState) attachment(i int, a *attachState, cp uint32) Attachment {
	p := &a.props
	out := Attachment{Name: a.title, Data: a.data, Modified: a.modified}
	if v := p.str(pidTagAttachLongFilename, cp); v != "" {
		out.Name = v
	} else if out.Name == "" {
		out.Name = p.str(pidTagAttachFilename, cp)
	}
	if out.Name == "" {
		out.Name = p.str(pidTagDisplayName, cp)
	}
	out.ContentID = strings.Trim(p.str(pidTagAttachContentID, cp), "<>")
	if t, ok := p.time(pidTagLastModificationTime); ok && out.Modified.IsZero() {
		out.Modified = t
	}
	if v, ok := p.get(pidTagAttachDataBinary); ok && !a.hasData {
		// No attAttachData: the data lives in the MAPI property instead.
		if v.typ == ptObject {
			out.Data = s.objectData(i, v.data)
			if out.Data != nil && isIIDMessage(v.data) && IsTNEF(out.Data) {
				if s.depth+1 >= MaxDepth {
					s.d.warn(s.m, "attachment %d: embedded message nested deeper than %d; not decoded", i, MaxDepth)
				} else {
					out.Message = s.d.decode(out.Data, s.depth+1)
				}
			}
		} else if s.d.take(len(v.data)) {
			out.Data = append([]byte(nil), v.data...)
		} else {
			s.d.warn(s.m, "attachment %d: data dropped: output limit reached", i)
		}
	}
	out.ContentType = strings.TrimSpace(p.str(pidTagAttachMimeTag, cp))
	if out.ContentType == "" {
		if out.Message != nil {
			out.ContentType = "application/ms-tnef"
		} else {
			out.ContentType = mapi.TypeByExtension(out.Name)
		}
	}
	out.Name = mapi.CleanName(out.Name)
	if out.Name == "" {
		out.Name = fmt.Sprintf("attachment-%d", i+1)
	}
	return out
}

// objectData copies the bytes of a PT_OBJECT value, which start with the
// 16-byte interface identifier of the object.
func (s *msgState) objectData(i int, v []byte) []byte {
	if len(v) < 16 {
		s.d.warn(s.m, "attachment %d: object value of %d bytes has no interface identifier", i, len(v))
		return nil
	}
	if !s.d.take(len(v) - 16) {
		s.d.warn(s.m, "attachment %d: data dropped: output limit reached", i)
		return nil
	}
	return append([]byte(nil), v[16:]...)
}
