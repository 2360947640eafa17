package tnef

import (
	"bytes"
	"encoding/binary"
	"github.com/council/casefile/ingest/internal/mapi"
	"time"
)

// MAPI property IDs this package reads.
const (
	pidTagMessageClass         = 0x001A
	pidTagSubject              = 0x0037
	pidTagConversationTopic    = 0x0070
	pidTagBody                 = 0x1000
	pidTagRtfCompressed        = 0x1009
	pidTagHTML                 = 0x1013
	pidTagDisplayName          = 0x3001
	pidTagLastModificationTime = 0x3008
	pidTagAttachDataBinary     = 0x3701
	pidTagAttachFilename       = 0x3704
	pidTagAttachLongFilename   = 0x3707
	pidTagAttachMimeTag        = 0x370E
	pidTagAttachContentID      = 0x3712
	pidTagInternetCodepage     = 0x3FDE
	pidTagMessageCodepage      = 0x3FFD
)

// MAPI property types.
const (
	ptNull    = 0x0001
	ptShort   = 0x0002
	ptLong    = 0x0003
	ptFloat   = 0x0004
	ptDouble  = 0x0005
	ptCurr    = 0x0006
	ptAppTime = 0x0007
	ptError   = 0x000A
	ptBoolean = 0x000B
	ptObject  = 0x000D
	ptI8      = 0x0014
	ptString8 = 0x001E
	ptUnicode = 0x001F
	ptSysTime = 0x0040
	ptCLSID   = 0x0048
	ptBinary  = 0x0102

	mvFlag       = 0x1000
	mvInstanceFl = 0x2000
)

// iidMessage is IID_IMessage as stored on disk; a PT_OBJECT value starting
// with it holds an embedded message encoded as a nested TNEF stream.
var iidMessage = []byte{0x07, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}

func isIIDMessage(v []byte) bool { return bytes.HasPrefix(v, iidMessage) }

// propValue is the first value of a single-valued property, undecoded. data
// aliases the input.
type propValue struct {
	typ  uint16
	data []byte
}

// propSet holds the single-valued, non-named properties of one object.
type propSet map[uint16]propValue

func (p *propSet) merge(q propSet) {
	if *p == nil {
		*p = q
		return
	}
	for k, v := range q {
		(*p)[k] = v
	}
}

func (p propSet) get(id uint16) (propValue, bool) {
	v, ok := p[id]
	return v, ok
}

func (p propSet) str(id uint16, cp uint32) string {
	v, ok := p[id]
	if !ok {
		return ""
	}
	switch v.typ {
	case ptString8, ptUnicode:
		return v.text(cp)
	}
	return ""
}

func (p propSet) long(id uint16) (uint32, bool) {
	v, ok := p[id]
	if !ok || v.typ != ptLong || len(v.data) < 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(v.data), true
}

func (p propSet) time(id uint16) (time.Time, bool) {
	v, ok := p[id]
	if !ok || v.typ != ptSysTime || len(v.data) < 8 {
		return time.Time{}, false
	}
	t := filetime(binary.LittleEndian.Uint64(v.data))
	return t, !t.IsZero()
}

// text decodes a string or binary value: UTF-16LE for PT_UNICODE, the given
// code page otherwise.
func (v propValue) text(cp uint32) string {
	if v.typ == ptUnicode {
		return mapi.DecodeUTF16(v.data)
	}
	return mapi.DecodeString8(v.data, cp)
}

// filetime converts a Windows FILETIME (100 ns ticks since 1601) to UTC.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	const epochDiff = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	sec := int64(ft/1e7) - epochDiff
	return time.Unix(sec, int64(ft%1e7)*100).UTC()
}

func isVariable(t uint16) bool {
	switch t {
	case ptString8, ptUnicode, ptBinary, ptObject:
		return true
	}
	return false
}

