package tnef

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/council/casefile/ingest/internal/mapi"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// file summarises one attachment for comparison.
type file struct {
	Name, ContentType string
	Size              int
	Modified          time.Time
}

func summarise(atts []Attachment) []file {
	var out []file
	for _, a := range atts {
		out = append(out, file{a.Name, a.ContentType, len(a.Data), a.Modified})
	}
	return out
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorpus decodes every file copied from Apache POI's test-data/hmef; the
// expected values come from POI's own tests and from inspecting the files.
func TestCorpus(t *testing.T) {
	quickDate := date("2010-04-28 12:40:56")
	tests := []struct {
		file        string
		notTNEF     bool
		subject     string
		class       string
		htmlHas     string
		rtfFile     string // expected decompressed RTF body
		rtfPrefix   string
		attachments []file
		warnings    []string // substrings, one per expected warning
	}{
		{file: "quick-winmail.dat", subject: "This is a test message", class: "IPM.Microsoft Mail.Note",
			rtfFile: "message.rtf",
			attachments: []file{
				{"quick.doc", "application/msword", 19968, quickDate},
				{"quick.html", "text/html", 428, quickDate},
				{"quick.pdf", "application/pdf", 18638, quickDate},
				{"quick.txt", "text/plain", 235, quickDate},
				{"quick.xml", "application/xml", 143, quickDate},
			}},
		{file: "winmail-sample1.dat", subject: "test", class: "IPM.Microsoft Mail.Note", rtfPrefix: "{\\rtf1",
			attachments: []file{
				{"zappa_av1.jpg", "image/jpeg", 2937, date("2003-04-07 10:35:38")},
				{"bookmark.htm", "text/html", 85805, date("2003-06-17 10:22:41")},
			}},
		{file: "bug52400-winmail-simple.dat", subject: "Testing TNEF Message", class: "IPM.Note",
			htmlHas: "This is the message body."},
		{file: "bug52400-winmail-with-attachments.dat", subject: "TNEF test message with attachments", class: "IPM.Note",
			htmlHas: "There are also two attachments.",
			attachments: []file{
				{"scion_tc_2007_maintenanceguide.pdf", "application/pdf", 193258, date("2013-11-01 19:32:23")},
				{"Duke_Wave.png", "image/png", 122016, date("2013-11-01 19:34:14")},
			}},
		{file: "bug63955-winmail.dat", subject: "Test", class: "IPM.Note", htmlHas: "<html",
			attachments: []file{
				{"SI-61597.pdf", "application/pdf", 236426, date("2019-11-22 06:58:37")},
				{"SI-61598.pdf", "application/pdf", 236653, date("2019-11-22 06:57:33")},
			}},
		// Fuzzer-made: a property list whose count and value length lie.
		{file: "oom.tnef", warnings: []string{"checksum", "value overruns"}},
		// The files quick-winmail.dat contains are not TNEF themselves.
		{file: "message.rtf", notTNEF: true},
		{file: "quick.doc", notTNEF: true},
		{file: "quick.html", notTNEF: true},
		{file: "quick.pdf", notTNEF: true},
		{file: "quick.txt", notTNEF: true},
		{file: "quick.xml", notTNEF: true},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			data := read(t, tt.file)
			if got := IsTNEF(data); got == tt.notTNEF {
				t.Fatalf("IsTNEF = %v", got)
			}
			m, err := Decode(data)
			if tt.notTNEF {
				if !errors.Is(err, ErrNotTNEF) || m != nil {
					t.Fatalf("Decode = %v, %v; want ErrNotTNEF", m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.subject || m.MessageClass != tt.class {
				t.Errorf("subject, class = %q, %q; want %q, %q", m.Subject, m.MessageClass, tt.subject, tt.class)
			}
			if diff := cmp.Diff(tt.attachments, summarise(m.Attachments)); diff != "" {
				t.Errorf("attachments (-want +got):\n%s", diff)
			}
			if !strings.Contains(m.HTMLBody, tt.htmlHas) {
				t.Errorf("HTML body lacks %q:\n%.300s", tt.htmlHas, m.HTMLBody)
			}
			if tt.rtfFile != "" && !bytes.Equal(m.BodyRTF, read(t, tt.rtfFile)) {
				t.Errorf("RTF body (%d bytes) differs from %s", len(m.BodyRTF), tt.rtfFile)
			}
			if !bytes.HasPrefix(m.BodyRTF, []byte(tt.rtfPrefix)) {
				t.Errorf("RTF body starts %.20q, want %q", m.BodyRTF, tt.rtfPrefix)
			}
			if len(m.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", m.Warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(m.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to mention %q", i, m.Warnings[i], w)
				}
			}
		})
	}
	// Every file in testdata must be covered, so a file added later gets
	// real expectations rather than silently none.
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".md") || strings.HasPrefix(e.Name(), "poi-") {
			continue
		}
		if !seen[e.Name()] {
			t.Errorf("testdata/%s has no case in TestCorpus", e.Name())
		}
	}
}

