package pasteguard

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// check runs one table: each case names the finding it wants, or none.
type checkCase struct {
	name string
	body string
	want *Finding // nil: the body must pass; Excerpt "" means any excerpt
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Check(tc.body)
			if tc.want == nil {
				if ok {
					t.Fatalf("Check refused a clean note: %+v", got)
				}
				return
			}
			if !ok {
				t.Fatalf("Check missed a pasted email, want %+v", *tc.want)
			}
			want := *tc.want
			if want.Excerpt == "" {
				want.Excerpt = got.Excerpt
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("finding mismatch (-want +got):\n%s", diff)
			}
			if n := utf8.RuneCountInString(got.Excerpt); n == 0 || n > maxExcerpt {
				t.Errorf("excerpt %q has %d runes, want 1..%d", got.Excerpt, n, maxExcerpt)
			}
		})
	}
}

func find(rule string, line int, excerpt string) *Finding {
	return &Finding{Rule: rule, Line: line, Excerpt: excerpt}
}

func TestHeaderBlock(t *testing.T) {
	runCases(t, []checkCase{
		{"outlook desktop", "Email from school below.\n\nFrom: Jo Smith <jo.smith@example.org>\nSent: 03 March 2025 10:15\nTo: Alex Brown\nSubject: RE: Attendance\n\nHi Alex, ...",
			find("outlook_header_block", 3, "From: ... Sent: ... To: ... Subject:")},
		{"outlook internal, no addresses", "From: Smith, Jo\nSent: Monday, March 3, 2025 10:15 AM\nTo: Brown, Alex\nCc: Duty Team\nSubject: Contact\n",
			find("outlook_header_block", 1, "From: ... Sent: ... To: ... Cc: ... Subject:")},
		{"bold markers", "*From:* Jo Smith <jo@example.org>\n*Sent:* 03 March 2025 10:15\n*To:* Alex Brown\n*Subject:* visit",
			find("outlook_header_block", 1, "From: ... Sent: ... To: ... Subject:")},
		{"markdown bold", "**From:** Jo Smith\n**Sent:** 03 March 2025 10:15\n**To:** Alex Brown\n**Subject:** visit",
			find("outlook_header_block", 1, "")},
		{"tabs", "From:\tJo Smith\nSent:\t03/03/2025 10:15\nTo:\tAlex Brown\nSubject:\tvisit",
			find("outlook_header_block", 1, "")},
		{"double spaced", "From: Jo Smith\n\nSent: 03 March 2025 10:15\n\nTo: Alex Brown\n\nSubject: visit",
			find("outlook_header_block", 1, "")},
		{"values on next lines", "From:\nJo Smith <jo@example.org>\nSent:\n03 March 2025 10:15\nTo:\nAlex Brown",
			find("outlook_header_block", 1, "From: ... Sent: ... To:")},
		{"flattened on one line", "Note of school email. From: Jo Smith <jo@example.org> Sent: 03 March 2025 10:15 To: Alex Brown Subject: RE: Attendance Hi Alex",
			find("outlook_header_block", 1, "From: ... Sent: ... To: ... Subject:")},
		{"quoted in a reply", "> From: Jo Smith <jo@example.org>\n> Sent: 03 March 2025 10:15\n> To: Alex Brown\n> Subject: RE: x",
			find("outlook_header_block", 1, "")},
		{"capitals", "FROM: Jo Smith\nSENT: 03 March 2025 10:15\nTO: Alex Brown\nSUBJECT: visit",
			find("outlook_header_block", 1, "FROM: ... SENT: ... TO: ... SUBJECT:")},
		{"german", "Von: Jo Schmidt <jo@example.de>\nGesendet: Montag, 3. März 2025 10:15\nAn: Alex Brown\nBetreff: Besuch",
			find("outlook_header_block", 1, "Von: ... Gesendet: ... An: ... Betreff:")},
		{"french", "De : Jo Martin <jo@example.fr>\nEnvoyé : lundi 3 mars 2025 10:15\nÀ : Alex Brown\nObjet : visite",
			find("outlook_header_block", 1, "De: ... Envoyé: ... À: ... Objet:")},
		{"dutch", "Van: Jo de Vries\nVerzonden: maandag 3 maart 2025 10:15\nAan: Alex Brown\nOnderwerp: bezoek",
			find("outlook_header_block", 1, "")},
		{"italian", "Da: Gio Rossi\nInviato: lunedì 3 marzo 2025 10:15\nA: Alex Brown\nOggetto: visita",
			find("outlook_header_block", 1, "Da: ... Inviato: ... A: ... Oggetto:")},
		{"spanish", "De: Jo García\nEnviado: lunes, 3 de marzo de 2025 10:15\nPara: Alex Brown\nAsunto: visita",
			find("outlook_header_block", 1, "")},
		{"polish", "Od: Kasia Nowak <kasia@example.pl>\nWysłano: poniedziałek, 3 marca 2025 10:15\nDo: Alex Brown\nTemat: wizyta",
			find("outlook_header_block", 1, "Od: ... Wysłano: ... Do: ... Temat:")},
		{"polish to-do is not a header", "Do: ring school\nDo: book contact room\nDate: 3 March 2025 10:00", nil},
		{"from line missing", "Sent: 03 March 2025 10:15\nTo: Alex Brown <alex.brown@example.gov.uk>\nSubject: RE: visit",
			find("outlook_header_block", 1, "")},
		{"gmail forward header", "From: Jo Smith <jo.smith@example.com>\nDate: Mon, 3 Mar 2025 at 10:15\nSubject: contact\nTo: <alex@example.org>",
			find("mail_header_block", 1, "From: ... Date: ... Subject: ... To:")},
		{"apple forward header", "From: Jo Smith <jo@example.com>\nSubject: contact\nDate: 3 March 2025 at 10:15:02 GMT\nTo: Alex Brown <alex@example.org>",
			find("mail_header_block", 1, "")},
		{"thunderbird, subject first", "Subject: contact\nDate: Mon, 3 Mar 2025 10:15:00 +0000\nFrom: Jo Smith <jo@example.com>\nTo: alex@example.org",
			find("mail_header_block", 1, "")},
		{"outlook mac, no addresses", "From: Jo Smith\nDate: Monday, 3 March 2025 at 10:15\nTo: Alex Brown\nSubject: contact",
			find("mail_header_block", 1, "")},

		{"no date line, sender address", "From: Helen Ellis <dsl@oakfield.example.org>\nTo: Alex Brown\nSubject: Kayden\n\nHi Alex",
			find("mail_header_block", 1, "From: ... To: ... Subject:")},
		{"memo written by hand", "MEMO\nFrom: Alex Brown (SW)\nTo: Jane Cole (TM)\nDate: 03/03/2025\nSubject: Request for legal gateway", nil},
		{"meeting agenda", "Strategy meeting\nFrom: 10:00 To: 11:00\nVenue: Room 3", nil},
		{"agenda with date", "Date: Monday 3 March 2025\nFrom: 10:00\nTo: 11:30\nChair: Team manager", nil},
		{"to do list", "To: do list\n- ring school\n- book contact room", nil},
		{"sent a text", "Sent: text message to dad about Saturday's contact. No reply yet.", nil},
		{"subject in prose", "Discussed subject: attendance. Mum agreed to walk him in.", nil},
		{"sent to in prose", "I sent the subject access form to: the team", nil},
		{"phone message template", "Phone message\nDate: 03/03/2025 10:15\nFrom: Mum (Jo Smith)\nTo: Duty SW\nRe: contact on Saturday", nil},
		{"letter details", "Letter received.\nDate: 3 March 2025\nFrom: Oakfield Primary School\nTo: Children's Services\nSubject: attendance concerns", nil},
		{"text message record", "Text from mum\nFrom: Mum\nSent: 03/03/2025 10:15\nTo: SW work mobile\n\"Can I see them Saturday\"", nil},
		{"period from to", "Placement from: 3 March 2025 to: 10 March 2025 (respite).", nil},
	})
}

