package msg

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/council/casefile/ingest/internal/mapi"
)

// Property IDs ([MS-OXPROPS]) this package reads.
const (
	pidTagMessageClass                = 0x001A
	pidTagSubject                     = 0x0037
	pidTagClientSubmitTime            = 0x0039
	pidTagSubjectPrefix               = 0x003D
	pidTagSentRepresentingName        = 0x0042
	pidTagSentRepresentingAddressType = 0x0064
	pidTagSentRepresentingEmail       = 0x0065
	pidTagTransportMessageHeaders     = 0x007D
	pidTagSenderName                  = 0x0C1A
	pidTagSenderAddressType           = 0x0C1E
	pidTagSenderEmailAddress          = 0x0C1F
	pidTagRecipientType               = 0x0C15
	pidTagMessageDeliveryTime         = 0x0E06
	pidTagNormalizedSubject           = 0x0E1D
	pidTagBody                        = 0x1000
	pidTagHTML                        = 0x1013
	pidTagInternetMessageID           = 0x1035
	pidTagInReplyToID                 = 0x1042
	pidTagDisplayName                 = 0x3001
	pidTagAddressType                 = 0x3002
	pidTagEmailAddress                = 0x3003
	pidTagAttachDataBinary            = 0x3701 // also the embedded message storage, type PT_OBJECT
	pidTagAttachFilename              = 0x3704
	pidTagAttachMethod                = 0x3705
	pidTagAttachLongFilename          = 0x3707
	pidTagAttachMimeTag               = 0x370E
	pidTagAttachContentID             = 0x3712
	pidTagAttachFlags                 = 0x3714
	pidTagSMTPAddress                 = 0x39FE
	pidTagTransmittableDisplayName    = 0x3A20
	pidTagInternetCodepage            = 0x3FDE
	pidTagMessageLocaleID             = 0x3FF1
	pidTagMessageCodepage             = 0x3FFD
	pidTagSenderSMTPAddress           = 0x5D01
	pidTagSentRepresentingSMTPAddress = 0x5D02
	pidTagRecipientDisplayName        = 0x5FF6
	pidTagAttachmentHidden            = 0x7FFE
)

// Property types.
const (
	ptLong    = 0x0003
	ptBoolean = 0x000B
	ptObject  = 0x000D
	ptString8 = 0x001E
	ptUnicode = 0x001F
	ptSysTime = 0x0040
	ptBinary  = 0x0102
)

// Entry names inside a message storage; compared upper-cased because
// writers differ in the case of the hex digits and prefixes.
const (
	substgPrefix  = "__SUBSTG1.0_"
	propsStream   = "__PROPERTIES_VERSION1.0"
	recipPrefix   = "__RECIP_VERSION1.0_#"
	attachPrefix  = "__ATTACH_VERSION1.0_#"
	propEntrySize = 16
)

// Header sizes of the __properties_version1.0 stream ([MS-OXMSG] 2.4.1):
// the top-level message has counters and reserved space, an embedded message
// less, recipients and attachments only 8 reserved bytes.
const (
	propsHeaderTop      = 32
	propsHeaderEmbedded = 24
	propsHeaderChild    = 8
)

// store is the property set of one message, recipient or attachment storage.
type store struct {
	p       *parser
	m       *Message // receives warnings
	where   string   // prefix for warnings, and what follows it
	where2  string   // (a recipient's number, joined only for a warning)
	fixed   map[uint32][]byte
	streams map[uint32]*node
	objects map[uint32]*node
	cp      uint32 // code page of PT_STRING8 values
	found   bool   // a __properties_version1.0 stream was present
}

