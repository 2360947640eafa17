package pasteguard

import "strings"

// maxGap is how many lines apart two labels of one header block may be.
// Pasting from HTML often doubles line breaks, and Outlook's header table can
// arrive with each value on the line after its label.
const maxGap = 4

// headerBlocks finds Outlook, Gmail and Apple Mail header blocks: From, then
// Sent or Date, then To or Subject, within a few lines of each other (or on
// one line, where an editor flattened the paste).
func headerBlocks(d *doc) (Finding, bool) {
	evs := d.eventsOf()
	for bs := 0; bs < len(evs); {
		be := bs + 1
		seen := evs[bs].role
		// A second From starts the next message of a chain.
		for be < len(evs) && evs[be].line-evs[be-1].line <= maxGap &&
			!(evs[be].role == roleFrom && seen&roleFrom != 0) {
			seen |= evs[be].role
			be++
		}
		if f, ok := judgeBlock(evs[bs:be]); ok {
			return f, true
		}
		bs = be
	}
	return Finding{}, false
}

// judgeBlock decides whether labels that stand together are a mail header.
//
// Outlook's "Sent:" beside From and To or Subject is enough, with one more
// mark of mail (a Subject or Cc line, an address, or a written-out date such
// as "Monday, 3 March 2025 10:15"), because a hand-written record of a text
// message could read "From: Mum / Sent: 03/03/2025 10:15 / To: me".
//
// "Date:" is common in hand-written notes ("Date: 03/03/2025 / From: school /
// To: SW"), so a block built on it also needs an address, a reply or forward
// subject ("RE:", "Fwd:"), or the full mail shape: From first, then a date
// with weekday and time, and both To and Subject. Without any date line, a
// From holding an address beside To and Subject is still a mail header; a
// memo written by hand names people, not addresses.
func judgeBlock(b []event) (Finding, bool) {
	for l := 0; l < numLangs; l++ {
		bit := uint8(1) << l
		var roles role
		var addr, fromAddr, prefix bool
		var sent, date dateFacts
		first, fromAt, dateAt := -1, -1, -1
		for i, e := range b {
			if e.langs&bit == 0 {
				continue
			}
			if first < 0 {
				first = i
			}
			roles |= e.role
			switch e.role {
			case roleFrom, roleTo, roleCc:
				addr = addr || hasAddress(e.val)
				if e.role == roleFrom && fromAt < 0 {
					fromAt = i
					fromAddr = hasAddress(e.val)
				}
			case roleSent:
				sent = dateOf(bounded(e.val, 80))
			case roleDate:
				if dateAt < 0 {
					dateAt = i
					date = dateOf(bounded(e.val, 80))
				}
			case roleSubject:
				prefix = prefix || replySubject(e.val)
			}
		}
		has := func(r role) bool { return roles&r != 0 }
		rule := ""
		switch {
		case has(roleFrom) && has(roleSent) && (has(roleTo) || has(roleSubject)) &&
			(has(roleSubject) || has(roleCc) || addr || sent.month || sent.weekday):
			rule = "outlook_header_block"
		case !has(roleFrom) && has(roleSent) && has(roleTo) && has(roleSubject) && (addr || prefix):
			// The From line was left behind when the paste was selected.
			rule = "outlook_header_block"
		case has(roleFrom) && has(roleDate) && (has(roleTo) || has(roleSubject)) &&
			(addr || prefix || has(roleTo) && has(roleSubject) && fromAt < dateAt && date.weekday && date.clock):
			rule = "mail_header_block"
		case fromAddr && has(roleTo) && has(roleSubject):
			// A sender's address, a recipient and a subject: a header whose
			// date line was not selected.
			rule = "mail_header_block"
		}
		if rule != "" {
			var parts []string
			for _, e := range b[first:] {
				if e.langs&bit != 0 {
					parts = append(parts, e.label+":")
				}
			}
			return Finding{Rule: rule, Line: b[first].line + 1, Excerpt: excerpt(parts...)}, true
		}
	}
	return Finding{}, false
}

// replySubject reports whether a subject starts, after any "[EXTERNAL]"-style
// tags, with a reply or forward prefix in one of the languages we know.
func replySubject(v string) bool {
	v = strings.ToLower(trimSpace(v))
	for strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			break
		}
		v = trimSpace(v[end+1:])
	}
	for _, p := range []string{"re", "fw", "fwd", "aw", "wg", "tr", "rv", "sv", "antw", "doorst"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			rest = strings.TrimLeft(rest, " \u00a0")
			if strings.HasPrefix(rest, ":") {
				return true
			}
		}
	}
	return false
}

// webHeader finds the header that Outlook on the web and Gmail show above an
// open message, which has no "From:" label: a line that is only a name and an
// address, a date line, then a "To:" line (Outlook) or "to me" (Gmail).
func webHeader(d *doc) (Finding, bool) {
	evs := d.eventsOf()
	toAt := make([]bool, len(d.lines))
	for _, e := range evs {
		if e.role == roleTo && stripLead(d.line(e.line)[:e.pos]) == "" {
			toAt[e.line] = true
		}
	}
	for i := range d.lines {
		if !senderLine(d.content(i)) {
			continue
		}
		dated, seen := -1, 0
		for j := i + 1; j < len(d.lines) && seen < 3 && dated < 0; j++ {
			c := d.content(j)
			if trimSpace(strings.Trim(c, "\u200b")) == "" {
				continue
			}
			seen++
			if f := dateOf(c); len(c) <= 60 && f.clock && (f.year || f.numeric || f.weekday || f.month || strings.Contains(c, " ago")) {
				dated = j
			}
		}
		if dated < 0 {
			continue
		}
		for j := dated + 1; j < len(d.lines) && j <= dated+3; j++ {
			c := d.content(j)
			if toAt[j] || strings.HasPrefix(c, "to ") && len(c) <= 80 && strings.HasSuffix(c, "me") {
				return Finding{Rule: "web_mail_header", Line: i + 1, Excerpt: "<sender address> ... <date> ... To:"}, true
			}
		}
	}
	return Finding{}, false
}

// senderLine reports whether c (lowered) is nothing but a display name and an
// address in angle brackets, as mail clients print a sender.
func senderLine(c string) bool {
	if len(c) > 120 || !strings.HasSuffix(c, ">") {
		return false
	}
	lt := strings.LastIndexByte(c, '<')
	if lt < 1 || !hasAddress(c[lt:]) {
		return false
	}
	name := trimSpace(c[:lt])
	if name == "" || len(name) > 70 {
		return false
	}
	words := strings.Fields(name)
	return len(words) <= 6 && !strings.ContainsAny(name, ":;!?")
}
