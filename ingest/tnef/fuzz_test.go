package tnef

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

func crc32Update(b []byte) uint32 { return crc32.Update(0xFFFFFFFF, crc32.IEEETable, b) }

// FuzzDecode checks that no input makes Decode panic, run away, or produce
// more than the limits allow.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.dat")
	files = append(files, "testdata/oom.tnef")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Minimising each new input costs the fuzzer time in proportion
		// to its size, so seed with at most the first 70 KiB of each
		// file: the message attributes and the RTF body come first.
		f.Add(b[:min(len(b), 70<<10)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		n, total := 0, 0
		var walk func(*Message)
		walk = func(m *Message) {
			total += len(m.BodyRTF)
			for _, a := range m.Attachments {
				n++
				total += len(a.Data)
				if a.Message != nil {
					walk(a.Message)
				}
			}
		}
		walk(m)
		if n > MaxAttachments {
			t.Fatalf("%d attachments", n)
		}
		if total > MaxTotalSize {
			t.Fatalf("%d bytes produced", total)
		}
	})
}
