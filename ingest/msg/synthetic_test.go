package msg

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// These tests build storage trees in memory, bypassing the compound-file
// layer, to reach limits and fallbacks no corpus file exercises.

func stream(name string, data []byte) *node {
	return &node{name: name, read: true, data: data, kids: map[string]*node{}}
}

func storage(name string, kids ...*node) *node {
	n := &node{name: name, dir: true, kids: map[string]*node{}}
	for _, k := range kids {
		n.kids[k.name] = k
	}
	return n
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func str(id uint16, s string) *node {
	return stream(fmt.Sprintf("__substg1.0_%04X001F", id), utf16le(s))
}

func str8(id uint16, b []byte) *node {
	return stream(fmt.Sprintf("__substg1.0_%04X001E", id), b)
}

// fixed builds a __properties_version1.0 stream of PT_LONG values.
func fixed(header int, longs map[uint16]uint32) *node {
	b := make([]byte, header)
	for id, v := range longs {
		b = binary.LittleEndian.AppendUint32(b, tag(id, ptLong))
		b = binary.LittleEndian.AppendUint32(b, 6)
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return stream("__properties_version1.0", b)
}

func parseTree(root *node) *Message {
	p := &parser{size: 1 << 30, budget: 1 << 30}
	return p.message(root, 0)
}

func attachName(i int) string { return fmt.Sprintf("__attach_version1.0_#%08X", i) }

func TestDepthLimit(t *testing.T) {
	// A chain of embedded messages deeper than MaxDepth.
	var msg *node
	for level := MaxDepth + 3; level >= 0; level-- {
		header := propsHeaderEmbedded
		if level == 0 {
			header = propsHeaderTop
		}
		kids := []*node{fixed(header, nil), str(pidTagSubject, fmt.Sprint("level ", level))}
		if msg != nil {
			msg.name = "__substg1.0_3701000D"
			kids = append(kids, storage(attachName(0),
				fixed(propsHeaderChild, map[uint16]uint32{pidTagAttachMethod: attachEmbeddedMsg}), msg))
		}
		msg = storage("", kids...)
	}
	m := parseTree(msg)
	depth := 0
	for ; len(m.Attachments) == 1 && m.Attachments[0].Message != nil; depth++ {
		if want := fmt.Sprint("level ", depth); m.Subject != want {
			t.Fatalf("subject %q, want %q", m.Subject, want)
		}
		m = m.Attachments[0].Message
	}
	if depth != MaxDepth {
		t.Errorf("parsed %d levels of embedding, want %d", depth, MaxDepth)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "nested deeper") {
		t.Errorf("innermost warnings %q", m.Warnings)
	}
}

func TestAttachmentLimit(t *testing.T) {
	// Recipients sort after attachments; they must survive the cut.
	root := storage("", fixed(propsHeaderTop, nil),
		storage("__recip_version1.0_#00000000", str(pidTagDisplayName, "R")))
	for i := range MaxAttachments + 5 {
		a := storage(attachName(i), stream("__substg1.0_37010102", []byte("x")))
		root.kids[a.name] = a
	}
	m := parseTree(root)
	if len(m.Attachments) != MaxAttachments || len(m.To) != 1 || len(m.Warnings) != 2 {
		t.Errorf("%d attachments, %d recipients, warnings %q", len(m.Attachments), len(m.To), m.Warnings)
	}
}

func TestAttachments(t *testing.T) {
	tnefData := []byte{0x78, 0x9F, 0x3E, 0x22, 0, 0}
	root := storage("", fixed(propsHeaderTop, nil),
		stream("__substg1.0_10130102", []byte(`<img src="cid:pic@x">`)),
		storage(attachName(0), // a path in the long filename is dropped
			str(pidTagAttachLongFilename, "..\\..\\Windows\\evil\x07.exe"),
			stream("__substg1.0_37010102", []byte("MZ"))),
		storage(attachName(1), // winmail.dat is returned whole, not decoded
			str(pidTagAttachFilename, "winmail.dat"),
			stream("__substg1.0_37010102", tnefData)),
		storage(attachName(2), // an OLE object has no bytes to give
			fixed(propsHeaderChild, map[uint16]uint32{pidTagAttachMethod: attachOLE}),
			storage("__substg1.0_3701000D", stream("\x01Ole", []byte{1}))),
		storage(attachName(3), // referenced from the HTML by content ID
			str(pidTagAttachContentID, "<pic@x>"), str(pidTagAttachMimeTag, "image/png"),
			stream("__substg1.0_37010102", []byte("png"))),
	)
	m := parseTree(root)
	want := []Attachment{
		{Filename: "evil.exe", Data: []byte("MZ")},
		{Filename: "winmail.dat", ContentType: "application/ms-tnef", Data: tnefData},
		{Filename: "attachment-3"},
		{Filename: "attachment-4", ContentType: "image/png", ContentID: "pic@x", Inline: true, Data: []byte("png")},
	}
	if diff := cmp.Diff(want, m.Attachments); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "OLE object") {
		t.Errorf("warnings %q", m.Warnings)
	}
}

const exchangeHeaders = "Microsoft Mail Internet Headers Version 2.0\r\n" +
	"From: Someone Else <jo@example.org>\r\nMessage-ID: <1@x>\r\nDate: Mon, 2 Jan 2006 15:04:05 +0100\r\n"

func TestSenderAndCodePage(t *testing.T) {
	cp1251 := []byte{0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2} // "Привет"
	tests := []struct {
		name string
		kids []*node
		want Message
	}{
		{"message code page", []*node{
			fixed(propsHeaderTop, map[uint16]uint32{pidTagMessageCodepage: 1251}),
			str8(pidTagSubject, cp1251),
		}, Message{Subject: "Привет"}},
		{"locale when no code page", []*node{
			fixed(propsHeaderTop, map[uint16]uint32{pidTagMessageLocaleID: 0x0419, pidTagInternetCodepage: 1252}),
			str8(pidTagSubject, cp1251),
		}, Message{Subject: "Привет"}},
		{"header charset as last resort", []*node{
			fixed(propsHeaderTop, nil),
			str8(pidTagSubject, cp1251),
			str8(pidTagTransportMessageHeaders, []byte("Content-Type: text/plain; charset=\"windows-1251\"\r\n")),
		}, Message{Subject: "Привет", Headers: "Content-Type: text/plain; charset=\"windows-1251\"\r\n"}},
		{"Exchange sender falls back to From header", []*node{
			fixed(propsHeaderTop, nil),
			str(pidTagSenderName, "Jo Bloggs"), str(pidTagSenderAddressType, "EX"),
			str(pidTagSenderEmailAddress, "/O=COUNCIL/OU=EXCHANGE/CN=RECIPIENTS/CN=JBLOGGS"),
			str(pidTagTransportMessageHeaders, exchangeHeaders),
		}, Message{From: Address{"Jo Bloggs", "jo@example.org"}, MessageID: "<1@x>", Headers: exchangeHeaders,
			Date: time.Date(2006, 1, 2, 14, 4, 5, 0, time.UTC)}},
		{"From header name when the properties have none", []*node{
			fixed(propsHeaderTop, nil),
			str(pidTagTransportMessageHeaders, "From: =?windows-1251?B?z/Do4uXy?= <jo@example.org>\r\n"),
		}, Message{From: Address{"Привет", "jo@example.org"}, Headers: "From: =?windows-1251?B?z/Do4uXy?= <jo@example.org>\r\n"}},
		{"SMTP sender address", []*node{
			fixed(propsHeaderTop, nil),
			str(pidTagSenderAddressType, "SMTP"), str(pidTagSenderEmailAddress, "a@example.org"),
		}, Message{From: Address{"", "a@example.org"}}},
		{"recipients by type", []*node{
			fixed(propsHeaderTop, nil),
			storage("__recip_version1.0_#00000000", fixed(propsHeaderChild, map[uint16]uint32{pidTagRecipientType: recipBcc}),
				str(pidTagDisplayName, "B"), str(pidTagAddressType, "SMTP"), str(pidTagEmailAddress, "b@x")),
			storage("__recip_version1.0_#00000001", fixed(propsHeaderChild, map[uint16]uint32{pidTagRecipientType: recipCc}),
				str(pidTagDisplayName, "C"), str(pidTagAddressType, "EX"), str(pidTagEmailAddress, "/O=X"), str(pidTagSMTPAddress, "c@x")),
			storage("__recip_version1.0_#00000002", fixed(propsHeaderChild, map[uint16]uint32{pidTagRecipientType: recipTo}),
				str(pidTagDisplayName, "T"), str(pidTagAddressType, "EX"), str(pidTagEmailAddress, "/O=X")),
		}, Message{To: []Address{{"T", ""}}, Cc: []Address{{"C", "c@x"}}, Bcc: []Address{{"B", "b@x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseTree(storage("", tt.kids...))
			if diff := cmp.Diff(&tt.want, m); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
