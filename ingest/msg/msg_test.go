package msg

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// att summarises one attachment: filename, content type, content ID,
// inline, data size, and whether an embedded message was parsed.
type att struct {
	Filename, ContentType, ContentID string
	Inline                           bool
	Size                             int
	Embedded                         bool
}

func summarise(atts []Attachment) []att {
	var out []att
	for _, a := range atts {
		out = append(out, att{a.Filename, a.ContentType, a.ContentID, a.Inline, len(a.Data), a.Message != nil})
	}
	return out
}

func parseFile(t testing.TB, name string) (*Message, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	c := &countingReaderAt{r: f}
	m, err := Parse(c, st.Size())
	// Cheap whatever the file claims: Parse reads each sector about once
	// (the directory twice), so what it reads is bounded by the file's size,
	// not by the sizes and counts written inside it. This stands in for a
	// time limit, which would flake on a loaded machine.
	if limit := 2*st.Size() + budgetSlack; c.n > limit {
		t.Errorf("%s: Parse read %d bytes of a %d-byte file, over %d", name, c.n, st.Size(), limit)
	}
	return m, err
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestCorpus parses every file copied from Apache POI's test-data/hsmf. The
// expected values were read off the files and checked against POI's own
// tests (TestBasics, TestFileWithAttachmentsRead, TestOutlookTextExtractor,
// TestFixedSizedProperties, Test7BitCodepage and others). Dates are
// PidTagClientSubmitTime, which for quick.msg is two seconds before the
// submission ID time POI reports.
func TestCorpus(t *testing.T) {
	tests := []struct {
		file                 string
		err                  bool
		class, subject, date string
		from, firstTo        Address
		to, cc, bcc          int
		body                 string // prefix
		html                 string // substring
		headers              bool
		warnings             []string
		attachments          []att
	}{
		{file: "51873.msg", class: "IPM.Note", subject: "Test with Olk10SideProps_ Chunk",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"bubba@bubbasmith.com", "bubba@bubbasmith.com"},
			body: "This is a hacked Outlook 2010 ",
		},
		{file: "53784_fails.msg", class: "IPM.Note", subject: "Draft to La Tetra",
			from: Address{"PA History Mailbox", ""}, date: "2012-06-21T14:14:04.1398774Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Garrett, Amy C (PACE)", "garrettac@state.gov"},
			body: "Amy,\r\n\r\n \r\n\r\nLet me know what ", html: "<html xmlns:v=\"urn:schemas-mic",
		},
		{file: "53784_succeeds.msg", class: "IPM.Note", subject: "HAC Annual Report",
			from: Address{"Ashley, Carl E (PACE)", "AshleyCE2@state.gov"}, date: "2012-06-22T18:32:54Z",
			to: 1, cc: 1, bcc: 0, firstTo: Address{"'saftergood@fas.org'", "saftergood@fas.org"},
			body: "Mr. Aftergood,\r\n\r\n \r\n\r\nIn resp", html: "<html xmlns:v=\"urn:schemas-mic", headers: true,
		},
		{file: "58214_extracted_attachment.msg", class: "IPM.Note", subject: "Test mail attachment",
			from: Address{"Bertrand Beyssac", "bertrand.beyssac@c6.eu"}, date: "2015-08-05T12:01:48Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Bertrand Beyssac", "bertrand.beyssac@c6.eu"},
			body: "Lorem ipsum dolor sit amet, co", headers: true,
		},
		{file: "58214_with_attachment.msg", class: "IPM.Note", subject: "Master mail",
			from: Address{"Bertrand Beyssac", "bertrand.beyssac@c6.eu"}, date: "2015-08-05T12:02:22Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Bertrand Beyssac", "bertrand.beyssac@c6.eu"},
			body: "Vestibulum orci purus, malesua", headers: true,
			attachments: []att{
				{"Untitled Attachment", "application/vnd.ms-outlook", "", false, 0, true},
			},
		},
		{file: "ASCII_CP1251_LCID1049.msg", class: "IPM.Note", subject: "Subject автоматически Subject",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 0, cc: 0, bcc: 0,
			body: "Body автоматически Body", html: "<body>HTML автоматически</body>",
		},
		{file: "ASCII_UTF-8_CP1252_LCID1031.msg", class: "IPM.Note", subject: "Subject öäü Subject",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 0, cc: 0, bcc: 0,
			body: "Body öäü Body",
		},
		{file: "ASCII_UTF-8_CP1252_LCID1031_HTML.msg", class: "IPM.Note", subject: "Subject öäü Subject",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 0, cc: 0, bcc: 0,
			body: "Body öäü Body", html: "<body>HTML öäü</body>",
		},
		{file: "HTMLBodyBinary_CP1251.msg", class: "IPM.Note", subject: "Subject öäü Subject",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 0, cc: 0, bcc: 0,
			body: "", html: "<body>HTML автоматически</body>",
		},
		{file: "HTMLBodyBinary_UTF-8.msg", class: "IPM.Note", subject: "Subject öäü Subject",
			from: Address{"", ""}, date: "0001-01-01T00:00:00Z",
			to: 0, cc: 0, bcc: 0,
			body: "", html: "<body>HTML öäü</body>",
		},
		{file: "attachment_msg_inlineImg.msg", class: "IPM.Note", subject: "How to use and check database files from device",
			from: Address{"Angela Deng", ""}, date: "2015-06-12T19:44:48.7367818Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Tracy Yin", "tyin@blackberry.com"},
			body: " \r\n\r\n1.       Download and ins", html: "<html xmlns:v=\"urn:schemas-mic",
			attachments: []att{
				{"image001.png", "image/png", "image001.png@01D0A524.96D40F30", true, 25862, false},
				{"image002.png", "image/png", "image002.png@01D0A524.96D40F30", true, 2924, false},
				{"image003.png", "image/png", "image003.png@01D0A526.B4C739C0", true, 18852, false},
				{"image006.jpg", "image/jpeg", "image006.jpg@01D0A526.B649E220", true, 29374, false},
			},
		},
		{file: "attachment_msg_pdf.msg", class: "IPM.Note", subject: "test email",
			from: Address{"Nick Booth", "nick.booth@pof.com.au"}, date: "2010-06-17T23:54:19Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Nick Booth", "nick.booth@pof.com.au"},
			body: "Test email with 1 msg attachme", headers: true,
			attachments: []att{
				{"Test Attachment", "application/vnd.ms-outlook", "", false, 0, true},
				{"smbprn.00009008.KdcPjl.pdf", "application/pdf", "", false, 13539, false},
			},
		},
		{file: "attachment_test_msg.msg", class: "IPM.Note", subject: "test pièce jointe 1",
			from: Address{"Nicolas1 23456", "nicolas1.23456@free.fr"}, date: "2009-04-22T14:36:33.734375Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"'nicolas1.23456@free.fr'", "nicolas1.23456@free.fr"},
			body: "contenu\r\n\r\n",
			attachments: []att{
				{"test-unicode.doc", "application/msword", "", false, 24064, false},
				{"pj1.txt", "text/plain", "", false, 89, false},
			},
		},
		{file: "blank.msg", class: "IPM.Note", subject: "",
			from: Address{"", ""}, date: "2007-07-03T16:34:38.736Z",
			to: 0, cc: 0, bcc: 0,
			body: "",
		},
		{file: "bug66335.msg", class: "IPM.Note", subject: "Deine Bestellbestätigung vom 13-09-2018",
			from: Address{"Udemy", "udemy@email.udemy.com"}, date: "2018-09-13T14:25:24Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Simon Wagner", "swagner@faw.at"},
			body: "[https://email.udemy.com/pub/a", html: "<!DOCTYPE html PUBLIC \"-//W3C/", headers: true,
		},
		{file: "chinese-traditional.msg", class: "IPM.Note", subject: "Alfresco MSG format testing ( MSG 格式測試 )",
			from: Address{"Tests Chang@FT (張毓倫)", ""}, date: "2011-03-29T08:52:48.72526Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Tests Chang@FT (張毓倫)", "tests.chang@fengttt.com"},
			body: "Alfresco MSG format testing ( MSG 格式測試 ) 中文測試", html: "charset=big5",
		},
		{file: "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4735011465854976.msg", err: true},
		{file: "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4848576776503296.msg", class: "IPM.Post", subject: "QuickBrownFox",
			from: Address{"Allison, Timothy B.", ""}, date: "2017-02-28T18:47:11.709Z",
			to: 0, cc: 0, bcc: 0,
			body: "Is going to jump over the lazy",
		},
		{file: "clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg", err: true},
		{file: "cyrillic_message.msg", class: "IPM.Note", subject: "Автоматический ответ подсистемы обмена данными ФГУП \"Почта России\".",
			from: Address{"no-reply@niips.ru", "no-reply@niips.ru"}, date: "2010-05-18T07:38:39Z",
			to: 1, cc: 1, bcc: 0, firstTo: Address{"Свиридов Дмитрий Владимирович", "sviridov@niips.ru"},
			body: "Ваше сообщение с", headers: true,
		},
		{file: "example_received_regular.msg", class: "IPM.Note", subject: "This is a test message please ignore",
			from: Address{"Mike Farman", "mike.farman@alfresco.com"}, date: "2010-01-11T16:25:07Z",
			to: 3, cc: 3, bcc: 0, firstTo: Address{"'Ashutosh Dandavate'", "ashutosh.dandavate@alfresco.com"},
			body: "..less you are Nick.....\r\n \r\nT", headers: true,
			attachments: []att{
				{"alfresco.gif", "image/gif", "716052216@11012010-3410", false, 16174, false},
			},
		},
		{file: "example_received_unicode.msg", class: "IPM.Note", subject: "This is a test message please ignore",
			from: Address{"Mike Farman", "mike.farman@alfresco.com"}, date: "2010-01-11T16:25:07Z",
			to: 3, cc: 3, bcc: 0, firstTo: Address{"'Ashutosh Dandavate'", "ashutosh.dandavate@alfresco.com"},
			body: "..less you are Nick.....\r\n \r\nT", headers: true,
			attachments: []att{
				{"alfresco.gif", "image/gif", "716052216@11012010-3410", false, 16174, false},
			},
		},
		{file: "example_sent_regular.msg", class: "IPM.Note", subject: "This is a test message please ignore",
			from: Address{"Mike Farman", "mike.farman@alfresco.com"}, date: "2010-01-11T16:25:07.123Z",
			to: 3, cc: 3, bcc: 2, firstTo: Address{"'Ashutosh Dandavate'", "ashutosh.dandavate@alfresco.com"},
			body: "..less you are Nick.....\r\n \r\nT",
			attachments: []att{
				{"alfresco.gif", "image/gif", "716052216@11012010-3410", true, 16174, false},
			},
		},
		{file: "example_sent_unicode.msg", class: "IPM.Note", subject: "This is a test message please ignore",
			from: Address{"Mike Farman", "mike.farman@alfresco.com"}, date: "2010-01-11T16:25:07.123Z",
			to: 3, cc: 3, bcc: 2, firstTo: Address{"'Ashutosh Dandavate'", "ashutosh.dandavate@alfresco.com"},
			body: "..less you are Nick.....\r\n \r\nT",
			attachments: []att{
				{"alfresco.gif", "image/gif", "716052216@11012010-3410", true, 16174, false},
			},
		},
		{file: "keywords.msg", class: "IPM.Note", subject: "Test Keywords",
			from: Address{"", ""}, date: "2020-02-20T13:08:55.038Z",
			to: 0, cc: 0, bcc: 0,
			body: " \r\n",
		},
		{file: "logsat.com_signatures_valid.msg", class: "IPM.Note.SMIME.MultipartSigned", subject: "test",
			from: Address{"Roberto Franceschetti", "roberto@logsat.com"}, date: "2005-11-05T02:16:00Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"support@LogSat.com", "support@LogSat.com"},
			body: "This is a valid digitally sign", headers: true,
			attachments: []att{
				{"attachment-1", "multipart/signed", "", false, 6096, false},
			},
		},
		{file: "lots-of-recipients.msg", class: "IPM.Note", subject: "Read Original Extract of Mr. Narayana Murthy's Speech during Mentor session",
			from: Address{"vishwajit Mankar", "vishu_mankar@yahoo.com"}, date: "0001-01-01T00:00:00Z",
			to: 1321, cc: 0, bcc: 0, firstTo: Address{"Niranjan Salian", "niranjansalian@yahoo.com"},
			body: "  \n\n\nVishwajit Mankar\nSoftware", headers: true,
			attachments: []att{
				{"Fwd_ Read Original Extract of Mr. Narayana Murthy's Speech during Mentor session.eml", "message/rfc822", "", false, 7813, false},
			},
		},
		{file: "message_1979.msg", class: "IPM.Note.EnterpriseVault.Shortcut", subject: "Option 2 please",
			from: Address{"alec milton", ""}, date: "1999-08-16T11:23:16.778Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"George Maurey", "George_Maurey@inso.com"},
			body: "This message has been archived", headers: true,
		},
		{file: "message_1980.msg", class: "IPM.Note.EnterpriseVault.Shortcut", subject: "Option 2 please",
			from: Address{"alec milton", ""}, date: "1999-08-16T11:23:16.778Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"George Maurey", "George_Maurey@inso.com"},
			body: "This message has been archived", headers: true,
		},
		{file: "message_1981.msg", class: "IPM.Note.EnterpriseVault.Shortcut", subject: "Option 2 please",
			from: Address{"alec milton", ""}, date: "1999-08-16T11:23:16.778Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"George Maurey", "George_Maurey@inso.com"},
			body: "This message has been archived", headers: true,
		},
		{file: "message_extra_hyphen_submission_chunk.msg", class: "IPM.Note", subject: "Reseller Irradiant - MM Build",
			from: Address{"Amanda Bloomfield", ""}, date: "2007-05-31T16:06:38.6434219Z",
			to: 2, cc: 0, bcc: 0, firstTo: Address{"Juan Herrero", "juan.herrero@arup.com"},
			body: "Please complete build of 100 x", html: "<!DOCTYPE HTML PUBLIC \"-//W3C/",
		},
		{file: "message_normal_submission_chunk.msg", class: "IPM.Note", subject: "Reseller Irradiant - MM Build",
			from: Address{"Amanda Bloomfield", ""}, date: "2007-05-31T16:06:38.6434219Z",
			to: 2, cc: 0, bcc: 0, firstTo: Address{"Juan Herrero", "juan.herrero@arup.com"},
			body: "Please complete build of 100 x", html: "<!DOCTYPE HTML PUBLIC \"-//W3C/",
		},
		{file: "msgClassAppointment.msg", class: "IPM.Appointment", subject: "Quick brown fox",
			from: Address{"Allison, Timothy B.", ""}, date: "2017-02-28T18:42:23.957Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Allison, Timothy B.", "tallison@mitre.org"},
			body: "This is a meeting to discuss j",
		},
		{file: "msgClassContact.msg", class: "IPM.Contact", subject: "Quick Brown Fox Jr",
			from: Address{"Allison, Timothy B.", ""}, date: "2017-02-28T18:41:37.202Z",
			to: 0, cc: 0, bcc: 0,
			body: "This was one quick brown fox. ",
		},
		{file: "msgClassPost.msg", class: "IPM.Post", subject: "QuickBrownFox",
			from: Address{"Allison, Timothy B.", ""}, date: "2017-02-28T18:47:11.709Z",
			to: 0, cc: 0, bcc: 0,
			body: "Is going to jump over the lazy",
		},
		{file: "msgClassStickyNote.msg", class: "IPM.StickyNote", subject: "This is a note about the quick brown fox",
			from: Address{"", ""}, date: "2017-02-28T18:44:43.569Z",
			to: 0, cc: 0, bcc: 0,
			body: "This is a note about the quick",
		},
		{file: "msgClassTask.msg", class: "IPM.Task", subject: "Must jump over the lazy dog",
			from: Address{"Allison, Timothy B.", ""}, date: "2017-02-28T18:44:00.797Z",
			to: 0, cc: 0, bcc: 0,
			body: "Quick brown fox must do what h",
		},
		{file: "no_recipient_address.msg", class: "IPM.Note", subject: "Welcome to Microsoft Office Outlook 2003",
			from: Address{"Microsoft Outlook 2003 Team", "olteam@microsoft.com"}, date: "2010-03-28T22:27:38.093Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"New Outlook User", ""},
			body: " \tThank you for using Microsof",
			attachments: []att{
				{"1.jpg", "image/jpeg", "", true, 1969, false},
				{"2.jpg", "image/jpeg", "", true, 1889, false},
				{"3.jpg", "image/jpeg", "", true, 2088, false},
				{"4.jpg", "image/jpeg", "", true, 1934, false},
				{"5.jpg", "image/jpeg", "", true, 2285, false},
				{"6.jpg", "image/jpeg", "", true, 2136, false},
				{"7.jpg", "image/jpeg", "", true, 1964, false},
				{"8.jpg", "image/jpeg", "", true, 1906, false},
				{"9.jpg", "image/jpeg", "", true, 1764, false},
				{"10.jpg", "image/jpeg", "", true, 1951, false},
				{"12.jpg", "image/jpeg", "", true, 1985, false},
			},
		},
		{file: "outlook_30_msg.msg", class: "IPM.Note", subject: "IN-SPIRE servers going down for a bit, back up around 8am",
			from: Address{"Cramer, Nick", "nick.cramer@pnl.gov"}, date: "2008-09-12T14:28:29.368Z",
			to: 18, cc: 0, bcc: 0, firstTo: Address{"Bohn, Shawn J", "shawn.bohn@pnl.gov"},
			body: "I am shutting down the IN-SPIRE servers now for 30ish minutes.\r\n\r\n",
			html: "<P DIR=LTR><SPAN LANG=\"en-us\"><FONT FACE=\"Calibri\">I am shutting down the IN-SPIRE servers now for 30ish minutes.</FONT></SPAN></P>", headers: true,
		},
		{file: "quick.msg", class: "IPM.Note", subject: "Test the content transformer",
			from: Address{"Kevin Roast", ""}, date: "2007-06-14T09:42:53.5Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"Kevin Roast", "kevin.roast@alfresco.org"},
			body: "The quick brown fox jumps over the lazy dog\r\n",
		},
		{file: "simple_test_msg.msg", class: "IPM.Note", subject: "test message",
			from: Address{"Travis Ferguson", "travis@overwrittenstack.com"}, date: "2007-07-06T05:27:17Z",
			to: 1, cc: 0, bcc: 0, firstTo: Address{"travis@overwrittenstack.com", "travis@overwrittenstack.com"},
			body: "This is a test message.", headers: true,
		},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			m, err := parseFile(t, tt.file)
			if tt.err {
				if err == nil || !errors.Is(err, ErrNotMSG) || m != nil {
					t.Fatalf("Parse = %v, %v; want an ErrNotMSG error", m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []any{m.MessageClass, m.Subject, m.From, m.Date.Format(time.RFC3339Nano), len(m.To), len(m.Cc), len(m.Bcc), m.Headers != ""}
			want := []any{tt.class, tt.subject, tt.from, tt.date, tt.to, tt.cc, tt.bcc, tt.headers}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("class, subject, from, date, #to, #cc, #bcc, headers (-want +got):\n%s", diff)
			}
			if len(m.To) > 0 && m.To[0] != tt.firstTo {
				t.Errorf("first To = %q, want %q", m.To[0], tt.firstTo)
			}
			if !strings.HasPrefix(m.Body, tt.body) {
				t.Errorf("body starts %.60q, want %q", m.Body, tt.body)
			}
			if !strings.Contains(m.HTMLBody, tt.html) {
				t.Errorf("HTML body %.200q lacks %q", m.HTMLBody, tt.html)
			}
			if diff := cmp.Diff(tt.attachments, summarise(m.Attachments)); diff != "" {
				t.Errorf("attachments (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, m.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".msg") && !seen[e.Name()] {
			t.Errorf("testdata/%s has no case in TestCorpus", e.Name())
		}
	}
}

// TestEmbedded checks that an embedded message parses to the same result
// as the same message saved on its own (POI's 58214 pair), and the details
// POI's TestExtractEmbeddedMSG asserts.
func TestEmbedded(t *testing.T) {
	outer, err := parseFile(t, "58214_with_attachment.msg")
	if err != nil {
		t.Fatal(err)
	}
	alone, err := parseFile(t, "58214_extracted_attachment.msg")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(alone, outer.Attachments[0].Message); diff != "" {
		t.Errorf("embedded message differs from the extracted file (-file +embedded):\n%s", diff)
	}

	m, err := parseFile(t, "attachment_msg_pdf.msg")
	if err != nil {
		t.Fatal(err)
	}
	e := m.Attachments[0].Message
	if e == nil {
		t.Fatal("no embedded message")
	}
	want := []any{"Test Attachment", []Address{{"Nick Booth", "nick.booth@pof.com.au"}}, time.Date(2010, 6, 17, 23, 52, 19, 0, time.UTC), "Blah blah blah\r\n\r\n"}
	if diff := cmp.Diff(want, []any{e.Subject, e.To, e.Date, e.Body}); diff != "" {
		t.Errorf("embedded message (-want +got):\n%s", diff)
	}
	if m.Attachments[0].Data != nil {
		t.Error("embedded message attachment has Data")
	}
}

// TestRecipients checks full recipient lists against POI's
// TestOutlookTextExtractor.
func TestRecipients(t *testing.T) {
	m, err := parseFile(t, "example_sent_regular.msg")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Address{
		{{"'Ashutosh Dandavate'", "ashutosh.dandavate@alfresco.com"}, {"'Paul Holmes-Higgin'", "paul.hh@alfresco.com"}, {"'Mike Farman'", "mikef@alfresco.com"}},
		{{"'nickb@alfresco.com'", "nickb@alfresco.com"}, {"'nick.burch@alfresco.com'", "nick.burch@alfresco.com"}, {"'Roy Wetherall'", "roy.wetherall@alfresco.com"}},
		{{"'David Caruana'", "dave.caruana@alfresco.com"}, {"'Vonka Jan'", "jan.vonka@alfresco.com"}},
	}
	if diff := cmp.Diff(want, [][]Address{m.To, m.Cc, m.Bcc}); diff != "" {
		t.Errorf("To, Cc, Bcc (-want +got):\n%s", diff)
	}

	m, err = parseFile(t, "cyrillic_message.msg")
	if err != nil {
		t.Fatal(err)
	}
	name := "Свиридов Дмитрий Владимирович"
	if diff := cmp.Diff([][]Address{{{name, "sviridov@niips.ru"}}, {{name, "sviridov@niips.ru"}}}, [][]Address{m.To, m.Cc}); diff != "" {
		t.Errorf("To, Cc (-want +got):\n%s", diff)
	}

	m, err = parseFile(t, "outlook_30_msg.msg")
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, a := range m.To {
		emails = append(emails, a.Email)
	}
	if got := strings.Join(emails, "; "); got != "shawn.bohn@pnl.gov; gus.calapristi@pnl.gov; Richard.Carter@pnl.gov; "+
		"barb.cheney@pnl.gov; nick.cramer@pnl.gov; vern.crow@pnl.gov; Laura.Curtis@pnl.gov; "+
		"julie.dunkle@pnl.gov; david.gillen@pnl.gov; michelle@pnl.gov; Jereme.Haack@pnl.gov; "+
		"Michelle.Hart@pnl.gov; ranata.johnson@pnl.gov; grant.nakamura@pnl.gov; "+
		"debbie.payne@pnl.gov; stuart.rose@pnl.gov; randall.scarberry@pnl.gov; Leigh.Williams@pnl.gov" {
		t.Errorf("outlook_30 To = %s", got)
	}
}

// TestAttachmentData checks attachment bytes beyond their size: the Word
// document in attachment_test_msg.msg is itself a compound file, and the
// text file (UTF-8) has its known content.
func TestAttachmentData(t *testing.T) {
	m, err := parseFile(t, "attachment_test_msg.msg")
	if err != nil {
		t.Fatal(err)
	}
	if doc := m.Attachments[0].Data; !IsMSG(doc) {
		t.Errorf("test-unicode.doc starts %x, want the compound file signature", doc[:8])
	}
	want := "école (00E9)\r\n \r\neuro : € (20AC)\r\nchinois : 줥 (C925)\r\ncopyright : © (00A9)\r\n \r\n\r\n\r\n"
	if txt := string(m.Attachments[1].Data); txt != want {
		t.Errorf("pj1.txt = %q, want %q", txt, want)
	}
}

// TestNotMSG checks the only inputs Parse rejects.
func TestNotMSG(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":      nil,
		"short":      signature,
		"pdf":        append([]byte("%PDF-1.4\n"), make([]byte, 1024)...),
		"bad header": append(append([]byte(nil), signature...), make([]byte, 1024)...),
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, ErrNotMSG) || m != nil {
				t.Errorf("Parse = %v, %v; want ErrNotMSG", m, err)
			}
		})
	}
}

// TestTruncated cuts real files short at many points: Parse must neither
// panic nor fail on a file whose header survives, only lose content.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"quick.msg", "attachment_msg_pdf.msg", "chinese-traditional.msg"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n += 509 {
			m, err := Parse(bytes.NewReader(data[:n]), int64(n))
			if err != nil && m != nil {
				t.Fatalf("%s[:%d]: message and error", name, n)
			}
		}
	}
}

// TestHostileCorpus checks that the fuzzer-made files from POI are handled
// cheaply: parseFile bounds the bytes read, and the allocations are bounded
// here (no wall-clock limit: it would flake under -race on a busy machine).
func TestHostileCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/clusterfuzz-*.msg")
	if len(files) != 3 {
		t.Fatalf("found %d clusterfuzz files", len(files))
	}
	for _, name := range files {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 10 {
			parseFile(t, filepath.Base(name))
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("%s: 10 parses allocated %d bytes", name, n)
		}
	}
}

func TestIsMSG(t *testing.T) {
	if !IsMSG(signature) || IsMSG(signature[:7]) || IsMSG([]byte("%PDF-1.4")) {
		t.Error("IsMSG wrong")
	}
}
