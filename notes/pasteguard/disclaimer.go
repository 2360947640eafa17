package pasteguard

import (
	"sort"
	"strings"
)

// disclaimerPhrases are the boilerplate that mail systems append to messages,
// lowered, with "e-mail" written "email" and single spaces. Each one alone
// could be quoted in prose, so a finding needs two of them, or one beside a
// sign-off or a signature's contact line.
var disclaimerPhrases = []string{
	"this email and any files transmitted with it are confidential",
	"this email and any attachments are confidential",
	"this email and any attachments may be confidential",
	"this email and any attachments to it may be confidential",
	"the contents of this email and any attachments are confidential",
	"this email and its attachments are confidential",
	"this email is confidential and may be",
	"this message is confidential and may be",
	"if you have received this email in error",
	"if you have received this message in error",
	"if you received this email in error",
	"if you are not the intended recipient",
	"the information contained in this email is",
	"the information in this email is confidential",
	"the information contained in this email and any attachments",
	"intended solely for the use of the individual",
	"intended only for the use of the individual",
	"intended solely for the addressee",
	"intended solely for the person",
	"solely for the use of the intended recipient",
	"please notify the sender immediately",
	"notify the sender immediately",
	"please notify the sender and delete",
	"views or opinions presented in this email are",
	"views expressed in this email are",
	"this email has been scanned for",
	"this email has been checked for viruses",
	"this email originated from outside",
	"this message originated from outside",
	"do not click links or open attachments unless",
	"disclosure, copying, distribution",
	"dissemination, distribution or copying",
	"delete it from your system",
	"may be legally privileged",
	"accepts no liability for any damage caused by any virus",
	"please consider the environment before printing",
	"communications with the council may be monitored",
	"email communications with the council",
}

// disclaimerWindow is how far apart, in lines, the marks of one signature
// block may be.
const disclaimerWindow = 40

// disclaimer finds a confidentiality disclaimer that came with a pasted
// email: two different disclaimer phrases close together, or one with a
// sign-off ("Kind regards") or a signature contact line near it.
func disclaimer(d *doc) (Finding, bool) {
	stream, lineAt := normalisedStream(d)
	if len(stream) == 0 {
		return Finding{}, false
	}
	d.marks()
	type hit struct{ phrase, line int }
	var hits []hit
	for p, ph := range disclaimerPhrases {
		for off := 0; off < len(stream); {
			k := strings.Index(stream[off:], ph)
			if k < 0 {
				break
			}
			at := off + k
			off = at + len(ph)
			line := sort.Search(len(lineAt), func(i int) bool { return lineAt[i] > at }) - 1
			if n := len(hits); n > 0 && hits[n-1].phrase == p && hits[n-1].line == line {
				continue
			}
			hits = append(hits, hit{p, line})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].line < hits[j].line })
	best := Finding{}
	found := false
	consider := func(f Finding) {
		if !found || f.Line < best.Line {
			best, found = f, true
		}
	}
	lastLine := make([]int, len(disclaimerPhrases))
	for i := range lastLine {
		lastLine[i] = -1 << 30
	}
	for _, h := range hits {
		if found && h.line-disclaimerWindow >= best.Line {
			break // every later hit's evidence starts after best
		}
		ph := disclaimerPhrases[h.phrase]
		for q, l := range lastLine {
			if q != h.phrase && h.line-l <= disclaimerWindow/2 {
				consider(Finding{Rule: "confidentiality_disclaimer", Line: l + 1, Excerpt: excerpt(disclaimerPhrases[q], ph)})
			}
		}
		lastLine[h.phrase] = h.line
		if s := d.signoffs.last(h.line-disclaimerWindow, h.line); s >= 0 {
			so, _ := signoffOf(d.content(s))
			consider(Finding{Rule: "confidentiality_disclaimer", Line: s + 1, Excerpt: excerpt(title(so), ph)})
		} else if d.signoffs.count(h.line, h.line+disclaimerWindow) > 0 {
			// A "this email originated from outside" banner sits above the
			// message it marks.
			consider(Finding{Rule: "confidentiality_disclaimer", Line: h.line + 1, Excerpt: excerpt(ph, "<sign-off>")})
		}
		if c := d.contacts.last(h.line-15, h.line); c >= 0 {
			consider(Finding{Rule: "confidentiality_disclaimer", Line: c + 1, Excerpt: excerpt("<contact line>", ph)})
		}
	}
	return best, found
}

