package tnef

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Compressed RTF ([MS-OXRTFCP]) header magic values.
const (
	rtfCompressed   = 0x75465A4C // "LZFu"
	rtfUncompressed = 0x414C454D // "MELA"
)

// rtfPrebuf is the dictionary's initial content defined by [MS-OXRTFCP]
// 2.1.2.1; references into it let short RTF headers compress well.
// maxRTFPrealloc bounds the output buffer allocated before decoding, whatever
// the header declares; a larger body grows it as it decodes.
const maxRTFPrealloc = 64 << 10

const rtfPrebuf = "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}" +
	"{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier" +
	"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"

var errRTFShort = errors.New("shorter than its 16-byte header")

// decompressRTF expands a PidTagRtfCompressed value. It returns what it
// could decode together with an error describing any damage. The output is
// capped at limit bytes and at the header's raw size, and its buffer is
// sized by the header's raw size up to maxRTFPrealloc, growing past that
// only as real output arrives.
func decompressRTF(b []byte, limit int) ([]byte, error) {
	if len(b) < 16 {
		return nil, errRTFShort
	}
	compSize := binary.LittleEndian.Uint32(b)
	rawSize := binary.LittleEndian.Uint32(b[4:])
	magic := binary.LittleEndian.Uint32(b[8:])
	crc := binary.LittleEndian.Uint32(b[12:])
	var warn error
	// COMPSIZE counts the bytes after itself.
	end := len(b)
	if uint64(compSize)+4 < uint64(len(b)) {
		end = int(compSize) + 4
		if end < 16 {
			end = 16
		}
	} else if uint64(compSize)+4 > uint64(len(b)) {
		warn = fmt.Errorf("truncated: header claims %d bytes, %d present", uint64(compSize)+4, len(b))
	}
	in := b[16:end]
	if uint64(rawSize) < uint64(limit) {
		limit = int(rawSize)
	}
	switch magic {
	case rtfUncompressed:
		return append([]byte(nil), in[:min(len(in), limit)]...), warn
	case rtfCompressed:
	default:
		return nil, fmt.Errorf("unknown compression type 0x%08X", magic)
	}
	if got := ^crc32.Update(0xFFFFFFFF, crc32.IEEETable, in); got != crc && warn == nil {
		warn = fmt.Errorf("CRC 0x%08X, header says 0x%08X", got, crc)
	}
	// The buffer is sized by the declared raw size (limit is no larger),
	// bounded: sizing it by what the input could expand to (8 times) made
	// every stream allocate that much, whatever it held. A larger body
	// grows it as it decodes.
	out := make([]byte, 0, min(limit, maxRTFPrealloc))
	var dict [4096]byte
	copy(dict[:], rtfPrebuf)
	wp := len(rtfPrebuf)
	i := 0
	for i < len(in) {
		ctrl := in[i]
		i++
		for bit := 0; bit < 8; bit++ {
			if len(out) >= limit {
				return out, warn
			}
			if i >= len(in) {
				return out, warn
			}
			if ctrl&(1<<bit) == 0 {
				c := in[i]
				i++
				out = append(out, c)
				dict[wp] = c
				wp = (wp + 1) & 4095
				continue
			}
			if len(in)-i < 2 {
				return out, errors.Join(warn, errors.New("truncated dictionary reference"))
			}
			ref := int(in[i])<<8 | int(in[i+1])
			i += 2
			rp, n := ref>>4, ref&15+2
			if rp == wp {
				// A reference to the write position marks the end.
				return out, warn
			}
			for k := 0; k < n && len(out) < limit; k++ {
				c := dict[(rp+k)&4095]
				out = append(out, c)
				dict[wp] = c
				wp = (wp + 1) & 4095
			}
		}
	}
	return out, warn
}
