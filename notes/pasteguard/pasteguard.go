// Package pasteguard recognises an email that has been cut and pasted into a
// case note.
//
// The council's case-notes policy (Appendix A, section 2) forbids pasting
// emails into case notes: a pasted email carries other people's names,
// addresses and words into a child's record, where they may later be
// disclosed to the family. Emails belong in the document store instead.
//
// Check looks for the marks that mail clients leave on what they copy. Each
// rule has a stable id, reported in Finding.Rule:
//
//   - outlook_header_block: From, Sent, To/Subject labels (also German,
//     French, Dutch, Italian, Spanish, Portuguese and Polish; bold, tabbed,
//     double-spaced, or flattened onto one line)
//   - mail_header_block: the same built on "Date:" (Gmail, Apple Mail,
//     Outlook for Mac, Thunderbird), or on a From address without a date
//   - web_mail_header: Outlook on the web's and Gmail's unlabelled header
//   - original_message_separator, forwarded_message_separator,
//     reply_separator_line: "-----Original Message-----", "----------
//     Forwarded message ---------", "Begin forwarded message:", and
//     Outlook's rule of underscores above a From line
//   - reply_attribution: "On <date>, <name> <address> wrote:" and its
//     translations, or a bare "Name wrote:" above a block of ">" lines
//   - raw_mail_headers: Received, Message-ID, MIME-Version and the like
//   - confidentiality_disclaimer: mail disclaimers beside a sign-off, a
//     signature's contact line, or each other
//   - mail_client_footer: "Sent from my iPhone", "Get Outlook for Android"
//
// A false positive stops a social worker from recording a visit, so every
// rule wants more than one mark, or one mark that nobody types by hand; a
// note that merely talks about an email ("emailed school re attendance",
// "subject: attendance", "From: 10:00 To: 11:00") passes. A pasted email body
// with none of these marks (greeting, text, first name) cannot be told from a
// note that quotes a text message, and passes too.
//
// Check makes a handful of linear passes over the body. On the 2-core
// development machine 1 MiB of ordinary prose takes about 40 ms, and the
// most adversarial bodies in bench_test.go a few hundred.
package pasteguard

// Finding is the evidence that a body contains a pasted email.
type Finding struct {
	// Rule is a stable snake_case identifier of the rule that matched, for
	// example "outlook_header_block".
	Rule string
	// Line is the 1-based line on which the evidence starts.
	Line int
	// Excerpt names the labels or boilerplate that matched, such as
	// "From: ... Sent: ... To: ... Subject:". It is built from the rule's own
	// vocabulary, never from the text around it, so it can be logged and shown
	// without leaking what the email said. At most 80 characters.
	Excerpt string
}

// maxExcerpt is the longest Excerpt in runes.
const maxExcerpt = 80

// rules run in this order; when two rules find evidence starting on the same
// line, the earlier one in the list names the finding.
var rules = []func(*doc) (Finding, bool){
	separators,
	headerBlocks,
	webHeader,
	replyAttribution,
	rawHeaders,
	disclaimer,
	mailFooter,
}

// Check reports whether body contains a pasted email, with the evidence that
// starts earliest in the body. It never modifies or retains body.
func Check(body string) (Finding, bool) {
	d := newDoc(body)
	var best Finding
	found := false
	for _, rule := range rules {
		f, ok := rule(d)
		if ok && (!found || f.Line < best.Line) {
			best, found = f, true
		}
	}
	return best, found
}

// excerpt joins parts with " ... " and stops before the part that would take
// it past maxExcerpt runes, so an excerpt never ends in half a label.
func excerpt(parts ...string) string {
	out := ""
	n := 0
	for i, p := range parts {
		add := p
		if i > 0 {
			add = " ... " + p
		}
		m := runeCount(add)
		if n+m > maxExcerpt {
			if i == 0 {
				return truncateRunes(p, maxExcerpt)
			}
			break
		}
		out += add
		n += m
	}
	return out
}

func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
