package msg

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkParseManyRecipients parses the largest corpus file (2 MiB,
// thousands of recipient storages), where per-entry costs show.
func BenchmarkParseManyRecipients(b *testing.B) {
	data, err := os.ReadFile("testdata/lots-of-recipients.msg")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if len(m.To)+len(m.Cc)+len(m.Bcc) < 100 {
			b.Fatalf("only %d recipients", len(m.To)+len(m.Cc)+len(m.Bcc))
		}
	}
}