// fixedSize is the encoded size of one fixed-size value, padding included;
// 0 for a type this package cannot size, after which the rest of the list
// cannot be located.
func fixedSize(t uint16) int {
	switch t {
	case ptNull, ptShort, ptLong, ptFloat, ptError, ptBoolean:
		return 4
	case ptDouble, ptCurr, ptAppTime, ptI8, ptSysTime:
		return 8
	case ptCLSID:
		return 16
	}
	return 0
}

// parseProps reads an attMsgProps or attAttachment value: a counted list of
// MAPI properties. The count is never used to size anything; the loop stops
// at the first value that does not fit in b.
func (d *decoder) parseProps(m *Message, b []byte, what string) propSet {
	ps := propSet{}
	if len(b) < 4 {
		d.warn(m, "%s: %d bytes, too short for a property count", what, len(b))
		return ps
	}
	count := binary.LittleEndian.Uint32(b)
	off := 4
	u32 := func() (uint32, bool) {
		if len(b)-off < 4 {
			return 0, false
		}
		v := binary.LittleEndian.Uint32(b[off:])
		off += 4
		return v, true
	}
	for i := uint32(0); i < count; i++ {
		tag, ok := u32()
		if !ok {
			d.warn(m, "%s: only %d of %d properties present", what, i, count)
			return ps
		}
		typ, id := uint16(tag), uint16(tag>>16)
		if id >= 0x8000 {
			// Named property: GUID, kind, then a numeric ID or a
			// length-prefixed UTF-16 name padded to 4 bytes.
			if len(b)-off < 16 {
				d.warn(m, "%s: property %d: truncated name", what, i)
				return ps
			}
			off += 16
			kind, ok := u32()
			if !ok {
				d.warn(m, "%s: property %d: truncated name", what, i)
				return ps
			}
			switch kind {
			case 0:
				if _, ok := u32(); !ok {
					d.warn(m, "%s: property %d: truncated name", what, i)
					return ps
				}
			case 1:
				n, ok := u32()
				if !ok || uint64(n) > uint64(len(b)-off) {
					d.warn(m, "%s: property %d: truncated name", what, i)
					return ps
				}
				off = min(off+pad4(int(n)), len(b))
			default:
				d.warn(m, "%s: property %d: unknown name kind %d", what, i, kind)
				return ps
			}
		}
		mv := typ&mvFlag != 0
		base := typ &^ (mvFlag | mvInstanceFl)
		nvals := uint32(1)
		if mv || isVariable(base) {
			if nvals, ok = u32(); !ok {
				d.warn(m, "%s: property %04X: truncated value count", what, id)
				return ps
			}
		}
		size := 0
		if !isVariable(base) {
			if size = fixedSize(base); size == 0 {
				d.warn(m, "%s: property %04X has unknown type 0x%04X; rest of list skipped", what, id, typ)
				return ps
			}
		}
		var first []byte
		// Every value consumes at least 4 bytes, so this loop ends within
		// len(b)/4 rounds whatever nvals says.
		for j := uint32(0); j < nvals; j++ {
			var v []byte
			if size == 0 {
				n, ok := u32()
				if !ok || uint64(n) > uint64(len(b)-off) {
					d.warn(m, "%s: property %04X: value overruns the attribute", what, id)
					return ps
				}
				v = b[off : off+int(n)]
				off = min(off+pad4(int(n)), len(b))
			} else {
				if len(b)-off < size {
					d.warn(m, "%s: property %04X: value overruns the attribute", what, id)
					return ps
				}
				v = b[off : off+size]
				off += size
			}
			if j == 0 {
				first = v
			}
		}
		if !mv && id < 0x8000 && nvals > 0 {
			ps[id] = propValue{typ: base, data: first}
		}
	}
	return ps
}

// pad4 rounds n up to a multiple of 4 without overflowing.
func pad4(n int) int {
	if r := n % 4; r != 0 {
		return n + 4 - r
	}
	return n
}
