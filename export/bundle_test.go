package export

import (
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"Re: contact arrangements.eml": "Re_contact_arrangements.eml",
		"../../etc/passwd":             "passwd",
		`C:\Users\sw\letter.docx`:      "letter.docx",
		"invoice\u202Efdp.exe":         "invoice_fdp.exe",
		"...":                          "document-x",
		"":                             "document-x",
		"Zoë's report.pdf":             "Zo_s_report.pdf",
	} {
		if got := SafeName(in, "x"); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	long := SafeName("a"+strings.Repeat("b", 300)+".pdf", "x")
	if len(long) != 100 || long[len(long)-4:] != ".pdf" {
		t.Errorf("long name = %q (%d)", long, len(long))
	}
}