func TestSeparators(t *testing.T) {
	runCases(t, []checkCase{
		{"original message", "Thanks\n\n-----Original Message-----\nFrom: Jo", find("original_message_separator", 3, "-----Original message-----")},
		{"thunderbird original", "-------- Original Message --------", find("original_message_separator", 1, "")},
		{"german original", "-----Ursprüngliche Nachricht-----", find("original_message_separator", 1, "")},
		{"flattened original", "see below -----Original Message----- From: Jo", find("original_message_separator", 1, "")},
		{"gmail forward", "FYI\n---------- Forwarded message ---------\nFrom: Jo", find("forwarded_message_separator", 2, "---------- Forwarded message ---------")},
		{"thunderbird forward", "-------- Forwarded Message --------", find("forwarded_message_separator", 1, "")},
		{"apple forward", "Begin forwarded message:\n\nFrom: Jo Smith <jo@example.com>", find("forwarded_message_separator", 1, "Begin forwarded message:")},
		{"outlook rule then from", "Reply below\n________________________________\nFrom: Jo Smith <jo@example.org>\nSent: Monday", find("reply_separator_line", 2, "")},
		{"outlook rule flattened", "________________________________ From: Jo Smith", find("reply_separator_line", 1, "")},

		{"original message in prose", "Mum could not find the original message from school so I will ask them to resend it.", nil},
		{"forwarded in prose", "School forwarded message from dad to me; summary: he wants more contact.", nil},
		{"signature line", "Signed: ________________\nDate: ____________", nil},
		{"underscores then prose", "________________________________\nFrom the visit I noted the flat was tidy.", nil},
	})
}

