package msg

import (
	"bytes"
	"fmt"
	"github.com/council/casefile/ingest/internal/mapi"
	"strings"
	"unicode/utf8"
)

// parser holds the limits shared by a file and the messages embedded in it.
type parser struct {
	size        int64 // file size: no stream can be larger
	budget      int64 // bytes that may still be read from streams
	attachments int   // attachments kept so far, at every depth
	inMemory    int64 // attachment bytes held in memory so far
	warnings    int
	dropped     int
}

func (p *parser) warn(m *Message, format string, args ...any) {
	if p.warnings >= maxWarnings {
		p.dropped++
		return
	}
	p.warnings++
	m.Warnings = append(m.Warnings, fmt.Sprintf(format, args...))
}

// capText cuts a text field to MaxTextBytes (at a character boundary),
// with a warning: subjects, names and identifiers are shown in lists and
// titles, and a sender can make them any length.
func (p *parser) capText(m *Message, what string, v *string) {
	if len(*v) <= MaxTextBytes {
		return
	}
	n := MaxTextBytes
	for n > 0 && !utf8.RuneStart((*v)[n]) {
		n--
	}
	p.warn(m, "%s of %d bytes cut to its first %d", what, len(*v), n)
	*v = (*v)[:n]
}

// Attachment methods (PidTagAttachMethod).
const (
	attachByValue     = 1
	attachEmbeddedMsg = 5
	attachOLE         = 6
)

// Recipient types (PidTagRecipientType); the high bits carry flags.
const (
	recipTo  = 1
	recipCc  = 2
	recipBcc = 3
)

// attachFlagMHTMLRef is ATT_MHTML_REF in PidTagAttachFlags: the attachment
// is referenced from the HTML body.
const attachFlagMHTMLRef = 4

// message builds a Message from a message storage: the root of the file at
// depth 0, an embedded message's storage below it.
func (p *parser) message(n *node, depth int) *Message {
	m := &Message{}
	headerLen := propsHeaderTop
	if depth > 0 {
		headerLen = propsHeaderEmbedded
	}
	s := p.newStore(n, headerLen, m, "")
	if !s.found && len(s.streams) == 0 {
		p.warn(m, "no message properties found")
	}
	s.cp = p.codePage(s)

	m.MessageClass = s.str(pidTagMessageClass)
	m.Subject = s.str(pidTagSubject)
	if m.Subject == "" && !s.has(pidTagSubject) {
		m.Subject = s.str(pidTagSubjectPrefix) + s.str(pidTagNormalizedSubject)
	}
	m.MessageID = strings.TrimSpace(s.str(pidTagInternetMessageID))
	m.InReplyTo = strings.TrimSpace(s.str(pidTagInReplyToID))
	m.Headers = s.str(pidTagTransportMessageHeaders)
	m.Body = s.str(pidTagBody)
	m.HTMLBody = p.html(s)

	m.Date = s.time(pidTagClientSubmitTime)
	if m.Date.IsZero() {
		m.Date = s.time(pidTagMessageDeliveryTime)
	}
	// The transport headers fill gaps; the properties, when present, are
	// what Outlook showed.
	hdr := parseHeaders(m.Headers)
	if m.Date.IsZero() && hdr != nil {
		if t, err := hdr.Date(); err == nil {
			m.Date = t.UTC()
		}
	}
	if m.MessageID == "" {
		m.MessageID = hdr.get("Message-Id")
	}
	if m.InReplyTo == "" {
		m.InReplyTo = hdr.get("In-Reply-To")
	}
	m.From = sender(s, hdr)
	p.capText(m, "subject", &m.Subject)
	p.capText(m, "message class", &m.MessageClass)
	p.capText(m, "message ID", &m.MessageID)
	p.capText(m, "in-reply-to", &m.InReplyTo)
	p.capText(m, "sender name", &m.From.Name)
	p.capText(m, "sender address", &m.From.Email)

	dropping := false
	for _, k := range sortedKids(n) {
		name := k.key()
		switch {
		case strings.HasPrefix(name, recipPrefix) && k.dir:
			p.recipient(m, k, s.cp)
		case strings.HasPrefix(name, attachPrefix) && k.dir && !dropping:
			if p.attachments >= MaxAttachments {
				p.warn(m, "more than %d attachments; %s and later ones dropped", MaxAttachments, k.name)
				dropping = true
				continue
			}
			p.attachments++
			m.Attachments = append(m.Attachments, p.attachment(m, k, s.cp, depth, len(m.Attachments)+1))
		}
	}
	return m
}

