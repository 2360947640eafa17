package pasteguard

import "testing"

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		pasted bool
		rule   string
	}{
		{"outlook block", "Spoke to school.\n\nFrom: Jane Smith <jane.smith@school.example.org>\nSent: 12 March 2026 09:14\nTo: Social Care Team\nSubject: Attendance\n\nHi, Amy was absent again.", true, "outlook_header_block"},
		{"outlook bold", "*From:* Jane Smith\n*Sent:* Monday, 3 March 2026 10:01\n*To:* Duty Team\n*Subject:* RE: Amy", true, "outlook_header_block"},
		{"german outlook", "Von: Max Muster\nGesendet: Montag, 3. März 2026 10:01\nAn: Team\nBetreff: Termin", true, "outlook_header_block"},
		{"flattened", "see below From: Jane Smith Sent: 12 March 2026 09:14 To: Duty Team Subject: Amy", true, "outlook_header_block"},
		{"original message", "Copied for the file\n-----Original Message-----\nhello", true, "forward_separator"},
		{"gmail forward", "---------- Forwarded message ---------\nFrom: Bob <bob@example.com>\nDate: Mon, 2 Mar 2026\nSubject: hi", true, ""},
		{"apple forward", "Begin forwarded message:\n\nFrom: Bob", true, "forward_separator"},
		{"reply chain", "Agreed, thanks.\n\nOn Mon, 2 Mar 2026 at 10:00, Bob Jones <bob@example.com> wrote:\n> Can we meet Tuesday?", true, "reply_quote_chain"},
		{"gmail split", "Thanks\n\nOn Mon, 2 Mar 2026 at 10:00, Bob Jones <bob@example.com>\nwrote:\n> hi", true, "reply_quote_chain"},
		{"raw headers", "Received: from mx.example.org\nMessage-ID: <abc@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain", true, "rfc5322_headers"},
		{"disclaimer", "Kind regards,\nJo\nThis email and any files transmitted with it are confidential and intended solely for the addressee.", true, "email_disclaimer"},

		{"mentions email", "Emailed school re attendance, awaiting reply.", false, ""},
		{"received email", "Received email from mum at 10:15 confirming contact on Saturday.", false, ""},
		{"address once", "Mum's email is jo.smith@example.com, she prefers it to phone calls.", false, ""},
		{"timetable", "Contact session\nFrom: 10:00\nTo: 11:30\nVenue: family centre", false, ""},
		{"sent text", "Sent: text message to dad confirming the visit.", false, ""},
		{"subject in prose", "We discussed the subject: attendance and behaviour at school.", false, ""},
		{"original message prose", "Mum said the original message from school upset her.", false, ""},
		{"quote once", "Amy said:\n> I like living with Nan\nShe appeared settled.", false, ""},
		{"divider", "Visit notes\n________________________\nAmy was in good spirits.", false, ""},
		{"confidential prose", "Explained to mum that this information is confidential and will be shared only with the school.", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, got := Check(c.body)
			if got != c.pasted {
				t.Fatalf("Check = %v (%+v), want %v", got, f, c.pasted)
			}
			if c.rule != "" && f.Rule != c.rule {
				t.Fatalf("rule = %q, want %q", f.Rule, c.rule)
			}
			if got && (f.Line < 1 || len(f.Excerpt) > 80) {
				t.Fatalf("finding = %+v", f)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("From: a\nSent: b\nTo: c")
	f.Add("On Mon, X <a@b.com> wrote:\n> hi")
	f.Add("Received: x\nMessage-ID: y\nMIME-Version: 1.0")
	f.Fuzz(func(t *testing.T, body string) {
		fd, ok := Check(body)
		if ok && (fd.Rule == "" || fd.Line < 1) {
			t.Fatalf("finding without evidence: %+v", fd)
		}
	})
}
