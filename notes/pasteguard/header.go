package pasteguard

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// role is the field a header label names.
type role uint8

const (
	roleFrom role = 1 << iota
	roleSent      // Outlook's "Sent:", which nobody else writes
	roleDate      // "Date:", used by Gmail, Apple Mail and Outlook for Mac
	roleTo
	roleCc
	roleSubject
)

// Languages of Outlook and Gmail header blocks (Polish because many families
// the council works with write in it). A block is judged within one
// language so that short labels such as Italian "A:" or French "De:" only
// count beside the rest of their own language's block.
const (
	langEN uint8 = 1 << iota
	langDE
	langFR
	langNL
	langIT
	langES
	langPT
	langPL
	numLangs = 8
	// Gmail mixes English labels into forwarded headers whatever the
	// interface language, so English labels count in every language.
	langAll = 1<<numLangs - 1
)

type labelInfo struct {
	role  role
	langs uint8
}

// labels maps a lowered label word to its role and languages.
var labels = map[string]labelInfo{
	"from": {roleFrom, langAll}, "von": {roleFrom, langDE}, "de": {roleFrom, langFR | langES | langPT},
	"van": {roleFrom, langNL}, "da": {roleFrom, langIT}, "od": {roleFrom, langPL},

	"sent": {roleSent, langAll}, "gesendet": {roleSent, langDE}, "envoyé": {roleSent, langFR},
	"envoye": {roleSent, langFR}, "verzonden": {roleSent, langNL}, "inviato": {roleSent, langIT},
	"enviado": {roleSent, langES | langPT}, "enviada": {roleSent, langPT}, "wysłano": {roleSent, langPL},

	"date": {roleDate, langAll}, "datum": {roleDate, langDE | langNL}, "data": {roleDate, langIT | langPT | langPL},
	"fecha": {roleDate, langES},

	"to": {roleTo, langAll}, "an": {roleTo, langDE}, "à": {roleTo, langFR}, "a": {roleTo, langFR | langIT},
	"aan": {roleTo, langNL}, "para": {roleTo, langES | langPT}, "do": {roleTo, langPL},

	"cc": {roleCc, langAll}, "bcc": {roleCc, langAll},

	"subject": {roleSubject, langAll}, "betreff": {roleSubject, langDE}, "objet": {roleSubject, langFR},
	"onderwerp": {roleSubject, langNL}, "oggetto": {roleSubject, langIT}, "asunto": {roleSubject, langES},
	"assunto": {roleSubject, langPT}, "temat": {roleSubject, langPL},
}

// maxLabelRunes is the longest label word ("verzonden", "onderwerp").
const maxLabelRunes = 9

// event is one header label found in the body, with the start of its value.
type event struct {
	line     int // 0-based
	pos      int // byte offset of the label in its line
	role     role
	langs    uint8
	label    string // the label word as written, e.g. "Von"
	val      string // the value, trimmed and bounded
	valStart int    // byte offset of the value in its line, while scanning
	lastInLn bool
}

// eventsOf finds every header label in the body and keeps those whose value
// is plausible for the field, so "From: 10:00" and "Sent: text to dad" never
// count.
func (d *doc) eventsOf() []event {
	if d.eventsDone {
		return d.events
	}
	d.eventsDone = true
	var all []event
	for i := range d.lines {
		all = lineEvents(d.line(i), d.lowerLine(i), i, all)
	}
	// A label alone on its line takes its value from the next line: pasting
	// Outlook's header table into some editors puts label and value in
	// separate paragraphs.
	for k := range all {
		e := &all[k]
		if e.val != "" || !e.lastInLn {
			continue
		}
		for j := e.line + 1; j < len(d.lines) && j <= e.line+2; j++ {
			if k+1 < len(all) && all[k+1].line == j {
				break
			}
			if v := trimSpace(stripLead(d.line(j))); v != "" {
				e.val = bounded(v, 200)
				break
			}
		}
	}
	d.events = all[:0] // filter in place: bodies of labels make many events
	for _, e := range all {
		if validValue(e.role, e.val) {
			d.events = append(d.events, e)
		}
	}
	return d.events
}