// codePage decides how to read a message's PT_STRING8 properties.
// PidTagMessageCodepage says so by definition. Without it, the locale's
// ANSI code page is the best guess, since 8-bit strings are written in the
// writing client's code page: HTMLBodyBinary_CP1251.msg has a German locale,
// Windows-1252 strings and an Internet code page of 1251 that applies to its
// HTML only. The Internet code page and charsets declared in the headers or
// the HTML follow (POI guesses the same way), and Outlook's Western default
// comes last.
func (p *parser) codePage(s *store) uint32 {
	if cp, ok := s.long(pidTagMessageCodepage); ok && usableCodePage(cp) {
		return cp
	}
	if lcid, ok := s.long(pidTagMessageLocaleID); ok {
		if cp := lcidCodePage(lcid); cp != 0 {
			return cp
		}
	}
	if cp, ok := s.long(pidTagInternetCodepage); ok && usableCodePage(cp) {
		return cp
	}
	for _, id := range []uint16{pidTagTransportMessageHeaders, pidTagHTML} {
		for _, typ := range []uint16{ptString8, ptBinary} {
			if b, ok := s.stream(id, typ); ok {
				if cp := codePageByLabel(charsetParam(b)); usableCodePage(cp) {
					return cp
				}
			}
		}
	}
	return 1252
}

// usableCodePage rejects code pages that cannot describe 8-bit strings.
func usableCodePage(cp uint32) bool {
	if cp == 1200 || cp == 1201 {
		return false // UTF-16 is never the encoding of PT_STRING8
	}
	_, ok := mapi.CodePages[cp]
	return ok || cp == 65001 || cp == 20127
}

// html returns the HTML body. PidTagHtml is usually binary (sometimes an
// 8-bit string) in the code page PidTagInternetCodepage names, which wins
// over a contradicting <meta> (HTMLBodyBinary_CP1251.msg), else in the
// charset the HTML declares, else in the message's code page.
func (p *parser) html(s *store) string {
	if b, ok := s.stream(pidTagHTML, ptUnicode); ok {
		return mapi.DecodeUTF16(b)
	}
	b, ok := s.stream(pidTagHTML, ptBinary)
	if !ok {
		if b, ok = s.stream(pidTagHTML, ptString8); !ok {
			return ""
		}
	}
	cp, ok := s.long(pidTagInternetCodepage)
	if !ok || !usableCodePage(cp) {
		cp = codePageByLabel(charsetParam(b))
		if !usableCodePage(cp) {
			cp = s.cp
		}
	}
	return mapi.DecodeCodePage(bytes.TrimRight(b, "\x00"), cp)
}

// sender finds the From address. Exchange senders carry an X.500 address in
// PidTagSenderEmailAddress, so it is used only when its type is SMTP; the
// transport headers' From line is the last resort.
func sender(s *store, hdr headers) Address {
	a := Address{Name: s.str(pidTagSenderName)}
	if a.Name == "" {
		a.Name = s.str(pidTagSentRepresentingName)
	}
	a.Email = firstSMTP(
		s.str(pidTagSenderSMTPAddress),
		smtpIf(s.str(pidTagSenderAddressType), s.str(pidTagSenderEmailAddress)),
		s.str(pidTagSentRepresentingSMTPAddress),
		smtpIf(s.str(pidTagSentRepresentingAddressType), s.str(pidTagSentRepresentingEmail)),
	)
	if a.Email == "" || a.Name == "" {
		if h := hdr.from(); h != nil {
			if a.Email == "" {
				a.Email = h.Address
			}
			if a.Name == "" {
				a.Name = h.Name
			}
		}
	}
	return a
}

// smtpIf returns addr if its address type is SMTP, or if no type is given
// and it looks like an Internet address.
func smtpIf(typ, addr string) string {
	typ = strings.TrimSpace(typ)
	if strings.EqualFold(typ, "SMTP") || (typ == "" && strings.Contains(addr, "@")) {
		return addr
	}
	return ""
}

func firstSMTP(addrs ...string) string {
	for _, a := range addrs {
		if a = strings.TrimSpace(a); a != "" {
			return a
		}
	}
	return ""
}

