package msg

import (
	"bytes"
	"crypto/sha256"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/council/casefile/internal/cfbtest"
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

// A .msg larger than MaxInMemory is not read into memory up to its size:
// attachments past the bound are given as readers over the file, which
// read back exactly; what Parse allocates stays far below the file's size.
func TestLargeAttachmentsAreNotHeldInMemory(t *testing.T) {
	var files []cfbtest.File
	var sums [][32]byte
	for i, size := range []int{20 << 20, 20 << 20, 9000} {
		b := bytes.Repeat([]byte{byte(i + 1), 0x5A, byte(i)}, size/3)
		files = append(files, cfbtest.File{Path: []string{cfbtest.AttachName(i)}, Data: b})
		sums = append(sums, sha256.Sum256(b))
	}
	file := cfbtest.Build(files)
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
			t.Errorf("attachment %d: %d bytes read back differ from the %d written", i, len(got), len(files[i].Data))
		}
	}
	if held > MaxInMemory || m.Attachments[1].Open == nil {
		t.Errorf("%d attachment bytes held in memory (bound %d); the second 20 MiB one held: %v", held, MaxInMemory, m.Attachments[1].Open == nil)
	}
}
