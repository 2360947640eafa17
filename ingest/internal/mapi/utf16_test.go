package mapi

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unicode/utf16"
)

// TestDecodeUTF16 holds DecodeUTF16 to what string(utf16.Decode(...)) gives
// for the same code units without their trailing NULs: ASCII, other BMP
// characters, surrogate pairs, unpaired and reversed surrogates, odd lengths.
func TestDecodeUTF16(t *testing.T) {
	want := func(b []byte) string {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		for len(u) > 0 && u[len(u)-1] == 0 {
			u = u[:len(u)-1]
		}
		return string(utf16.Decode(u))
	}
	units := []uint16{0, 'a', 'Z', 0x7F, 0x80, 0xE9, 0x416, 0x4E2D, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFD, 0xFFFF}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		b := make([]byte, rng.IntN(24))
		for j := 0; j+1 < len(b); j += 2 {
			binary.LittleEndian.PutUint16(b[j:], units[rng.IntN(len(units))])
		}
		if i%7 == 0 && len(b) > 0 {
			b = b[:len(b)-1] // an odd byte at the end is ignored
		}
		if got, w := DecodeUTF16(b), want(b); got != w {
			t.Fatalf("DecodeUTF16(% x) = %q, want %q", b, got, w)
		}
	}
}
