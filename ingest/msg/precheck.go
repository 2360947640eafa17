package msg

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxStorageDepth bounds how deeply storages may nest. A .msg file needs two
// levels per embedded message (attachment storage, then message storage),
// so MaxDepth embeddings fit well within it.
const maxStorageDepth = 64

// CheckNesting walks the compound file's directory before mscfb does.
// mscfb gives every storage a copy of its parent's path, so a chain of n
// nested storages costs it memory in n²: about 2 GiB for a 2 MiB file. This
// walk keeps 12 bytes per entry and rejects such files first. It returns nil
// for anything it cannot make sense of, leaving the verdict to mscfb.
func CheckNesting(ra io.ReaderAt, size int64) error {
	var h [512]byte
	if _, err := ra.ReadAt(h[:], 0); err != nil {
		return nil
	}
	var ss int64
	switch binary.LittleEndian.Uint16(h[30:]) {
	case 9:
		ss = 512
	case 12:
		ss = 4096
	default:
		return nil
	}
	perSector := ss / 4
	maxSectors := size/ss + 1 // a chain longer than this has a cycle
	b4 := make([]byte, 4)     // one buffer for every read of a FAT entry
	u32 := func(off int64) (uint32, bool) {
		if off < 0 || off+4 > size {
			return 0, false
		}
		if _, err := ra.ReadAt(b4, off); err != nil {
			return 0, false
		}
		return binary.LittleEndian.Uint32(b4), true
	}
	sectorOff := func(sn uint32) int64 { return (int64(sn) + 1) * ss }

	// The FAT's own sectors are listed in the DIFAT: 109 in the header,
	// the rest in a chain of DIFAT sectors.
	difat := make([]uint32, 0, 109)
	for i := range 109 {
		difat = append(difat, binary.LittleEndian.Uint32(h[76+4*i:]))
	}
	next := binary.LittleEndian.Uint32(h[68:])
	for n := binary.LittleEndian.Uint32(h[72:]); n > 0 && int64(len(difat)) < maxSectors; n-- {
		for i := range perSector - 1 {
			v, ok := u32(sectorOff(next) + 4*i)
			if !ok {
				return nil
			}
			difat = append(difat, v)
		}
		v, ok := u32(sectorOff(next) + 4*(perSector-1))
		if !ok {
			return nil
		}
		next = v
	}
	fatNext := func(sn uint32) (uint32, bool) {
		i := int64(sn) / perSector
		if i >= int64(len(difat)) {
			return 0, false
		}
		return u32(sectorOff(difat[i]) + 4*(int64(sn)%perSector))
	}

	// Directory entries: keep only the left, right and child links.
	type links struct{ left, right, child uint32 }
	var dir []links
	sn := binary.LittleEndian.Uint32(h[48:])
	buf := make([]byte, ss)
	for n := int64(0); sn < 0xFFFFFFFA && n < maxSectors; n++ {
		if _, err := ra.ReadAt(buf, sectorOff(sn)); err != nil {
			break
		}
		for e := int64(0); e+128 <= ss; e += 128 {
			dir = append(dir, links{
				binary.LittleEndian.Uint32(buf[e+68:]),
				binary.LittleEndian.Uint32(buf[e+72:]),
				binary.LittleEndian.Uint32(buf[e+76:]),
			})
		}
		var ok bool
		if sn, ok = fatNext(sn); !ok {
			break
		}
	}
	if len(dir) == 0 {
		return nil
	}

	// Depth-first over the tree: siblings share a depth, a child is one
	// deeper. Each entry is visited once, so cycles end the walk.
	type item struct {
		id    uint32
		depth int
	}
	seen := make([]bool, len(dir))
	stack := []item{{0, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if int64(it.id) >= int64(len(dir)) || seen[it.id] {
			continue
		}
		seen[it.id] = true
		if it.depth > maxStorageDepth {
			return fmt.Errorf("storages nest more than %d deep", maxStorageDepth)
		}
		l := dir[it.id]
		stack = append(stack, item{l.left, it.depth}, item{l.right, it.depth}, item{l.child, it.depth + 1})
	}
	return nil
}