func TestReplyAttribution(t *testing.T) {
	runCases(t, []checkCase{
		{"gmail", "On Mon, 3 Mar 2025 at 10:15, Jo Smith <jo.smith@example.com> wrote:\n> Hi", find("reply_attribution", 1, "On ... wrote:")},
		{"gmail without quote markers", "Thanks\n\nOn Mon, 3 Mar 2025 at 10:15, Jo Smith <jo.smith@example.com> wrote:\nHi Alex", find("reply_attribution", 3, "")},
		{"split over two lines", "On Mon, 3 Mar 2025 at 10:15, Jo Smith <jo.smith@example.com>\nwrote:\n> Hi", find("reply_attribution", 1, "")},
		{"apple", "On 3 Mar 2025, at 10:15, Jo Smith <jo@example.com> wrote:", find("reply_attribution", 1, "")},
		{"no address but quoted", "On 3 March 2025, at 10:15, Jo Smith wrote:\n> Can we move contact\n> to Saturday?", find("reply_attribution", 1, "")},
		{"german schrieb am", "Jo Schmidt <jo@example.de> schrieb am Mo., 3. März 2025, 10:15:", find("reply_attribution", 1, "... :")},
		{"german am", "Am 03.03.2025 um 10:15 schrieb Jo Schmidt <jo@example.de>:", find("reply_attribution", 1, "Am ... :")},
		{"french", "Le lun. 3 mars 2025 à 10:15, Jo Martin <jo@example.fr> a écrit :", find("reply_attribution", 1, "")},
		{"spanish", "El lun, 3 mar 2025 a las 10:15, Jo García (<jo@example.es>) escribió:", find("reply_attribution", 1, "")},

		{"long german line, date late", "Sandra Boyle-Fitzgerald <sandra.boyle@fostering.example.gov.uk> schrieb am Fr., 11. Apr. 2025, 13:05:\n> x", find("reply_attribution", 1, "")},
		{"undated name wrote, quote block", "Jane Cole wrote:\n> Alex, please book the assessment.\n> And update the chronology.\n> Thanks, Jane", find("reply_attribution", 1, "... wrote:")},
		{"digits of an address are not a year", "jo.b2007@example.com wrote:\n> passed my module\n> got a merit", nil},
		{"undated, one quoted line", "Sam wrote:\n> I want to see my dog", nil},
		{"prose wrote", "On Monday mum wrote: she is unhappy with contact.", nil},
		{"prose with date, no quotes", "On 3 March 2025 the school wrote:\nattendance is 82%.", nil},
		{"child quoted once", "On 3 March 2025 Sam wrote in his wishes booklet:\n> I want to live with nan", nil},
	})
}

func TestRawHeaders(t *testing.T) {
	runCases(t, []checkCase{
		{"header dump", "Return-Path: <jo@example.org>\nReceived: from mail.example.org (mail.example.org [192.0.2.1])\n\tby mx.example.gov.uk; Mon, 3 Mar 2025 10:15:00 +0000\nMessage-ID: <abc123@example.org>\nMIME-Version: 1.0",
			find("raw_mail_headers", 1, "Return-Path: ... Received: ... Message-Id:")},
		{"with x headers", "X-MS-Exchange-Organization-SCL: 1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit",
			find("raw_mail_headers", 1, "X-...: ... Content-Type: ... Content-Transfer-Encoding:")},
		{"clinical x-ray", "X-ray: no fracture\nReceived: from A&E at 14:00\nReferences: GP letter", nil},
		{"received in prose", "Received: referral from school 10:15.\nContent: concerns re neglect.", nil},
	})
}

func TestDisclaimer(t *testing.T) {
	signature := "Kind regards\n\nJo Smith\nAttendance Officer\n\n"
	runCases(t, []checkCase{
		{"sign-off and disclaimer", "Email from school:\n\n" + signature + "This email and any files transmitted with it are confidential and intended solely for the use of the individual to whom they are addressed.",
			find("confidentiality_disclaimer", 3, "Kind regards ... this email and any files transmitted with it are confidential")},
		{"two phrases wrapped", "The information contained in this\ne-mail is confidential. If you have received this e-mail in\nerror please notify the sender immediately.",
			find("confidentiality_disclaimer", 1, "")},
		{"contact line", "Jo Smith\nTel: 01632 960 123\nIf you are not the intended recipient you must not use this email.",
			find("confidentiality_disclaimer", 2, "")},
		{"external banner above the message", "CAUTION: This email originated from outside of the organisation.\nHi Alex\nThanks\nJo",
			find("confidentiality_disclaimer", 1, "")},

		{"one phrase in prose", "Mum said the school letter told her to notify the sender immediately if it was wrong.", nil},
		{"sign-off alone", "Visit completed.\nKind regards", nil},
	})
}

