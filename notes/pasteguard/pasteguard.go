// Package pasteguard recognises an email pasted into a case note. The
// council's policy forbids it: a pasted email puts other people's personal
// data into a child's record and breaks its retention; the email belongs in
// the document store instead.
//
// It looks for what pasting leaves behind (header blocks, separators, quote
// chains, header dumps, disclaimers), not for the mere mention of an email, so
// that "emailed school re attendance" is never refused.
package pasteguard

import (
	"regexp"
	"strings"
)

// Finding is the evidence for a pasted email: which rule, where, and the
// labels that matched (never the content around them).
type Finding struct {
	Rule    string
	Line    int
	Excerpt string
}

// Header labels of mail clients, by field, in the languages staff meet.
var labels = map[string][]string{
	"from":    {"from", "von", "de", "van", "da", "från", "fra", "od"},
	"sent":    {"sent", "date", "gesendet", "datum", "envoyé", "envoye", "verzonden", "inviato", "enviado", "fecha", "skickat", "sendt"},
	"to":      {"to", "an", "à", "a", "aan", "para", "till", "til", "do"},
	"cc":      {"cc", "bcc", "kopie", "copie"},
	"subject": {"subject", "betreff", "objet", "onderwerp", "oggetto", "asunto", "ämne", "emne", "temat", "re", "fw", "fwd"},
}

var (
	// A header line: optional bullets/bold markers, a label, a colon, a value.
	headerLine = regexp.MustCompile(`^[\s>*_]*([\p{L}]{1,12})[\s*_]*:[\s*_]*(.*)$`)
	emailAddr  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	separators = regexp.MustCompile(`(?i)^[\s>]*(-{2,}\s*(original message|forwarded message|message d'origine|ursprüngliche nachricht|mensaje original|oorspronkelijk bericht)\s*-{2,}|begin forwarded message:|_{20,})\s*$`)
	onWrote    = regexp.MustCompile(`(?i)^[\s>]*(on\s.{4,200}\swrote:|am\s.{4,200}\sschrieb\s.{0,100}:|le\s.{4,200}\sa écrit\s?:|.{0,100}<[^>]+@[^>]+>\s+(wrote|schrieb|a écrit)[^:]{0,60}:)\s*$`)
	rfcHeader  = regexp.MustCompile(`(?i)^(received|message-id|mime-version|content-type|content-transfer-encoding|return-path|dkim-signature|x-[a-z0-9-]+|delivered-to|reply-to|thread-index|thread-topic|arc-[a-z-]+|authentication-results|in-reply-to|references):\s*\S`)
	disclaimer = regexp.MustCompile(`(?i)(this (e-?mail|message)( and any (files|attachments)( transmitted with it)?)? (is|are|may be) (strictly )?(confidential|private|privileged|intended (solely|only) for)|if you (have )?received this (e-?mail|message|communication) in error|the information (contained )?in this (e-?mail|message) is (strictly )?(confidential|privileged)|unauthori[sz]ed (use|disclosure|copying|dissemination) (of this (e-?mail|message))?|please notify the sender immediately|views expressed in this (e-?mail|message))`)
	flatBlock  = regexp.MustCompile(`(?i)\bfrom:\s*[^\n]{1,120}?\b(sent|date):\s*[^\n]{1,80}?\b(to|subject):`)
)

func fieldOf(label string) string {
	l := strings.ToLower(label)
	for f, names := range labels {
		for _, n := range names {
			if l == n {
				return f
			}
		}
	}
	return ""
}

