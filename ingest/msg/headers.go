package msg

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
)

// headers is the parsed PidTagTransportMessageHeaders; nil if absent or
// unparsable.
type headers mail.Header

// parseHeaders parses the transport headers leniently: only the header
// block is there, so a blank line is added for net/mail.
func parseHeaders(s string) headers {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	s = strings.TrimLeft(s, "\r\n")
	// Outlook prefixes some header blocks with a line that is not a header
	// ("Microsoft Mail Internet Headers Version 2.0"); drop such a line.
	if first, rest, ok := strings.Cut(s, "\n"); ok && !strings.Contains(first, ":") {
		s = rest
	}
	msg, err := mail.ReadMessage(strings.NewReader(strings.TrimRight(s, "\r\n") + "\r\n\r\n"))
	if err != nil {
		return nil
	}
	return headers(msg.Header)
}

func (h headers) Date() (time.Time, error) {
	if h == nil {
		return time.Time{}, fmt.Errorf("no headers")
	}
	return mail.Header(h).Date()
}

// get returns a header's value with surrounding space removed.
func (h headers) get(key string) string {
	if h == nil {
		return ""
	}
	return strings.TrimSpace(mail.Header(h).Get(key))
}

// wordDecoder decodes RFC 2047 encoded words in any charset x/text knows,
// not just the UTF-8 and Latin-1 that mime.WordDecoder handles alone.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

// from returns the first address of the From header, or nil.
func (h headers) from() *mail.Address {
	if h == nil {
		return nil
	}
	v := mail.Header(h).Get("From")
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if list, err := p.ParseList(v); err == nil && len(list) > 0 {
		return list[0]
	}
	return nil
}
