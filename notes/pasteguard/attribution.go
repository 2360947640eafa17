package pasteguard

import "strings"

// attribution is one language's reply line, e.g. Gmail's
// "On Mon, 3 Mar 2025 at 10:15, Jo Smith <jo@example.org> wrote:".
type attribution struct {
	start string // what the line starts with ("" for any)
	mid   string // what it must contain ("" for nothing)
	end   string // what it ends with
}

var attributions = []attribution{
	{"on ", "", "wrote:"},
	{"", "@", "wrote:"}, // Thunderbird: "Jo Smith <jo@example.org> wrote:"
	{"am ", " schrieb ", ":"},
	{"", " schrieb am ", ":"},
	{"le ", "", "a écrit :"},
	{"le ", "", "a écrit:"},
	{"el ", "", "escribió:"},
	{"op ", " schreef ", ":"},
	{"il ", "", "ha scritto:"},
	{"em ", "", "escreveu:"},
}

// maxAttribution bounds an attribution line: longer lines are prose.
const maxAttribution = 300

// replyAttribution finds "On <date>, <name> <address> wrote:" lines. With an
// address and a date in it the line is the mark of a reply on its own, since
// copying from a web client drops the ">" markers. Without an address it
// counts only when at least two quoted ">" lines follow, so "On Monday mum
// wrote: ..." in prose, or a child's words quoted once with ">", pass. A
// bare "Name wrote:" needs three.
func replyAttribution(d *doc) (Finding, bool) {
	for i := range d.lines {
		c := d.content(i)
		if c == "" || len(c) > maxAttribution {
			continue
		}
		text, last := c, i
		a, ok := matchAttribution(text)
		if !ok && i+1 < len(d.lines) {
			// Gmail wraps long attributions: "On ..., Jo Smith <jo@example.org>"
			// then "wrote:" on the next line.
			// The next line is tried on its own when its turn comes.
			next := d.content(i + 1)
			if _, alone := matchAttribution(next); !alone && len(c)+len(next) < maxAttribution {
				text, last = c+" "+next, i+1
				a, ok = matchAttribution(text)
			}
		}
		if !ok {
			continue
		}
		f := dateOf(text)
		dated := f.year || f.numeric || f.clock
		quoted := quotedAfter(d, last)
		if dated && (hasAddress(text) || quoted >= 2) {
			return Finding{Rule: "reply_attribution", Line: i + 1, Excerpt: a}, true
		}
	}
	// Plain-text clients of old ("Jane Cole wrote:") give no date; a block
	// of quoted lines under a short "Name wrote:" line is the reply's mark.
	for i := range d.lines {
		c := d.content(i)
		if name, ok := strings.CutSuffix(c, " wrote:"); ok && shortName(name) && quotedAfter(d, i) >= 3 {
			return Finding{Rule: "reply_attribution", Line: i + 1, Excerpt: "... wrote:"}, true
		}
	}
	return Finding{}, false
}

// matchAttribution reports whether text is an attribution line, with an
// excerpt naming its fixed words only.
func matchAttribution(text string) (string, bool) {
	for _, a := range attributions {
		if strings.HasPrefix(text, a.start) && strings.HasSuffix(text, a.end) &&
			len(text) > len(a.start)+len(a.end) && strings.Contains(text[len(a.start):len(text)-len(a.end)], a.mid) {
			if a.start == "" {
				return "... " + a.end, true
			}
			return title(strings.TrimSpace(a.start)) + " ... " + a.end, true
		}
	}
	return "", false
}

// quotedAfter counts the lines starting with ">" among the six lines after i.
func quotedAfter(d *doc, i int) int {
	n := 0
	for j := i + 1; j < len(d.lines) && j <= i+6; j++ {
		if strings.HasPrefix(strings.TrimLeft(d.line(j), " \t"), ">") {
			n++
		}
	}
	return n
}

// shortName reports whether s (lowered) could be a sender's display name: one
// to four words, perhaps in quotes, with no sentence punctuation.
func shortName(s string) bool {
	s = strings.Trim(s, "\" ")
	n := len(strings.Fields(s))
	return n >= 1 && n <= 4 && !strings.ContainsAny(s, ".,;:!?")
}
