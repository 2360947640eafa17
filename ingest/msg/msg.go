// Package msg parses Outlook .msg files ([MS-OXMSG]): OLE compound files
// holding a MAPI message's properties, recipients and attachments.
//
// Files are treated as hostile. The compound-file layer is
// github.com/richardlehane/mscfb; this package bounds what it reads from it
// (no stream larger than the file, no more bytes in total than the file
// holds), limits attachments and the nesting of embedded messages, and turns
// damage into Message.Warnings: Parse fails only when the input is not a
// compound file it can open at all, because a partly readable record beats a
// rejected one.
//
// Attachments that are themselves TNEF (winmail.dat) are returned as they
// are; decoding them is the caller's job, with package ingest/tnef.
package msg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits on one Parse call.
const (
	MaxAttachments = 1000    // attachments kept, counting those of embedded messages
	MaxDepth       = 8       // nesting of embedded messages below the top one
	MaxTotalSize   = 1 << 30 // bytes read from streams, whatever the file size
	maxWarnings    = 200     // a wrecked file must not grow the warning list without end
	// MaxInMemory bounds the attachment bytes one Parse holds in memory;
	// attachments past it are given as Attachment.Open, read from the file
	// when the caller wants them, so that a large .msg costs no more memory
	// than a small one.
	MaxInMemory = 32 << 20
	// MaxPropertyBytes bounds what is read of any other stream (bodies,
	// headers, property tables); the rest is dropped with a warning.
	MaxPropertyBytes = 4 << 20
	// MaxTextBytes bounds the subject, names, addresses and identifiers
	// (cut with a warning); bodies are bounded by MaxPropertyBytes.
	MaxTextBytes = 2000
	// budgetSlack is read budget beyond the file size. Legitimate streams
	// occupy distinct sectors and so add up to less than the file; only
	// streams sharing sectors, which hostile files can make, add up to more.
	budgetSlack = 64 << 10
)

const (
	minFileSize    = 512 // a compound file's header alone is one 512-byte sector
	generatedName  = "attachment-%d"
	mimeOutlookMsg = "application/vnd.ms-outlook"
)

// signature starts every OLE compound file.
var signature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// ErrNotMSG is returned when the input is not an OLE compound file, or is
// one whose structure cannot be read at all.
var ErrNotMSG = errors.New("msg: not a readable OLE compound file")

// Address is a display name and an SMTP address; either may be empty.
// Exchange-internal (X.500) addresses are not returned as Email.
type Address struct {
	Name, Email string
}

// Attachment is one attachment of a message.
type Attachment struct {
	// Filename is the long filename, else the short one, else the display
	// name, else "attachment-N" (N counting from 1). Any directory part and
	// control characters are removed, since the sender chose it.
	Filename    string
	ContentType string // PidTagAttachMimeTag, else guessed from the extension; may be ""
	ContentID   string // without angle brackets
	// Inline is true for attachments shown in the body rather than listed:
	// hidden ones, MHTML references and those whose content ID the HTML body
	// refers to.
	Inline bool
	Data   []byte
	// Open, when not nil, reads the data of an attachment too large to
	// hold in memory (see MaxInMemory); Data is then nil. It reads from the
	// io.ReaderAt given to Parse, which must stay open until it is done.
	Open func() io.Reader
	// Message is the parsed embedded message for PR_ATTACH_METHOD 5; Data is
	// then nil.
	Message *Message
}

// Message is what Parse recovers from a .msg file or an embedded message.
type Message struct {
	MessageClass, Subject, MessageID, InReplyTo string
	From                                        Address
	To, Cc, Bcc                                 []Address
	Date                                        time.Time // client submit time, else delivery time, else the Date header; UTC
	Body                                        string    // plain text
	HTMLBody                                    string    // HTML, decoded to UTF-8
	Headers                                     string    // PidTagTransportMessageHeaders if present
	Attachments                                 []Attachment
	Warnings                                    []string
}

// IsMSG reports whether data starts with the OLE compound file signature. It
// is a cheap sniff: Word and Excel 97-2003 files share the signature.
func IsMSG(data []byte) bool {
	return bytes.HasPrefix(data, signature)
}

// Parse reads a .msg file of the given size from r. It returns ErrNotMSG (or
// an error wrapping it) when r is not a compound file that can be opened; any
// later damage is reported in Message.Warnings.
func Parse(r io.ReaderAt, size int64) (*Message, error) {
	if size < minFileSize {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrNotMSG, size)
	}
	head := make([]byte, len(signature))
	// io.ReaderAt may return io.EOF with a full read at the end of input.
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return nil, fmt.Errorf("msg: reading signature: %w", err)
	}
	if !IsMSG(head) {
		return nil, ErrNotMSG
	}
	// A SectionReader keeps mscfb from reading past the size we were given.
	sr := io.NewSectionReader(r, 0, size)
	if err := CheckNesting(sr, size); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotMSG, err)
	}
	root, err := openTree(sr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotMSG, err)
	}
	p := &parser{size: size, budget: min(size+budgetSlack, MaxTotalSize)}
	m := p.message(root, 0)
	if p.dropped > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%d further warnings dropped", p.dropped))
	}
	return m, nil
}
