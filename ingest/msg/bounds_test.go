package msg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// Subjects, names and identifiers are cut to MaxTextBytes with a warning;
// a sender could make them as long as the file.
func TestTextFieldsAreCapped(t *testing.T) {
	long := strings.Repeat("é", 50_000) // 100,000 bytes of UTF-8
	root := storage("", fixed(propsHeaderTop, nil),
		str(pidTagSubject, long), str(pidTagSenderName, long), str(pidTagInternetMessageID, long),
		storage("__recip_version1.0_#00000000", str(pidTagDisplayName, long)),
		storage(attachName(0), str(pidTagAttachMimeTag, long), stream("__substg1.0_37010102", []byte("x"))))
	m := parseTree(root)
	for what, v := range map[string]string{"subject": m.Subject, "sender": m.From.Name, "message ID": m.MessageID,
		"recipient": m.To[0].Name, "content type": m.Attachments[0].ContentType} {
		if len(v) > MaxTextBytes || len(v) < MaxTextBytes-4 || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes, want at most %d of valid UTF-8", what, len(v), MaxTextBytes)
		}
	}
	if got := strings.Count(strings.Join(m.Warnings, "\n"), "cut to its first"); got != 5 {
		t.Errorf("%d warnings of cut text, want 5: %q", got, m.Warnings)
	}
}

// cfbFile is a stream for buildCFB4: its name, and its content.
type cfbFile struct {
	path []string // the storages it is in, from the root
	data []byte
}

// buildCFB4 writes a version 4 compound file (4096-byte sectors) holding
// streams of at least 4096 bytes (so that no mini stream is needed), each
// in storages of its own.
func buildCFB4(files []cfbFile) []byte {
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
		for _, s := range f.path {
			e := &entry{name: s, typ: 1, child: cfbNoStream, right: cfbNoStream}
			entries = append(entries, e)
			e.right = parent.child // siblings as a right-leaning chain
			parent.child = uint32(len(entries) - 1)
			parent = e
		}
		e := &entry{name: "__substg1.0_37010102", typ: 2, child: cfbNoStream, right: parent.child, data: f.data,
			size: uint64(len(f.data)), sectorCnt: (len(f.data) + ss - 1) / ss}
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

// A .msg larger than MaxInMemory is not read into memory up to its size:
// attachments past the bound are given as readers over the file, which
// read back exactly; what Parse allocates stays far below the file's size.
func TestLargeAttachmentsAreNotHeldInMemory(t *testing.T) {
	var files []cfbFile
	var sums [][32]byte
	for i, size := range []int{20 << 20, 20 << 20, 9000} {
		b := bytes.Repeat([]byte{byte(i + 1), 0x5A, byte(i)}, size/3)
		files = append(files, cfbFile{path: []string{attachName(i)}, data: b})
		sums = append(sums, sha256.Sum256(b))
	}
	file := buildCFB4(files)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := Parse(bytes.NewReader(file), int64(len(file)))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > MaxInMemory+4<<20 {
		t.Errorf("Parse of a %d-byte file allocated %d bytes, over %d", len(file), n, MaxInMemory+4<<20)
	}
	if len(m.Attachments) != 3 {
		t.Fatalf("%d attachments, warnings %q", len(m.Attachments), m.Warnings)
	}
	held := 0
	for i, a := range m.Attachments {
		var got []byte
		if a.Open != nil {
			if got, err = io.ReadAll(a.Open()); err != nil {
				t.Fatalf("attachment %d: %v", i, err)
			}
		} else {
			got = a.Data
			held += len(a.Data)
		}
		if sha256.Sum256(got) != sums[i] {
			t.Errorf("attachment %d: %d bytes read back differ from the %d written", i, len(got), len(files[i].data))
		}
	}
	if held > MaxInMemory || m.Attachments[1].Open == nil {
		t.Errorf("%d attachment bytes held in memory (bound %d); the second 20 MiB one held: %v", held, MaxInMemory, m.Attachments[1].Open == nil)
	}
}