// TestQuickContents checks the attachments of quick-winmail.dat byte for byte
// against the files POI ships as its known contents.
func TestQuickContents(t *testing.T) {
	m, err := Decode(read(t, "quick-winmail.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 5 {
		t.Fatalf("%d attachments, want 5", len(m.Attachments))
	}
	for _, a := range m.Attachments {
		if want := read(t, a.Name); !bytes.Equal(a.Data, want) {
			t.Errorf("%s: %d bytes differ from the %d-byte original", a.Name, len(a.Data), len(want))
		}
	}
}

// TestOOM checks that a stream built to exhaust memory in decoders that
// trust its counts is refused cheaply: in allocations, which are the same on
// any machine (a time limit would flake under -race on a busy one).
func TestOOM(t *testing.T) {
	data := read(t, "oom.tnef")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := Decode(data); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("100 decodes allocated %d bytes", n)
	}
}

// stream builds a TNEF stream from attributes.
type stream struct{ bytes.Buffer }

func newStream() *stream {
	s := &stream{}
	binary.Write(s, binary.LittleEndian, uint32(Signature))
	binary.Write(s, binary.LittleEndian, uint16(0))
	return s
}

func (s *stream) attr(level byte, tag uint32, data []byte) *stream {
	s.WriteByte(level)
	binary.Write(s, binary.LittleEndian, tag)
	binary.Write(s, binary.LittleEndian, uint32(len(data)))
	s.Write(data)
	binary.Write(s, binary.LittleEndian, checksum(data))
	return s
}

// props encodes a MAPI property list of variable-length values.
func props(vals ...any) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(len(vals)/2))
	for i := 0; i < len(vals); i += 2 {
		tag := vals[i].(uint32)
		binary.Write(&b, binary.LittleEndian, tag)
		switch v := vals[i+1].(type) {
		case uint32:
			binary.Write(&b, binary.LittleEndian, v)
		case uint64:
			binary.Write(&b, binary.LittleEndian, v)
		case []byte:
			binary.Write(&b, binary.LittleEndian, uint32(1))
			binary.Write(&b, binary.LittleEndian, uint32(len(v)))
			b.Write(v)
			b.Write(make([]byte, pad4(len(v))-len(v)))
		}
	}
	return b.Bytes()
}

func utf16z(s string) []byte {
	var b []byte
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return append(b, 0, 0)
}