// lineEvents appends the header labels on one line. A label is a known word,
// capitalised or in capitals (prose writes "sent to:" in lower case), that
// starts the line or follows a space, "*", ">" or "|", and is followed by a
// colon, perhaps after spaces (French writes "De :") or a bold marker.
// Labels are found anywhere in the line because some editors flatten a
// pasted header onto one line.
//
// lower is s with ASCII letters lowered, for allocation-free lookups.
func lineEvents(s, lower string, lineNo int, out []event) []event {
	first := len(out)
	for off := 0; off < len(s); {
		c := strings.IndexByte(s[off:], ':')
		if c < 0 {
			break
		}
		colon := off + c
		off = colon + 1
		end := colon
		for n := 0; n < 4 && end > 0; n++ {
			switch {
			case s[end-1] == ' ' || s[end-1] == '\t' || s[end-1] == '*':
				end--
			case strings.HasSuffix(s[:end], "\u00a0"):
				end -= len("\u00a0")
			case strings.HasSuffix(s[:end], "\u202f"):
				end -= len("\u202f")
			}
		}
		start, runes := end, 0
		for start > 0 && runes <= maxLabelRunes {
			r, size := utf8.DecodeLastRuneInString(s[:start])
			if !unicode.IsLetter(r) {
				break
			}
			start -= size
			runes++
		}
		if runes == 0 || runes > maxLabelRunes || !labelBoundary(s[:start]) {
			continue
		}
		word, key := s[start:end], lower[start:end]
		if !isASCII(key) {
			key = strings.ToLower(key)
		}
		info, ok := labels[key]
		if !ok || !labelCase(word) {
			continue
		}
		if n := len(out); n > first {
			out[n-1].val = bounded(trimSpace(s[out[n-1].valStart:start]), 200)
		}
		out = append(out, event{line: lineNo, pos: start, role: info.role, langs: info.langs, label: word, valStart: off})
	}
	if n := len(out); n > first {
		out[n-1].val = bounded(trimSpace(s[out[n-1].valStart:]), 200)
		out[n-1].lastInLn = true
	}
	return out
}

// labelBoundary reports whether a label may start after prefix.
func labelBoundary(prefix string) bool {
	if prefix == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(prefix)
	return unicode.IsSpace(r) || strings.ContainsRune("*>|([\"'\u200b\ufeff", r)
}

// labelCase accepts "From", "FROM" and "CC" but not "from": mail clients
// capitalise their labels, people writing prose mostly do not.
func labelCase(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) {
		return false
	}
	rest := w[n:]
	return rest == strings.ToLower(rest) || rest == strings.ToUpper(rest)
}

// validValue says whether v is a plausible value for the field: a sender or
// recipient starts with a letter, a quote or an address bracket (not a time,
// as in "From: 10:00 To: 11:00"), and a sent date carries a date.
func validValue(r role, v string) bool {
	switch r {
	case roleFrom, roleTo, roleCc:
		if v == "" {
			return false
		}
		c, _ := utf8.DecodeRuneInString(v)
		return unicode.IsLetter(c) || strings.ContainsRune("\"'<[(", c)
	case roleSent, roleDate:
		return dateOf(bounded(v, 80)).dated()
	}
	return true
}

// dateFacts says what a date value holds.
type dateFacts struct {
	year, numeric, clock, month, weekday bool
}

// dated: mail clients always write the year or a numeric date, and a time or
// a month name beside it. "Sent: text message to dad" has neither.
func (f dateFacts) dated() bool {
	return f.numeric || f.year && (f.clock || f.month)
}

var monthNames = map[string]bool{
	"jan": true, "january": true, "feb": true, "february": true, "mar": true, "march": true,
	"apr": true, "april": true, "may": true, "jun": true, "june": true, "jul": true, "july": true,
	"aug": true, "august": true, "sep": true, "sept": true, "september": true, "oct": true,
	"october": true, "nov": true, "november": true, "dec": true, "december": true,
}

var weekdayNames = map[string]bool{
	"mon": true, "monday": true, "tue": true, "tues": true, "tuesday": true, "wed": true,
	"wednesday": true, "thu": true, "thur": true, "thurs": true, "thursday": true, "fri": true,
	"friday": true, "sat": true, "saturday": true, "sun": true, "sunday": true,
}

// dateOf tokenises v; callers bound its length.
func dateOf(v string) dateFacts {
	var f dateFacts
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n := j - i
			// A year stands alone: the digits in "jo2007@example.com" are not one.
			if n == 4 && (v[i:i+2] == "19" || v[i:i+2] == "20") && !inWord(v, i, j) {
				f.year = true
			}
			if n <= 2 && j+2 < len(v) && v[j] == ':' && isDigit(v[j+1]) && isDigit(v[j+2]) {
				f.clock = true
			}
			if n <= 4 && j+1 < len(v) && (v[j] == '/' || v[j] == '.' || v[j] == '-') && isDigit(v[j+1]) {
				k := j + 1
				for k < len(v) && isDigit(v[k]) {
					k++
				}
				if k-(j+1) <= 2 && k+1 < len(v) && v[k] == v[j] && isDigit(v[k+1]) {
					f.numeric = true
				}
			}
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(v) && (v[j] >= 'a' && v[j] <= 'z' || v[j] >= 'A' && v[j] <= 'Z') {
				j++
			}
			w := strings.ToLower(v[i:j])
			f.month = f.month || monthNames[w]
			f.weekday = f.weekday || weekdayNames[w]
			i = j
		default:
			i++
		}
	}
	return f
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// inWord reports whether v[i:j] touches a letter, "_" or "@" on either side.
func inWord(v string, i, j int) bool {
	glued := func(c byte) bool { return c == '_' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	return i > 0 && glued(v[i-1]) || j < len(v) && glued(v[j])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
