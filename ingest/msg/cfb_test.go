package msg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"
)

// Compound file constants used to build test files.
const (
	cfbSector     = 512
	cfbFreeSect   = 0xFFFFFFFF
	cfbEndOfChain = 0xFFFFFFFE
	cfbFATSect    = 0xFFFFFFFD
	cfbNoStream   = 0xFFFFFFFF
)

// cfbEntry is a directory entry for buildCFB.
type cfbEntry struct {
	name               string
	typ                byte // 1 storage, 2 stream, 5 root
	left, right, child uint32
	size               uint32 // declared stream size; the data is never there
}

// buildCFB writes a version 3 compound file holding only directory
// entries (no stream data), enough to exercise directory handling.
func buildCFB(entries []cfbEntry) []byte {
	dirSectors := (len(entries)*128 + cfbSector - 1) / cfbSector
	fatSectors := 1
	for (fatSectors+dirSectors+127)/128 > fatSectors {
		fatSectors++
	}
	total := fatSectors + dirSectors
	out := make([]byte, cfbSector*(1+total))
	h := out[:cfbSector]
	copy(h, signature)
	binary.LittleEndian.PutUint16(h[24:], 0x3E)
	binary.LittleEndian.PutUint16(h[26:], 3)
	binary.LittleEndian.PutUint16(h[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(h[30:], 9)
	binary.LittleEndian.PutUint16(h[32:], 6)
	binary.LittleEndian.PutUint32(h[44:], uint32(fatSectors))
	binary.LittleEndian.PutUint32(h[48:], uint32(fatSectors)) // directory starts after the FAT
	binary.LittleEndian.PutUint32(h[56:], 4096)
	binary.LittleEndian.PutUint32(h[60:], cfbEndOfChain)
	binary.LittleEndian.PutUint32(h[68:], cfbEndOfChain)
	for i := range 109 {
		v := uint32(cfbFreeSect)
		if i < fatSectors {
			v = uint32(i)
		}
		binary.LittleEndian.PutUint32(h[76+4*i:], v)
	}
	fat := out[cfbSector : cfbSector*(1+fatSectors)]
	for i := range len(fat) / 4 {
		v := uint32(cfbFreeSect)
		switch {
		case i < fatSectors:
			v = cfbFATSect
		case i < total-1:
			v = uint32(i + 1)
		case i == total-1:
			v = cfbEndOfChain
		}
		binary.LittleEndian.PutUint32(fat[4*i:], v)
	}
	dir := out[cfbSector*(1+fatSectors):]
	for i := range dirSectors * cfbSector / 128 {
		e := dir[i*128 : (i+1)*128]
		binary.LittleEndian.PutUint32(e[68:], cfbNoStream)
		binary.LittleEndian.PutUint32(e[72:], cfbNoStream)
		binary.LittleEndian.PutUint32(e[76:], cfbNoStream)
		if i >= len(entries) {
			continue
		}
		d := entries[i]
		name := utf16.Encode([]rune(d.name))
		for j, u := range name {
			binary.LittleEndian.PutUint16(e[2*j:], u)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*len(name)+2))
		e[66], e[67] = d.typ, 1
		binary.LittleEndian.PutUint32(e[68:], d.left)
		binary.LittleEndian.PutUint32(e[72:], d.right)
		binary.LittleEndian.PutUint32(e[76:], d.child)
		binary.LittleEndian.PutUint32(e[116:], cfbEndOfChain)
		binary.LittleEndian.PutUint32(e[120:], d.size)
	}
	return out
}

// deepCFB is a compound file whose storages nest n deep.
func deepCFB(n int) []byte {
	entries := []cfbEntry{{name: "Root Entry", typ: 5, left: cfbNoStream, right: cfbNoStream, child: 1}}
	for i := 1; i <= n; i++ {
		child := uint32(i + 1)
		if i == n {
			child = cfbNoStream
		}
		entries = append(entries, cfbEntry{name: "s", typ: 1, left: cfbNoStream, right: cfbNoStream, child: child})
	}
	return buildCFB(entries)
}

// TestDeepNesting checks the guard against mscfb's quadratic path copies: a
// 1 MiB file of storages nested 8000 deep cost it over 500 MiB before the
// guard; now it is refused cheaply, while legitimate depths still parse.
func TestDeepNesting(t *testing.T) {
	ok := deepCFB(maxStorageDepth)
	m, err := Parse(bytes.NewReader(ok), int64(len(ok)))
	if err != nil {
		t.Fatalf("depth %d: %v", maxStorageDepth, err)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "no message properties") {
		t.Errorf("warnings %q", m.Warnings)
	}

	deep := deepCFB(8000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err = Parse(bytes.NewReader(deep), int64(len(deep)))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrNotMSG) || m != nil {
		t.Errorf("depth 8000: %v, %v; want ErrNotMSG", m, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("depth 8000: allocated %d bytes", n)
	}
}

// TestLyingSizes checks that declared stream sizes are not trusted: a
// 2 KiB file claiming a 2 GiB subject and a 1 MiB body yields warnings, not
// allocations.
func TestLyingSizes(t *testing.T) {
	b := buildCFB([]cfbEntry{
		{name: "Root Entry", typ: 5, left: cfbNoStream, right: cfbNoStream, child: 1},
		{name: "__substg1.0_0037001F", typ: 2, left: cfbNoStream, right: 2, child: cfbNoStream, size: 1 << 31},
		{name: "__substg1.0_1000001F", typ: 2, left: cfbNoStream, right: cfbNoStream, child: cfbNoStream, size: 1 << 20},
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := Parse(bytes.NewReader(b), int64(len(b)))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("allocated %d bytes", n)
	}
	if len(m.Warnings) != 2 || !strings.Contains(m.Warnings[0], "claims 2147483648 bytes") {
		t.Errorf("warnings %q", m.Warnings)
	}
}
