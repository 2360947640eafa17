package disclosure

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/council/casefile"
	"github.com/council/casefile/notes/thirdparty"
)

// Suggestion kinds.
const (
	SuggestThirdParty = "third_party" // a name, reference or NHS number of another person on the system
	SuggestEmail      = "email"       // an email address
	SuggestPhone      = "phone"       // a UK phone number
)

// Suggestion is a span the reviewer is asked to redact or keep.
type Suggestion struct {
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Kind       string `json:"kind"`
	Text       string `json:"text"`
	// PersonID is whom the detector found; not shown, as the person may
	// be on a record the reviewer may not see (the name is in the text).
	PersonID string `json:"-"`
	// Reason is the reason code an acceptance uses unless told otherwise.
	Reason string `json:"reason"`
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// phoneRe finds UK numbers: +44 or 0, then 9 or 10 digits, spaced or
	// hyphenated in any of the usual ways; phoneDigits checks the count.
	phoneRe = regexp.MustCompile(`(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d[\d\s()-]{7,14}\d`)
)

// phoneOK reports whether a phoneRe match is a UK number: after the +44 or
// the 0, 9 or 10 digits.
func phoneOK(m string) bool {
	digits := 0
	for _, r := range m {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if strings.HasPrefix(m, "+44") {
		digits -= 2
		if strings.Contains(m, "(0)") {
			digits--
		}
	} else {
		digits-- // the leading 0
	}
	return digits == 9 || digits == 10
}

// suggest lists the spans of one item the reviewer should look at: names
// and references of persons in ix (the subject excluded), email addresses
// and phone numbers.
func suggest(it *Item, ix *thirdparty.Index, subject thirdparty.Person, thirdPartyReason string) []Suggestion {
	var out []Suggestion
	add := func(byteStart, byteEnd int, kind, person string) {
		s := Suggestion{TargetType: it.Type, TargetID: it.ID, Kind: kind, PersonID: person, Reason: thirdPartyReason,
			Start: utf8.RuneCountInString(it.Text[:byteStart]), Text: it.Text[byteStart:byteEnd]}
		s.End = s.Start + utf8.RuneCountInString(s.Text)
		out = append(out, s)
	}
	// A line at a time, and again with each place found blanked out: the
	// detector reports each person once per text, at the first place, and
	// every place (a name, then the same person's reference) must be
	// suggested.
	off := 0
	for _, line := range strings.SplitAfter(it.Text, "\n") {
		cur := line
		for round := 0; ix != nil && round < 100; round++ {
			ws := ix.Check(cur, subject)
			found := false
			for _, w := range ws {
				j := strings.Index(cur, w.Match)
				if j < 0 || w.Match == "" {
					continue
				}
				found = true
				add(off+j, off+j+len(w.Match), SuggestThirdParty, w.PersonID)
				cur = cur[:j] + strings.Repeat(" ", len(w.Match)) + cur[j+len(w.Match):]
			}
			if !found {
				break
			}
		}
		off += len(line)
	}
	for _, m := range emailRe.FindAllStringIndex(it.Text, -1) {
		add(m[0], m[1], SuggestEmail, "")
	}
	for _, m := range phoneRe.FindAllStringIndex(it.Text, -1) {
		s := strings.TrimRight(it.Text[m[0]:m[1]], " -(")
		if (m[0] > 0 && isDigit(it.Text[m[0]-1])) || (m[1] < len(it.Text) && isDigit(it.Text[m[1]])) || !phoneOK(s) {
			continue
		}
		add(m[0], m[0]+len(s), SuggestPhone, "")
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.Kind, b.Kind))
	})
	// The same span found twice (a name that is also a reference) is one.
	return slices.CompactFunc(out, func(a, b Suggestion) bool { return a.Start == b.Start && a.End == b.End })
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// undecided reports whether a suggestion still needs the reviewer: not decided,
// and not already inside a redaction.
func undecided(s Suggestion, it *Item, decided map[spanKey]bool) bool {
	if decided[spanKey{s.TargetType, s.TargetID, s.Start, s.End}] {
		return false
	}
	for _, r := range it.Redactions {
		if r.Start <= s.Start && s.End <= r.End {
			return false
		}
	}
	return true
}

type spanKey struct {
	typ, id    string
	start, end int
}

// candidates turns the persons on the system into the detector's persons.
func candidates(ps []*casefile.Person) []thirdparty.Person {
	out := make([]thirdparty.Person, 0, len(ps))
	for _, p := range ps {
		out = append(out, thirdparty.PersonOf(p))
	}
	return out
}