// normalisedStream joins the body's lines with single spaces, lowered, with
// quote markers dropped, runs of spacing collapsed, "e-mail" as "email" and
// curly apostrophes straightened, so that a phrase wrapped across lines or
// spaced oddly by a rich-text editor still matches. lineAt[i] is the offset
// in the stream where line i starts.
func normalisedStream(d *doc) (string, []int) {
	var b strings.Builder
	b.Grow(len(d.lower))
	lineAt := make([]int, len(d.lines))
	space := true // suppress leading spaces
	for i := range d.lines {
		lineAt[i] = b.Len()
		s := stripLead(d.lowerLine(i))
		for k := 0; k < len(s); k++ {
			c := s[k]
			switch {
			case c == ' ' || c == '\t':
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			case strings.HasPrefix(s[k:], "\u00a0"), strings.HasPrefix(s[k:], "\u202f"):
				// No-break spaces, which rich-text editors scatter through
				// pasted text; skip the rest of the rune.
				if c == 0xe2 {
					k += 2
				} else {
					k++
				}
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			case strings.HasPrefix(s[k:], "\u2019"):
				b.WriteByte('\'')
				k += 2
			case c == '-' && k > 0 && s[k-1] == 'e' && strings.HasPrefix(s[k+1:], "mail") &&
				(k == 1 || !isWordByte(s[k-2])):
				// "e-mail" → "email"
			default:
				b.WriteByte(c)
			}
			space = false
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return b.String(), lineAt
}

// signoffs are the closing words of a letter or email, lowered.
var signoffs = map[string]bool{
	"kind regards": true, "regards": true, "best regards": true, "warm regards": true,
	"kindest regards": true, "warmest regards": true, "many thanks": true, "thanks": true,
	"thank you": true, "thanks again": true, "best wishes": true, "best": true, "all the best": true,
	"yours sincerely": true, "yours faithfully": true, "with thanks": true, "with best wishes": true,
	"cheers": true, "take care": true, "thanks and regards": true, "many thanks and kind regards": true,
	"mit freundlichen grüßen": true, "viele grüße": true, "cordialement": true, "bien cordialement": true,
	"saludos": true, "un saludo": true, "atentamente": true, "met vriendelijke groet": true,
	"met vriendelijke groeten": true, "cordiali saluti": true, "distinti saluti": true,
}

// isSignoff reports whether a lowered line is a sign-off.
func isSignoff(c string) bool {
	_, ok := signoffOf(c)
	return ok
}

// signoffOf returns the sign-off that a lowered line is, alone or followed by
// a short name ("Kind regards, Jo"); the name is never returned.
func signoffOf(c string) (string, bool) {
	if len(c) > 60 {
		return "", false
	}
	c = strings.TrimRight(c, " ,.!-")
	if signoffs[c] {
		return c, true
	}
	// Try each word boundary as the end of the sign-off.
	for k := 0; k < len(c); k++ {
		if c[k] != ',' && c[k] != ' ' || !signoffs[c[:k]] {
			continue
		}
		s, rest := c[:k], strings.TrimLeft(c[k:], ", ")
		if n := len(strings.Fields(rest)); n >= 1 && n <= 3 && !strings.ContainsAny(rest, ".:;?") &&
			s != "thanks" && s != "thank you" && s != "best" {
			return s, true
		}
	}
	return "", false
}

// isContactLine reports whether a lowered line is a signature's telephone,
// mobile, email or web line ("Tel: 01632 960123", "E: jo@example.org").
func isContactLine(c string) bool {
	if len(c) > 100 {
		return false
	}
	for _, p := range []string{"tel", "tel.", "telephone", "phone", "mobile", "mob", "direct line", "direct dial", "t", "m", "e", "email", "web", "w"} {
		rest, ok := strings.CutPrefix(c, p)
		if !ok {
			continue
		}
		rest = strings.TrimLeft(rest, " ")
		if !strings.HasPrefix(rest, ":") {
			continue
		}
		rest = strings.TrimSpace(rest[1:])
		digits := 0
		for i := 0; i < len(rest); i++ {
			if isDigit(rest[i]) {
				digits++
			}
		}
		if digits >= 9 || hasAddress(rest) || strings.HasPrefix(rest, "www.") {
			return true
		}
	}
	return false
}
