package pasteguard

import "strings"

// dashed separators that mail clients put above a quoted or forwarded
// message, lowered. Between runs of dashes these phrases are never typed by
// hand, so they count anywhere in a line (a flattening editor may have joined
// the separator to the text around it).
var (
	originalPhrases = []string{
		"original message", "ursprüngliche nachricht", "message d'origine", "mensaje original",
		"oorspronkelijk bericht", "messaggio originale", "mensagem original",
	}
	forwardedPhrases = []string{
		"forwarded message", "weitergeleitete nachricht", "message transféré", "mensaje reenviado",
		"doorgestuurd bericht", "messaggio inoltrato", "mensagem encaminhada",
	}
	// Apple Mail's forward line, which stands alone at the start of a line.
	beginForwarded = []string{
		"begin forwarded message:", "anfang der weitergeleiteten nachricht:", "début du message réexpédié :",
		"début du message réexpédié:", "inicio del mensaje reenviado:", "begin doorgestuurd bericht:",
		"inizio messaggio inoltrato:",
	}
)

// separators finds "-----Original Message-----", "---------- Forwarded
// message ---------", "Begin forwarded message:" and Outlook's line of
// underscores when a From label follows it.
func separators(d *doc) (Finding, bool) {
	fromAt := d.fromStarts()
	for i := range d.lines {
		ll := d.lowerLine(i)
		if strings.IndexByte(ll, '-') >= 0 {
			for _, p := range originalPhrases {
				if dashed(ll, p) {
					return Finding{Rule: "original_message_separator", Line: i + 1, Excerpt: "-----" + title(p) + "-----"}, true
				}
			}
			for _, p := range forwardedPhrases {
				if dashed(ll, p) {
					return Finding{Rule: "forwarded_message_separator", Line: i + 1, Excerpt: "---------- " + title(p) + " ---------"}, true
				}
			}
		}
		c := d.content(i)
		for _, p := range beginForwarded {
			if strings.HasPrefix(c, p) {
				return Finding{Rule: "forwarded_message_separator", Line: i + 1, Excerpt: title(p)}, true
			}
		}
		// Outlook's reply separator: a rule of underscores, then the quoted
		// message's From line, on the same line when flattened.
		if u := len(c) - len(strings.TrimLeft(c, "_")); u >= 10 {
			if rest := trimSpace(c[u:]); rest == "" && nextFrom(d, fromAt, i) || rest != "" && fromAt[i] {
				return Finding{Rule: "reply_separator_line", Line: i + 1, Excerpt: "________________ ... From:"}, true
			}
		}
	}
	return Finding{}, false
}

// fromStarts marks the lines that begin, or whose text after a rule of
// underscores begins, with a valid From label.
func (d *doc) fromStarts() []bool {
	at := make([]bool, len(d.lines))
	for _, e := range d.eventsOf() {
		if e.role == roleFrom && strings.Trim(stripLead(d.line(e.line)[:e.pos]), "_ ") == "" {
			at[e.line] = true
		}
	}
	return at
}

// nextFrom reports whether one of the next non-blank lines after i, within
// two, starts with a From label.
func nextFrom(d *doc, fromAt []bool, i int) bool {
	seen := 0
	for j := i + 1; j < len(d.lines) && seen < 2; j++ {
		if d.blank(j) {
			continue
		}
		seen++
		if fromAt[j] {
			return true
		}
	}
	return false
}

// dashed reports whether phrase occurs in ll between two runs of at least two
// dashes (spaces allowed between dashes and phrase).
func dashed(ll, phrase string) bool {
	for off := 0; off < len(ll); {
		k := strings.Index(ll[off:], phrase)
		if k < 0 {
			return false
		}
		at := off + k
		off = at + len(phrase)
		before := strings.TrimRight(ll[:at], " \u00a0")
		after := strings.TrimLeft(ll[off:], " \u00a0")
		if strings.HasSuffix(before, "--") && strings.HasPrefix(after, "--") {
			return true
		}
	}
	return false
}

// title capitalises the first letter of an ASCII phrase for an excerpt.
func title(p string) string {
	if p == "" || p[0] < 'a' || p[0] > 'z' {
		return p
	}
	return string(p[0]-'a'+'A') + p[1:]
}