// Check reports whether body contains a pasted email.
func Check(body string) (Finding, bool) {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	if f, ok := headerBlock(lines); ok {
		return f, true
	}
	for i, ln := range lines {
		if len(ln) > 2000 {
			ln = ln[:2000]
		}
		if separators.MatchString(ln) {
			// A lone underline is a divider unless a header follows it.
			if strings.Contains(ln, "____") && !followedByFrom(lines, i) {
				continue
			}
			return Finding{Rule: "forward_separator", Line: i + 1, Excerpt: clip(strings.TrimSpace(ln))}, true
		}
		if onWrote.MatchString(ln) && quotedFollows(lines, i) {
			return Finding{Rule: "reply_quote_chain", Line: i + 1, Excerpt: "On ... wrote:"}, true
		}
		// Gmail splits "On <date>, <name> <addr>" and "wrote:" over two lines.
		if i+1 < len(lines) && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ln)), "on ") && emailAddr.MatchString(ln) &&
			strings.HasPrefix(strings.ToLower(strings.TrimSpace(lines[i+1])), "wrote:") {
			return Finding{Rule: "reply_quote_chain", Line: i + 1, Excerpt: "On ... wrote:"}, true
		}
	}
	if f, ok := rfcHeaders(lines); ok {
		return f, true
	}
	if loc := flatBlock.FindStringIndex(body); loc != nil {
		return Finding{Rule: "outlook_header_block", Line: strings.Count(body[:loc[0]], "\n") + 1, Excerpt: "From: ... Sent: ... To:"}, true
	}
	if f, ok := signedDisclaimer(body, lines); ok {
		return f, true
	}
	return Finding{}, false
}

// headerBlock finds a From line followed within a few lines by a date and a
// recipient or subject line: the block every mail client writes above a
// forwarded or replied message.
func headerBlock(lines []string) (Finding, bool) {
	for i, ln := range lines {
		m := headerLine.FindStringSubmatch(ln)
		if m == nil || fieldOf(m[1]) != "from" || strings.TrimSpace(m[2]) == "" {
			continue
		}
		seen := map[string]bool{"from": true}
		var names []string
		names = append(names, m[1])
		for j := i + 1; j < len(lines) && j <= i+6; j++ {
			mm := headerLine.FindStringSubmatch(lines[j])
			if mm == nil {
				if strings.TrimSpace(lines[j]) == "" {
					continue
				}
				break
			}
			if f := fieldOf(mm[1]); f != "" && !seen[f] {
				seen[f] = true
				names = append(names, mm[1])
			}
		}
		// "From: 10:00 To: 11:00" in a timetable has from and to but no date
		// or subject; an email header block has a date, or both to and subject.
		if (seen["sent"] && (seen["to"] || seen["subject"] || seen["cc"])) || (seen["to"] && seen["subject"]) {
			return Finding{Rule: "outlook_header_block", Line: i + 1, Excerpt: clip(strings.Join(names, ": ... ") + ":")}, true
		}
	}
	return Finding{}, false
}

func followedByFrom(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		if m := headerLine.FindStringSubmatch(lines[j]); m != nil && fieldOf(m[1]) == "from" {
			return true
		}
	}
	return false
}

func quotedFollows(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		t := strings.TrimSpace(lines[j])
		if t == "" {
			continue
		}
		return strings.HasPrefix(t, ">")
	}
	return false
}

// rfcHeaders finds three or more raw RFC 5322 header lines close together.
func rfcHeaders(lines []string) (Finding, bool) {
	count, start := 0, -1
	for i, ln := range lines {
		if rfcHeader.MatchString(strings.TrimLeft(ln, " >")) {
			if count == 0 {
				start = i
			}
			count++
			if count >= 3 {
				return Finding{Rule: "rfc5322_headers", Line: start + 1, Excerpt: "Received:/Message-ID:/Content-Type: ..."}, true
			}
		} else if strings.TrimSpace(ln) != "" && !strings.HasPrefix(ln, " ") && !strings.HasPrefix(ln, "\t") {
			count = 0
		}
	}
	return Finding{}, false
}

// signedDisclaimer finds a confidentiality disclaimer, which only an email
// signature carries; with an email address or a sign-off nearby it is a paste.
func signedDisclaimer(body string, lines []string) (Finding, bool) {
	loc := disclaimer.FindStringIndex(body)
	if loc == nil {
		return Finding{}, false
	}
	lower := strings.ToLower(body)
	if emailAddr.MatchString(body) || strings.Contains(lower, "kind regards") || strings.Contains(lower, "best regards") ||
		strings.Contains(lower, "many thanks") || strings.Contains(lower, "tel:") || strings.Contains(lower, "www.") ||
		strings.Contains(lower, "regards,") {
		return Finding{Rule: "email_disclaimer", Line: strings.Count(body[:loc[0]], "\n") + 1, Excerpt: clip(body[loc[0]:loc[1]])}, true
	}
	return Finding{}, false
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
