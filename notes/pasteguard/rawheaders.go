package pasteguard

import "strings"

// transport headers are written by mail servers and clients, never by people.
// Some names are ordinary words, so their values must look like mail too.
var transportHeaders = map[string]func(v string) bool{
	"received":                   func(v string) bool { return strings.HasPrefix(v, "from ") || strings.HasPrefix(v, "by ") },
	"return-path":                hasAngleOrAt,
	"message-id":                 hasAngleOrAt,
	"in-reply-to":                hasAngleOrAt,
	"references":                 func(v string) bool { return strings.Contains(v, "<") && strings.Contains(v, "@") },
	"mime-version":               func(v string) bool { return strings.HasPrefix(v, "1.0") },
	"content-type":               func(v string) bool { return strings.Contains(v, "/") },
	"content-transfer-encoding":  anyValue,
	"dkim-signature":             anyValue,
	"authentication-results":     anyValue,
	"arc-seal":                   anyValue,
	"arc-message-signature":      anyValue,
	"arc-authentication-results": anyValue,
	"delivered-to":               hasAngleOrAt,
	"received-spf":               anyValue,
	"thread-topic":               anyValue,
	"thread-index":               anyValue,
	"list-unsubscribe":           anyValue,
	"x-original-to":              anyValue,
}

// Headers people also write by hand; they only add to a run that already has
// transport headers.
var ordinaryHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "subject": true, "date": true, "reply-to": true, "sender": true,
}

func anyValue(string) bool { return true }

func hasAngleOrAt(v string) bool { return strings.ContainsAny(v, "<@") }

// rawHeaders finds a run of RFC 5322 header lines, as "show original" or
// "view source" displays them: at least two different transport headers and
// three header lines in all, within a run that allows folded continuation
// lines and a blank line or two between headers.
func rawHeaders(d *doc) (Finding, bool) {
	runStart, lastHeader := -1, -1
	var seen []string
	transport, other := 0, 0
	reset := func() { runStart, seen, transport, other = -1, seen[:0], 0, 0 }
	for i := range d.lines {
		name, v, ok := headerLine(d.lowerLine(i))
		if !ok {
			raw := d.lowerLine(i)
			if runStart >= 0 && (raw != "" && (raw[0] == ' ' || raw[0] == '\t')) {
				continue // folded header value
			}
			if runStart >= 0 && i-lastHeader > 2 {
				reset()
			}
			continue
		}
		kind := headerKind(name, v)
		if kind == 0 {
			if runStart >= 0 && i-lastHeader > 2 {
				reset()
			}
			continue
		}
		if runStart < 0 || i-lastHeader > 3 {
			reset()
			runStart = i
		}
		lastHeader = i
		dup := false
		for _, s := range seen {
			dup = dup || s == name
		}
		if dup {
			continue
		}
		if len(seen) < 16 {
			seen = append(seen, name)
		}
		if kind == 1 {
			transport++
		} else {
			other++
		}
		if transport >= 2 && transport+other >= 3 {
			var parts []string
			for _, s := range seen {
				if strings.HasPrefix(s, "x-") {
					s = "x-..." // X- names are free text; keep them out of the excerpt
				}
				parts = append(parts, headerTitle(s)+":")
			}
			return Finding{Rule: "raw_mail_headers", Line: runStart + 1, Excerpt: excerpt(parts...)}, true
		}
	}
	return Finding{}, false
}

// headerKind is 1 for a transport header, 2 for an X- header or an ordinary
// one, 0 for anything else.
func headerKind(name, v string) int {
	if ok, known := transportHeaders[name]; known {
		if ok(v) {
			return 1
		}
		return 0
	}
	// "X-ray: clear" is a clinical note; X- mail headers are longer or have
	// more than one hyphen ("X-Mailer", "X-MS-Exchange-...").
	if strings.HasPrefix(name, "x-") && (len(name) >= 7 || strings.Count(name, "-") >= 2) {
		return 2
	}
	if ordinaryHeaders[name] {
		return 2
	}
	return 0
}

// headerLine splits a lowered line into an RFC 5322 header name and value:
// the name starts the line (after any quote markers), is letters, digits and
// hyphens, and is followed directly by a colon.
func headerLine(ll string) (name, value string, ok bool) {
	s := strings.TrimLeft(ll, "> ")
	n := 0
	for n < len(s) && n < 64 && (s[n] >= 'a' && s[n] <= 'z' || n > 0 && (s[n] == '-' || s[n] >= '0' && s[n] <= '9')) {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != ':' {
		return "", "", false
	}
	if n+1 < len(s) && s[n+1] != ' ' && s[n+1] != '\t' {
		return "", "", false
	}
	return s[:n], strings.TrimSpace(bounded(s[n+1:], 200)), true
}

// headerTitle writes a lowered header name in its usual capitalisation for an
// excerpt ("message-id" → "Message-Id").
func headerTitle(name string) string {
	b := []byte(name)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}
