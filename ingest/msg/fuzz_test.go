package msg

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or exceed its limits.
// Seeds are the corpus files up to 64 KiB: the fuzzer minimises each find in
// time proportional to its size, and larger files add no structure that
// smaller ones lack.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.msg")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	// Small synthetic files reach the directory handling quickly.
	f.Add(deepCFB(3))
	f.Add(buildCFB([]cfbEntry{
		{name: "Root Entry", typ: 5, left: cfbNoStream, right: cfbNoStream, child: 1},
		{name: "__substg1.0_0037001F", typ: 2, left: cfbNoStream, right: cfbNoStream, child: cfbNoStream, size: 100},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		n, held := 0, 0
		var walk func(*Message, int)
		walk = func(m *Message, depth int) {
			if depth > MaxDepth {
				t.Fatalf("embedded message at depth %d", depth)
			}
			for _, s := range []string{m.Subject, m.From.Name, m.From.Email, m.MessageID, m.InReplyTo, m.MessageClass} {
				if len(s) > MaxTextBytes {
					t.Fatalf("a text field of %d bytes", len(s))
				}
			}
			for _, a := range m.Attachments {
				n++
				held += len(a.Data)
				if a.Open != nil {
					// Read from the file: ends, and never yields more than the file.
					k, _ := io.Copy(io.Discard, io.LimitReader(a.Open(), int64(len(data))+1))
					if k > int64(len(data)) {
						t.Fatalf("an attachment reader gave more than the %d-byte file", len(data))
					}
				}
				if a.Message != nil {
					walk(a.Message, depth+1)
				}
			}
		}
		walk(m, 0)
		if n > MaxAttachments || held > MaxInMemory {
			t.Fatalf("%d attachments, %d bytes of them held", n, held)
		}
	})
}