func TestMailFooter(t *testing.T) {
	runCases(t, []checkCase{
		{"iphone", "Can we change Saturday?\nJo\n\nSent from my iPhone", find("mail_client_footer", 4, "Sent from my iphone")},
		{"outlook mobile", "ok\n\nGet Outlook for Android", find("mail_client_footer", 3, "")},
		{"prose", "Mum said the texts were sent from my iPhone's old number, which she no longer uses.", nil},
	})
}

func TestWebHeader(t *testing.T) {
	runCases(t, []checkCase{
		{"outlook on the web", "Smith, Jo <Jo.Smith@example.gov.uk>\n\u200b\nMon 03/03/2025 10:15\nTo: Brown, Alex <alex@example.gov.uk>\n\nHi Alex",
			find("web_mail_header", 1, "")},
		{"gmail web", "Jo Smith <jo.smith@example.com>\n10:15 (2 hours ago)\nto me\n\nHi", find("web_mail_header", 1, "")},
		{"address on its own", "Mum's new email: Jo Smith <jo.smith@example.com>\nVisit booked for 10:15 on Monday.", nil},
	})
}

func TestMentionsOfEmailPass(t *testing.T) {
	runCases(t, []checkCase{
		{"emailed school", "Emailed school re attendance, awaiting reply.", nil},
		{"received email", "Received email from mum at 10:15 confirming contact.", nil},
		{"address once", "mum's email is jo.smith@example.com", nil},
		{"quote once", "Sam said:\n> I don't want to go to dad's", nil},
		{"empty", "", nil},
	})
}

func TestLineEndings(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n", "\r"} {
		body := strings.Join([]string{"Visit note", "", "From: Jo Smith", "Sent: 03 March 2025 10:15", "To: Alex", "Subject: x"}, nl)
		f, ok := Check(body)
		if !ok || f.Line != 3 {
			t.Errorf("line ending %q: got %+v, %v; want a finding on line 3", nl, f, ok)
		}
	}
}

func TestEarliestEvidenceWins(t *testing.T) {
	body := "Note\nOn Mon, 3 Mar 2025 at 10:15, Jo <jo@example.com> wrote:\n> x\n-----Original Message-----\n"
	f, ok := Check(body)
	if !ok || f.Line != 2 || f.Rule != "reply_attribution" {
		t.Errorf("got %+v, %v; want reply_attribution on line 2", f, ok)
	}
}

func TestExcerptNeverCopiesContent(t *testing.T) {
	body := "From: Secret Person <secret@example.org>\nSent: 03 March 2025 10:15\nTo: Hidden Name\nSubject: RE: private matter"
	f, ok := Check(body)
	if !ok {
		t.Fatal("missed")
	}
	for _, s := range []string{"Secret", "Hidden", "private", "example"} {
		if strings.Contains(f.Excerpt, s) {
			t.Errorf("excerpt %q copies %q from the body", f.Excerpt, s)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", "From: a\nSent: 03 March 2025 10:15\nTo: b", "-----Original Message-----",
		"On Mon, 3 Mar 2025 at 10:15, Jo <jo@example.com> wrote:\n> x", "Received: from x\nMessage-ID: <a@b>\nMIME-Version: 1.0",
		"Kind regards\nIf you have received this email in error", "De\u00a0: x\r\nEnvoy\u00e9\u00a0: 2025 10:15\r\n\u00c0 : y",
		"\xff\xfe:\u00a0\u202f>*:", "________________________________ From: x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := Check(body)
		if !ok {
			if got != (Finding{}) {
				t.Fatalf("no finding but non-zero Finding %+v", got)
			}
			return
		}
		lines := strings.Count(body, "\n") + strings.Count(body, "\r") + 1
		if got.Rule == "" || got.Line < 1 || got.Line > lines {
			t.Fatalf("bad finding %+v for a body of %d lines", got, lines)
		}
		if !utf8.ValidString(got.Excerpt) || utf8.RuneCountInString(got.Excerpt) > maxExcerpt {
			t.Fatalf("bad excerpt %q", got.Excerpt)
		}
	})
}