func (p *parser) recipient(m *Message, n *node, cp uint32) {
	s := p.newStore(n, propsHeaderChild, m, "recipient ")
	s.where2 = n.name[len(recipPrefix):]
	s.cp = cp
	a := Address{Name: s.str(pidTagDisplayName)}
	if a.Name == "" {
		a.Name = s.str(pidTagRecipientDisplayName)
	}
	if a.Name == "" {
		a.Name = s.str(pidTagTransmittableDisplayName)
	}
	a.Email = firstSMTP(
		s.str(pidTagSMTPAddress),
		smtpIf(s.str(pidTagAddressType), s.str(pidTagEmailAddress)),
	)
	p.capText(m, "recipient name", &a.Name)
	p.capText(m, "recipient address", &a.Email)
	typ, ok := s.long(pidTagRecipientType)
	switch typ & 0xF {
	case recipCc:
		m.Cc = append(m.Cc, a)
	case recipBcc:
		m.Bcc = append(m.Bcc, a)
	default:
		if !ok || typ&0xF != recipTo {
			s.warn("recipient type %d; taken as To", typ)
		}
		m.To = append(m.To, a)
	}
}

func (p *parser) attachment(m *Message, n *node, cp uint32, depth, num int) Attachment {
	s := p.newStore(n, propsHeaderChild, m, fmt.Sprintf("attachment %d", num))
	s.cp = cp
	a := Attachment{
		Filename:    mapi.CleanName(s.str(pidTagAttachLongFilename)),
		ContentType: strings.TrimSpace(s.str(pidTagAttachMimeTag)),
		ContentID:   strings.Trim(strings.TrimSpace(s.str(pidTagAttachContentID)), "<>"),
	}
	if a.Filename == "" {
		a.Filename = mapi.CleanName(s.str(pidTagAttachFilename))
	}
	if a.Filename == "" {
		a.Filename = mapi.CleanName(s.str(pidTagDisplayName))
	}
	if a.Filename == "" {
		a.Filename = fmt.Sprintf(generatedName, num)
	}
	p.capText(m, "attachment content type", &a.ContentType)
	p.capText(m, "attachment content ID", &a.ContentID)
	method, _ := s.long(pidTagAttachMethod)
	flags, _ := s.long(pidTagAttachFlags)
	a.Inline = s.boolean(pidTagAttachmentHidden) || flags&attachFlagMHTMLRef != 0 ||
		(a.ContentID != "" && strings.Contains(m.HTMLBody, "cid:"+a.ContentID))

	obj := s.objects[tag(pidTagAttachDataBinary, ptObject)]
	switch {
	case obj != nil && (method == attachEmbeddedMsg || method == 0 && isMessageStorage(obj)):
		if depth+1 > MaxDepth {
			s.warn("embedded message nested deeper than %d levels; not parsed", MaxDepth)
			break
		}
		a.Message = p.message(obj, depth+1)
		if a.ContentType == "" {
			a.ContentType = mimeOutlookMsg
		}
	case obj != nil:
		// PR_ATTACH_METHOD 6: an OLE object (an embedded document or
		// picture) stored as a compound-file storage, not as bytes.
		s.warn("OLE object attachment %q not extracted", a.Filename)
	default:
		if n, ok := s.streams[tag(pidTagAttachDataBinary, ptBinary)]; ok && n.file != nil && !n.read &&
			p.inMemory+n.file.Size > MaxInMemory {
			// Too large to hold with the others: read when wanted.
			n.read = true
			open, err := p.openStream(n)
			if err != nil {
				s.warn("property %04X%04X: %v", pidTagAttachDataBinary, ptBinary, err)
			}
			a.Open = open
		} else if ok {
			b, err := p.readStreamMax(n, MaxInMemory)
			if err != nil {
				s.warn("property %04X%04X: %v", pidTagAttachDataBinary, ptBinary, err)
			}
			a.Data = b
			p.inMemory += int64(len(b))
		} else if method == attachByValue {
			s.warn("attachment %q has no data", a.Filename)
		}
	}
	if a.ContentType == "" {
		if isTNEF(a.Data) {
			a.ContentType = "application/ms-tnef"
		} else {
			a.ContentType = mapi.TypeByExtension(a.Filename)
		}
	}
	return a
}

// isMessageStorage reports whether a PT_OBJECT storage looks like an embedded
// message (it has a property stream) rather than an OLE object.
func isMessageStorage(n *node) bool {
	for name := range n.kids {
		if strings.EqualFold(name, propsStream) {
			return true
		}
	}
	return false
}

// isTNEF sniffs the TNEF signature so callers can route winmail.dat to the
// tnef package; it is not decoded here.
func isTNEF(b []byte) bool {
	return len(b) >= 4 && b[0] == 0x78 && b[1] == 0x9F && b[2] == 0x3E && b[3] == 0x22
}
