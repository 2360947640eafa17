package mapi

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeUTF16 decodes little-endian UTF-16 without its trailing NULs, as
// string(utf16.Decode(...)) does (an unpaired surrogate becomes U+FFFD), in
// one allocation for the usual ASCII-only value: a .msg with many recipients
// has thousands of these strings. PT_UNICODE values of .msg and TNEF files.
func DecodeUTF16(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}
	var out strings.Builder
	out.Grow(n)
	for i := 0; i < n; i++ {
		r := rune(binary.LittleEndian.Uint16(b[2*i:]))
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(byte(r))
		case utf16.IsSurrogate(r):
			if r < 0xDC00 && i+1 < n {
				if r2 := rune(binary.LittleEndian.Uint16(b[2*i+2:])); 0xDC00 <= r2 && r2 < 0xE000 {
					out.WriteRune(utf16.DecodeRune(r, r2))
					i++
					continue
				}
			}
			out.WriteRune(utf8.RuneError)
		default:
			out.WriteRune(r)
		}
	}
	return out.String()
}
