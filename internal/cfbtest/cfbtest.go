// Package cfbtest builds OLE compound files for tests: a .msg whose
// attachments are as large as a test needs, which no corpus file is, and a
// Word 97-2003 .doc.
package cfbtest

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

const (
	cfbFreeSect   = 0xFFFFFFFF
	cfbEndOfChain = 0xFFFFFFFE
	cfbFATSect    = 0xFFFFFFFD
	cfbNoStream   = 0xFFFFFFFF
)

var signature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// AttachName is the storage name of a .msg's attachment i.
func AttachName(i int) string { return fmt.Sprintf("__attach_version1.0_#%08X", i) }

// File is a stream for Build: the storages it is in, from the root (for a
// .msg's attachment, one "__attach_version1.0_#0000000N"), its name (""
// is a .msg attachment's data, "__substg1.0_37010102"), and its content.
type File struct {
	Path []string
	Name string
	Data []byte
}

// Build writes a version 4 compound file (4096-byte sectors) holding
// streams of at least 4096 bytes (so that no mini stream is needed), each
// in storages of its own.
func Build(files []File) []byte {
	const ss = 4096
	type entry struct {
		name      string
		typ       byte
		child     uint32
		right     uint32
		start     uint32
		size      uint64
		data      []byte
		sectorCnt int
	}
	entries := []*entry{{name: "Root Entry", typ: 5, child: cfbNoStream, right: cfbNoStream, start: cfbEndOfChain}}
	for _, f := range files {
		parent := entries[0]
		for _, s := range f.Path {
			e := &entry{name: s, typ: 1, child: cfbNoStream, right: cfbNoStream}
			entries = append(entries, e)
			e.right = parent.child // siblings as a right-leaning chain
			parent.child = uint32(len(entries) - 1)
			parent = e
		}
		name := f.Name
		if name == "" {
			name = "__substg1.0_37010102"
		}
		e := &entry{name: name, typ: 2, child: cfbNoStream, right: parent.child, data: f.Data,
			size: uint64(len(f.Data)), sectorCnt: (len(f.Data) + ss - 1) / ss}
		entries = append(entries, e)
		parent.child = uint32(len(entries) - 1)
	}
	dirSectors := (len(entries)*128 + ss - 1) / ss
	data := 0
	for _, e := range entries {
		data += e.sectorCnt
	}
	fatSectors := 1
	for (fatSectors+dirSectors+data+1023)/1024 > fatSectors {
		fatSectors++
	}
	total := fatSectors + dirSectors + data
	out := make([]byte, ss*(1+total))
	h := out[:512]
	copy(h, signature)
	binary.LittleEndian.PutUint16(h[24:], 0x3E)
	binary.LittleEndian.PutUint16(h[26:], 4)
	binary.LittleEndian.PutUint16(h[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(h[30:], 12)
	binary.LittleEndian.PutUint16(h[32:], 6)
	binary.LittleEndian.PutUint32(h[40:], uint32(dirSectors))
	binary.LittleEndian.PutUint32(h[44:], uint32(fatSectors))
	binary.LittleEndian.PutUint32(h[48:], uint32(fatSectors))
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
	fat := func(sn int, v uint32) { binary.LittleEndian.PutUint32(out[ss+4*sn:], v) }
	for i := range fatSectors * 1024 {
		fat(i, cfbFreeSect)
	}
	for i := range fatSectors {
		fat(i, cfbFATSect)
	}
	chain := func(first, n int) {
		for i := first; i < first+n-1; i++ {
			fat(i, uint32(i+1))
		}
		fat(first+n-1, cfbEndOfChain)
	}
	chain(fatSectors, dirSectors)
	next := fatSectors + dirSectors
	for _, e := range entries {
		if e.sectorCnt == 0 {
			continue
		}
		e.start = uint32(next)
		chain(next, e.sectorCnt)
		copy(out[ss*(1+next):], e.data)
		next += e.sectorCnt
	}
	dir := out[ss*(1+fatSectors):]
	for i := range dirSectors * ss / 128 {
		d := dir[i*128 : (i+1)*128]
		binary.LittleEndian.PutUint32(d[68:], cfbNoStream)
		binary.LittleEndian.PutUint32(d[72:], cfbNoStream)
		binary.LittleEndian.PutUint32(d[76:], cfbNoStream)
		if i >= len(entries) {
			continue
		}
		e := entries[i]
		name := utf16.Encode([]rune(e.name))
		for j, u := range name {
			binary.LittleEndian.PutUint16(d[2*j:], u)
		}
		binary.LittleEndian.PutUint16(d[64:], uint16(2*len(name)+2))
		d[66], d[67] = e.typ, 1
		binary.LittleEndian.PutUint32(d[72:], e.right)
		binary.LittleEndian.PutUint32(d[76:], e.child)
		binary.LittleEndian.PutUint32(d[116:], e.start)
		binary.LittleEndian.PutUint64(d[120:], e.size)
	}
	return out
}
