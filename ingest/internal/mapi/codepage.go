// Package mapi holds what the Outlook .msg and TNEF decoders share: MAPI code
// pages, and the naming and typing of attached files.
package mapi

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// CodePages maps the Windows code page numbers found in .msg and TNEF files
// (PidTagMessageCodepage, PidTagInternetCodepage, attOemCodepage) to decoders.
var CodePages = map[uint32]encoding.Encoding{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852,
	855: charmap.CodePage855, 858: charmap.CodePage858, 860: charmap.CodePage860,
	862: charmap.CodePage862, 863: charmap.CodePage863, 865: charmap.CodePage865,
	866: charmap.CodePage866, 874: charmap.Windows874,
	932: japanese.ShiftJIS, 936: simplifiedchinese.GBK, 949: korean.EUCKR, 950: traditionalchinese.Big5,
	1200: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
	1250: charmap.Windows1250, 1251: charmap.Windows1251, 1252: charmap.Windows1252,
	1253: charmap.Windows1253, 1254: charmap.Windows1254, 1255: charmap.Windows1255,
	1256: charmap.Windows1256, 1257: charmap.Windows1257, 1258: charmap.Windows1258,
	10000: charmap.Macintosh, 10007: charmap.MacintoshCyrillic,
	20866: charmap.KOI8R, 21866: charmap.KOI8U,
	28591: charmap.ISO8859_1, 28592: charmap.ISO8859_2, 28593: charmap.ISO8859_3,
	28594: charmap.ISO8859_4, 28595: charmap.ISO8859_5, 28596: charmap.ISO8859_6,
	28597: charmap.ISO8859_7, 28598: charmap.ISO8859_8, 28599: charmap.ISO8859_9,
	28603: charmap.ISO8859_13, 28605: charmap.ISO8859_15,
	50220: japanese.ISO2022JP, 50221: japanese.ISO2022JP, 50222: japanese.ISO2022JP,
	51932: japanese.EUCJP, 51949: korean.EUCKR, 52936: simplifiedchinese.HZGB2312,
	54936: simplifiedchinese.GB18030,
}

// DecodeString8 decodes a NUL-terminated 8-bit string in code page cp. Text
// in an unknown code page is kept if it is valid UTF-8 and otherwise read as
// Windows-1252, the code page most Outlook installations write.
func DecodeString8(b []byte, cp uint32) string {
	if i := bytes.IndexByte(b, 0); i >= 0 && cp != 1200 {
		b = b[:i]
	}
	return DecodeCodePage(b, cp)
}

// DecodeCodePage decodes b in code page cp (see DecodeString8).
func DecodeCodePage(b []byte, cp uint32) string {
	switch cp {
	case 65001, 20127:
		if utf8.Valid(b) {
			return string(b)
		}
		cp = 1252
	}
	enc, ok := CodePages[cp]
	if !ok {
		if utf8.Valid(b) {
			return string(b)
		}
		enc = charmap.Windows1252
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(bytes.TrimRight(s, "\x00"))
}
