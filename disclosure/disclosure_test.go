package disclosure

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/thirdparty"
)

func TestStatutoryDueIsOneCalendarMonth(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-31": "2026-02-28", "2028-01-31": "2028-02-29", "2026-03-31": "2026-04-30",
		"2026-12-15": "2027-01-15", "2026-02-28": "2026-03-28", "2026-08-31": "2026-09-30",
	} {
		d, _ := casefile.ParseDate(in)
		if got := casefile.StatutoryDue(d).String(); got != want {
			t.Errorf("received %s: due %s, want %s", in, got, want)
		}
	}
}

func TestParseReasons(t *testing.T) {
	got := MustReasons(DefaultReasons)
	if got[0] != (Reason{"third_party", "third party"}) || got[4].Code != "outside_the_request" || len(got) != 5 {
		t.Errorf("defaults: %v", got)
	}
	for _, bad := range []string{"", " , ", "a, a", "third; party"} {
		if _, err := ParseReasons(bad); err == nil {
			t.Errorf("ParseReasons(%q) accepted", bad)
		}
	}
}

func TestBoxesMergeOverlapsWithEveryReason(t *testing.T) {
	rs := []*casefile.Redaction{{Start: 10, End: 20, Reason: "b"}, {Start: 0, End: 5, Reason: "a"}, {Start: 15, End: 30, Reason: "c"}, {Start: 18, End: 19, Reason: "b"}}
	got := Boxes(rs, strings.ToUpper)
	want := []Box{{0, 5, "Redacted: A"}, {10, 30, "Redacted: B, C"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestSuggestFindsOtherPersonsEmailsAndPhones(t *testing.T) {
	subject := thirdparty.Person{ID: "s", GivenName: "Amelia", FamilyName: "Okafor", ExternalRef: "NF-1001"}
	ix := thirdparty.NewIndex([]thirdparty.Person{{ID: "j", GivenName: "Jayden", FamilyName: "Brightwater", ExternalRef: "NF-2002"}})
	it := &Item{Type: "note", ID: "n", Text: "Amelia Okafor met Jayden Brightwater (NF-2002).\nJayden Brightwater rang from 07700 900123, " +
		"or +44 (0)20 7946 0958; email jb@example.org. Ref 123456789012 is not a phone. Café Jayden Brightwater."}
	var got []string
	for _, s := range suggest(it, ix, subject, "third_party") {
		got = append(got, s.Kind+":"+s.Text)
		if r := []rune(it.Text); string(r[s.Start:s.End]) != s.Text {
			t.Errorf("%v: offsets do not hold its text", s)
		}
	}
	want := []string{"third_party:Jayden Brightwater", "third_party:NF-2002", "third_party:Jayden Brightwater", "phone:07700 900123",
		"phone:+44 (0)20 7946 0958", "email:jb@example.org", "third_party:Jayden Brightwater"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("suggestions (-want +got):\n%s", d)
	}
}

func TestOccurrencesCountCodePoints(t *testing.T) {
	got := Occurrences("Zoë met ZOË, then zoë.", "zoë")
	if d := cmp.Diff([][2]int{{0, 3}, {8, 11}, {18, 21}}, got); d != "" {
		t.Error(d)
	}
}

// The renderer never hands a redacted character to the PDF: the redacted
// words are in no stream of the file, the rest is.
func TestRenderItemBurnsRedactionsIn(t *testing.T) {
	s := &Service{}
	it := &Item{Type: "note", ID: "n1", Kind: "contact", Text: "Seen with Zebedee Quint at the park. Ünïcode stays.",
		note:       &casefile.Note{ID: "n1", Type: "contact", Author: "sw", OccurredAt: time.Now(), RecordedAt: time.Now()},
		Redactions: []*casefile.Redaction{{Start: 10, End: 23, Reason: "third_party"}}}
	var b bytes.Buffer
	if err := s.renderItem(&b, it, "d1", time.Now()); err != nil {
		t.Fatal(err)
	}
	all := append([]byte{}, b.Bytes()...)
	for _, m := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(b.Bytes(), -1) {
		if zr, err := zlib.NewReader(bytes.NewReader(m[1])); err == nil {
			x, _ := io.ReadAll(zr)
			all = append(all, x...)
		}
	}
	utf16 := func(s string) []byte {
		var o []byte
		for _, r := range s {
			o = append(o, byte(r>>8), byte(r))
		}
		return o
	}
	for _, w := range []string{"Zebedee", "Quint"} {
		if bytes.Contains(all, []byte(w)) || bytes.Contains(all, utf16(w)) {
			t.Errorf("%q is in the PDF", w)
		}
	}
	for _, w := range []string{"park", "Redacted: third party"} {
		if !bytes.Contains(all, []byte(w)) && !bytes.Contains(all, utf16(w)) {
			t.Errorf("%q is not in the PDF", w)
		}
	}
}