func TestSynthetic(t *testing.T) {
	t.Run("unicode props, mapi data and cp1251 title", func(t *testing.T) {
		s := newStream().
			attr(lvlMessage, 0x00069007, []byte{0xE3, 0x04, 0, 0, 0, 0, 0, 0}). // OEM code page 1251
			attr(lvlMessage, 0x00069003, props(
				uint32(pidTagSubject<<16|ptUnicode), utf16z("Привет"),
				uint32(pidTagBody<<16|ptString8), []byte("body text\x00"),
			)).
			attr(lvlAttachment, 0x00069002, make([]byte, 14)).
			attr(lvlAttachment, 0x00018010, []byte{0xCF, 0xF0, '.', 't', 'x', 't', 0}). // "Пр.txt" in CP1251
			attr(lvlAttachment, 0x00069005, props(
				uint32(pidTagAttachDataBinary<<16|ptBinary), []byte("hello"),
				uint32(pidTagAttachMimeTag<<16|ptString8), []byte("text/x-test"),
				uint32(pidTagLastModificationTime<<16|ptSysTime), uint64(130000000000000000),
			))
		m, err := Decode(s.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		want := &Message{Subject: "Привет", Body: "body text", Attachments: []Attachment{{
			Name: "Пр.txt", ContentType: "text/x-test", Data: []byte("hello"),
			Modified: time.Date(2012, 12, 14, 23, 6, 40, 0, time.UTC),
		}}}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("embedded message", func(t *testing.T) {
		inner := newStream().attr(lvlMessage, 0x00018004, []byte("inner\x00")).
			attr(lvlAttachment, 0x00069002, nil).
			attr(lvlAttachment, 0x00018010, []byte("a.txt\x00")).
			attr(lvlAttachment, 0x0006800F, []byte("A"))
		s := newStream().attr(lvlMessage, 0x00018004, []byte("outer\x00")).
			attr(lvlAttachment, 0x00069002, nil).
			attr(lvlAttachment, 0x00069005, props(
				uint32(pidTagAttachDataBinary<<16|ptObject), append(append([]byte(nil), iidMessage...), inner.Bytes()...),
				uint32(pidTagDisplayName<<16|ptString8), []byte("Fwd: inner\x00"),
			))
		m, err := Decode(s.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Message == nil {
			t.Fatalf("got %+v", m)
		}
		a := m.Attachments[0]
		if a.Name != "Fwd: inner" || a.Message.Subject != "inner" || len(a.Message.Attachments) != 1 ||
			string(a.Message.Attachments[0].Data) != "A" || !bytes.Equal(a.Data, inner.Bytes()) {
			t.Errorf("got %+v / %+v", a, a.Message)
		}
	})
	t.Run("nesting beyond MaxDepth is not decoded", func(t *testing.T) {
		s := newStream().attr(lvlMessage, 0x00018004, []byte("leaf\x00"))
		for range MaxDepth + 2 {
			s = newStream().attr(lvlAttachment, 0x00069002, nil).
				attr(lvlAttachment, 0x00069005, props(
					uint32(pidTagAttachDataBinary<<16|ptObject), append(append([]byte(nil), iidMessage...), s.Bytes()...)))
		}
		m, err := Decode(s.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for len(m.Attachments) == 1 && m.Attachments[0].Message != nil {
			m = m.Attachments[0].Message
			depth++
		}
		if depth != MaxDepth-1 {
			t.Errorf("decoded %d levels, want %d", depth, MaxDepth-1)
		}
	})
	t.Run("attachment limit", func(t *testing.T) {
		s := newStream()
		for range MaxAttachments + 5 {
			s.attr(lvlAttachment, 0x00069002, nil).attr(lvlAttachment, 0x0006800F, []byte("x"))
		}
		m, err := Decode(s.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != MaxAttachments || len(m.Warnings) != 1 {
			t.Errorf("%d attachments, warnings %q", len(m.Attachments), m.Warnings)
		}
	})
	t.Run("truncated attribute", func(t *testing.T) {
		s := newStream().attr(lvlMessage, 0x00018004, []byte("subject\x00")).
			attr(lvlAttachment, 0x00069002, nil).attr(lvlAttachment, 0x0006800F, []byte("data"))
		b := s.Bytes()[:s.Len()-3]
		m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "subject" || len(m.Attachments) != 1 || len(m.Warnings) != 1 {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("short input", func(t *testing.T) {
		for _, b := range [][]byte{nil, {0x78}, {0x78, 0x9f, 0x3e, 0x22}} {
			if _, err := Decode(b); len(b) < 4 && !errors.Is(err, ErrNotTNEF) {
				t.Errorf("Decode(%x) error %v", b, err)
			}
		}
	})
}

func TestDecompressRTF(t *testing.T) {
	if len(rtfPrebuf) != 207 {
		t.Fatalf("dictionary preload is %d bytes, [MS-OXRTFCP] says 207", len(rtfPrebuf))
	}
	header := func(body []byte, raw uint32, magic uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+12))
		b = binary.LittleEndian.AppendUint32(b, raw)
		b = binary.LittleEndian.AppendUint32(b, magic)
		crc := uint32(0)
		if magic == rtfCompressed {
			crc = ^crc32Update(body)
		}
		b = binary.LittleEndian.AppendUint32(b, crc)
		return append(b, body...)
	}
	// Literals, a reference into the preloaded dictionary ("{\rtf1" is at
	// offset 0, length 6 → token 0x0004), and the end marker (a reference to
	// the write position, 207+3 = 0xD2 → token 0x0D20).
	body := []byte{0x18, 'a', 'b', 'c', 0x00, 0x04, 0x0D, 0x20}
	tests := []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{"literals and reference", header(body, 9, rtfCompressed), "abc{\\rtf1", false},
		{"raw size caps output", header(body, 4, rtfCompressed), "abc{", false},
		{"uncompressed", header([]byte("{\\rtf1 plain}"), 13, rtfUncompressed), "{\\rtf1 plain}", false},
		{"bad crc", func() []byte { b := header(body, 9, rtfCompressed); b[12]++; return b }(), "abc{\\rtf1", true},
		{"unknown type", header(body, 9, 0x12345678), "", true},
		{"short", []byte{1, 2, 3}, "", true},
		{"truncated", header(body, 9, rtfCompressed)[:20], "abc", true},
		// 0xff then eight references to offset 0 would expand to 136
		// bytes; the declared raw size of 1 stops it.
		{"expansion", header(append([]byte{0xff}, make([]byte, 16)...), 1, rtfCompressed), "{", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decompressRTF(tt.in, 1<<20)
			if string(got) != tt.want || (err != nil) != tt.err {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestIsTNEF(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want bool
	}{
		{[]byte{0x78, 0x9f, 0x3e, 0x22}, true},
		{[]byte{0x78, 0x9f, 0x3e}, false},
		{[]byte("%PDF-1.4"), false},
	} {
		if got := IsTNEF(tt.in); got != tt.want {
			t.Errorf("IsTNEF(%x) = %v", tt.in, got)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":             "report.pdf",
		`C:\Users\x\report.pdf`:  "report.pdf",
		"../../etc/passwd":       "passwd",
		"a\x00b\x1f.txt":         "ab.txt",
		"..":                     "",
		"dir/":                   "dir",
		" spaced name.doc ":      "spaced name.doc",
		strings.Repeat("é", 300): strings.Repeat("é", 255),
	} {
		if got := mapi.CleanName(in); got != want {
			t.Errorf("mapi.CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The output buffer is sized by the declared raw size, bounded, never by
// what the input could expand to: a 256 KiB body that ends at once after a
// few literals, under a raw size that lies, allocated 2 MiB (8 times the
// input) before.
func TestDecompressRTFAllocatesByRawSize(t *testing.T) {
	// "abc", "{\rtf1" from the dictionary, then the end marker: a reference
	// to the write position, 207+9 = 0xD8 (token 0x0D80).
	body := append([]byte{0x18, 'a', 'b', 'c', 0x00, 0x04, 0x0D, 0x80}, make([]byte, 256<<10)...)
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+12))
	for _, raw := range []uint32{9, 1 << 20, 0xFFFFFFFF} {
		in := binary.LittleEndian.AppendUint32(b[:4:4], raw)
		in = binary.LittleEndian.AppendUint32(in, rtfCompressed)
		in = binary.LittleEndian.AppendUint32(in, ^crc32Update(body))
		in = append(in, body...)
		got, err := decompressRTF(in, MaxTotalSize)
		if string(got) != "abc{\\rtf1" || err != nil {
			t.Fatalf("raw size %d: got %d bytes %.40q, %v", raw, len(got), got, err)
		}
		if want := min(int(raw), maxRTFPrealloc); cap(got) > want {
			t.Errorf("raw size %d: output buffer of %d bytes for %d bytes of output, want at most %d", raw, cap(got), len(got), want)
		}
	}
}
