package pasteguard

import (
	"strings"
	"unicode/utf8"
)

// doc is a body split into lines once, shared by the rules.
type doc struct {
	body  string
	lower string // body with ASCII letters lowered: same byte offsets as body
	lines []span

	// Filled lazily by the rules that need them.
	events     []event // valid header-label events, in body order
	eventsDone bool
	signoffs   lineIndex // lines that are a sign-off such as "Kind regards"
	contacts   lineIndex // signature lines such as "Tel: 01632 960123"
	marksDone  bool
}

type span struct{ start, end int } // end excludes the line terminator

func newDoc(body string) *doc {
	d := &doc{body: body, lower: asciiLower(body)}
	// \r\n, \n and a lone \r each end a line: text pasted from old Mac
	// clients and some web editors uses bare carriage returns.
	start := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\n':
			d.lines = append(d.lines, span{start, i})
			start = i + 1
		case '\r':
			d.lines = append(d.lines, span{start, i})
			if i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	d.lines = append(d.lines, span{start, len(body)})
	return d
}

func (d *doc) line(i int) string      { s := d.lines[i]; return d.body[s.start:s.end] }
func (d *doc) lowerLine(i int) string { s := d.lines[i]; return d.lower[s.start:s.end] }

// content is line i, lowered, without the indentation and the ">" quote
// markers that a reply adds, and without trailing spaces.
func (d *doc) content(i int) string {
	return strings.TrimRight(stripLead(d.lowerLine(i)), " \t\u00a0")
}

// blank reports whether line i holds nothing but spacing and quote markers.
func (d *doc) blank(i int) bool { return d.content(i) == "" }

// asciiLower lowers ASCII letters only, so that offsets into the result are
// offsets into s (strings.ToLower may change the length of some runes).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// stripLead removes leading spacing, the ">" markers of quoted replies, the
// "*" that plain-text renderings put round bold labels, and the invisible
// characters that rich-text editors leave at the start of a pasted line.
func stripLead(s string) string {
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == '\t' || s[0] == '>' || s[0] == '*':
			s = s[1:]
		case strings.HasPrefix(s, "\u00a0"), strings.HasPrefix(s, "\u200b"),
			strings.HasPrefix(s, "\ufeff"), strings.HasPrefix(s, "\u202f"):
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
		default:
			return s
		}
	}
	return s
}

// trimSpace trims ASCII spacing, no-break spaces and bold markers.
func trimSpace(s string) string {
	return strings.Trim(s, " \t*\u00a0\u202f")
}

// bounded keeps at most n bytes of s, cut at a rune boundary, so that value
// checks cost a constant per label however long a flattened line is.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// lineIndex answers "is there a marked line within k lines of i" in constant
// time, from a prefix count of marked lines.
type lineIndex struct{ prefix []int32 }

func newLineIndex(n int, marked func(int) bool) lineIndex {
	p := make([]int32, n+1)
	for i := 0; i < n; i++ {
		p[i+1] = p[i]
		if marked(i) {
			p[i+1]++
		}
	}
	return lineIndex{p}
}

// count returns how many marked lines lie in [lo, hi], clamped to the body.
func (x lineIndex) count(lo, hi int) int {
	if lo < 0 {
		lo = 0
	}
	if hi > len(x.prefix)-2 {
		hi = len(x.prefix) - 2
	}
	if lo > hi {
		return 0
	}
	return int(x.prefix[hi+1] - x.prefix[lo])
}

// last returns the last marked line in [lo, hi], or -1. It walks back at most
// hi-lo lines; callers keep that window small.
func (x lineIndex) last(lo, hi int) int {
	if x.count(lo, hi) == 0 {
		return -1
	}
	if hi > len(x.prefix)-2 {
		hi = len(x.prefix) - 2
	}
	for i := hi; i >= lo; i-- {
		if x.prefix[i+1] != x.prefix[i] {
			return i
		}
	}
	return -1
}

// hasAddress reports whether s holds something shaped like an email address
// ("local@domain.tld") or a mailto link.
func hasAddress(s string) bool {
	if strings.Contains(s, "mailto:") {
		return true
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			return false
		}
		at := i + j
		if at > 0 && isWordByte(s[at-1]) && at+1 < len(s) && isWordByte(s[at+1]) {
			rest := s[at+1:]
			k := 0
			for k < len(rest) && (isWordByte(rest[k]) || rest[k] == '-' || rest[k] == '.') {
				k++
			}
			if dot := strings.LastIndexByte(rest[:k], '.'); dot > 0 && dot < k-1 {
				return true
			}
		}
		i = at + 1
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// marks classifies each line once for the signature-based rules.
func (d *doc) marks() {
	if d.marksDone {
		return
	}
	d.marksDone = true
	n := len(d.lines)
	d.signoffs = newLineIndex(n, func(i int) bool { return isSignoff(d.content(i)) })
	d.contacts = newLineIndex(n, func(i int) bool { return isContactLine(d.content(i)) })
}