// newStore indexes the properties of storage n.
func (p *parser) newStore(n *node, headerLen int, m *Message, where string) *store {
	s := &store{p: p, m: m, where: where, streams: make(map[uint32]*node, len(n.kids)), cp: 1252}
	for _, k := range sortedKids(n) {
		name := k.key()
		if name == propsStream && !k.dir {
			s.found = true
			s.parseFixed(k, headerLen)
			continue
		}
		hex, ok := strings.CutPrefix(name, substgPrefix)
		if !ok || len(hex) != 8 {
			continue // multi-valued elements ("...-00000000") and other entries
		}
		tag, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			continue
		}
		if k.dir {
			if s.objects == nil {
				s.objects = map[uint32]*node{} // PT_OBJECT storages are rare
			}
			s.objects[uint32(tag)] = k
		} else {
			s.streams[uint32(tag)] = k
		}
	}
	return s
}

// sortedKids lists a storage's children in name order, so that output does
// not depend on map iteration.
func sortedKids(n *node) []*node {
	kids := make([]*node, 0, len(n.kids))
	for _, k := range n.kids {
		k.key() // the name in upper case, computed once: a .msg with many recipients has thousands of kids
		kids = append(kids, k)
	}
	slices.SortFunc(kids, func(a, b *node) int {
		if c := strings.Compare(a.upper, b.upper); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return kids
}

func (s *store) warn(format string, args ...any) {
	if s.where != "" {
		format = s.where + s.where2 + ": " + format
	}
	s.p.warn(s.m, format, args...)
}

// parseFixed reads the 16-byte entries of __properties_version1.0: tag,
// flags and an 8-byte value that holds fixed-size properties in place.
func (s *store) parseFixed(n *node, headerLen int) {
	b, err := s.p.readStream(n)
	if err != nil {
		s.warn("properties: %v", err)
	}
	if len(b) < headerLen {
		if len(b) > 0 || err == nil {
			s.warn("properties stream of %d bytes is shorter than its %d-byte header", len(b), headerLen)
		}
		return
	}
	body := b[headerLen:]
	if s.fixed == nil {
		s.fixed = make(map[uint32][]byte, len(body)/propEntrySize)
	}
	if len(body)%propEntrySize != 0 {
		s.warn("properties stream has %d stray bytes", len(body)%propEntrySize)
	}
	for i := 0; i+propEntrySize <= len(body); i += propEntrySize {
		tag := binary.LittleEndian.Uint32(body[i:])
		s.fixed[tag] = body[i+8 : i+16]
	}
}

func tag(id, typ uint16) uint32 { return uint32(id)<<16 | uint32(typ) }

// stream returns the content of a property stream, warning on read errors.
func (s *store) stream(id, typ uint16) ([]byte, bool) {
	n, ok := s.streams[tag(id, typ)]
	if !ok {
		return nil, false
	}
	b, err := s.p.readStream(n)
	if err != nil {
		s.warn("property %04X%04X: %v", id, typ, err)
	}
	return b, true
}

// str returns a string property, preferring the Unicode form.
func (s *store) str(id uint16) string {
	if b, ok := s.stream(id, ptUnicode); ok {
		return mapi.DecodeUTF16(b)
	}
	if b, ok := s.stream(id, ptString8); ok {
		return mapi.DecodeString8(b, s.cp)
	}
	return ""
}

// has reports whether a string property is present, even if empty.
func (s *store) has(id uint16) bool {
	_, u := s.streams[tag(id, ptUnicode)]
	_, a := s.streams[tag(id, ptString8)]
	return u || a
}

func (s *store) long(id uint16) (uint32, bool) {
	v, ok := s.fixed[tag(id, ptLong)]
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(v), true
}

func (s *store) boolean(id uint16) bool {
	v, ok := s.fixed[tag(id, ptBoolean)]
	return ok && v[0] != 0
}

func (s *store) time(id uint16) time.Time {
	v, ok := s.fixed[tag(id, ptSysTime)]
	if !ok {
		return time.Time{}
	}
	return filetime(binary.LittleEndian.Uint64(v))
}

// filetime converts a Windows FILETIME (100 ns ticks since 1601) to UTC.
func filetime(ft uint64) time.Time {
	if ft == 0 || ft == 1<<63-1 || ft == 1<<64-1 {
		return time.Time{} // unset, or the "never" sentinels
	}
	const epochDiff = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	return time.Unix(int64(ft/1e7)-epochDiff, int64(ft%1e7)*100).UTC()
}
