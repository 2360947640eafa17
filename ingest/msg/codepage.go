package msg

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// codePages maps the Windows code page numbers found in .msg files (PidTagMessageCodepage,
// PidTagInternetCodepage, or guessed from a charset label or locale) to decoders.
var codePages = map[uint32]encoding.Encoding{
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

// decodeString8 decodes a NUL-terminated 8-bit string in code page cp. Text
// in an unknown code page is kept if it is valid UTF-8 and otherwise read as
// Windows-1252, the code page most Outlook installations write.
func decodeString8(b []byte, cp uint32) string {
	if i := bytes.IndexByte(b, 0); i >= 0 && cp != 1200 {
		b = b[:i]
	}
	return decodeCodePage(b, cp)
}

func decodeCodePage(b []byte, cp uint32) string {
	switch cp {
	case 65001, 20127:
		if utf8.Valid(b) {
			return string(b)
		}
		cp = 1252
	}
	enc, ok := codePages[cp]
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

// codePageByLabel maps a MIME or HTML charset label ("windows-1251",
// "big5", "koi8-r") to a code page number; 0 if unknown.
func codePageByLabel(label string) uint32 {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), "\"'\\"))
	enc, err := htmlindex.Get(label)
	if err != nil {
		return 0
	}
	// htmlindex resolves aliases; its canonical name gives the number.
	name, err := htmlindex.Name(enc)
	if err != nil {
		return 0
	}
	if cp, ok := labelCodePages[name]; ok {
		return cp
	}
	if n, ok := strings.CutPrefix(name, "windows-"); ok {
		if cp, err := strconv.Atoi(n); err == nil {
			return uint32(cp)
		}
	}
	if n, ok := strings.CutPrefix(name, "iso-8859-"); ok {
		if cp, err := strconv.Atoi(n); err == nil {
			return uint32(28590 + cp)
		}
	}
	return 0
}

// labelCodePages maps htmlindex's canonical names that do not embed their
// code page number.
var labelCodePages = map[string]uint32{
	"utf-8": 65001, "gbk": 936, "gb18030": 54936, "big5": 950, "shift_jis": 932,
	"euc-kr": 949, "euc-jp": 51932, "iso-2022-jp": 50220, "koi8-r": 20866,
	"koi8-u": 21866, "ibm866": 866, "macintosh": 10000, "x-mac-cyrillic": 10007,
	"utf-16le": 1200,
}

// lcidCodePage gives the ANSI code page Windows uses for a locale
// (PidTagMessageLocaleId), by primary language; 0 if unknown.
func lcidCodePage(lcid uint32) uint32 {
	switch lcid & 0xFFFF {
	case 0x0404, 0x0C04, 0x1404: // Chinese: Taiwan, Hong Kong, Macao
		return 950
	case 0x0C1A, 0x1C1A, 0x281A: // Serbian and Bosnian in Cyrillic script
		return 1251
	}
	return langCodePages[lcid&0x3FF]
}

var langCodePages = map[uint32]uint32{
	// Central European
	0x05: 1250, 0x15: 1250, 0x0E: 1250, 0x1B: 1250, 0x24: 1250, 0x1A: 1250, 0x18: 1250, 0x1C: 1250,
	// Cyrillic
	0x19: 1251, 0x22: 1251, 0x23: 1251, 0x02: 1251, 0x2F: 1251, 0x3F: 1251, 0x40: 1251, 0x44: 1251, 0x50: 1251,
	0x08: 1253, 0x1F: 1254, 0x2C: 1254, 0x43: 1254, 0x0D: 1255, 0x01: 1256, 0x29: 1256, 0x20: 1256,
	0x25: 1257, 0x26: 1257, 0x27: 1257, 0x2A: 1258, 0x1E: 874,
	0x11: 932, 0x04: 936, 0x12: 949,
	// Western European and others written in Windows-1252, Welsh and
	// Scottish Gaelic included
	0x09: 1252, 0x07: 1252, 0x0C: 1252, 0x0A: 1252, 0x10: 1252, 0x13: 1252, 0x16: 1252, 0x06: 1252,
	0x14: 1252, 0x1D: 1252, 0x0B: 1252, 0x0F: 1252, 0x03: 1252, 0x2D: 1252, 0x56: 1252, 0x21: 1252,
	0x3E: 1252, 0x36: 1252, 0x38: 1252, 0x41: 1252, 0x3C: 1252, 0x52: 1252, 0x91: 1252,
}

// charsetParam finds a charset= parameter in the first bytes of headers or
// an HTML head.
func charsetParam(b []byte) string {
	const window = 8 << 10
	b = b[:min(len(b), window)]
	lower := bytes.ToLower(b)
	i := bytes.Index(lower, []byte("charset="))
	if i < 0 {
		return ""
	}
	v := b[i+len("charset="):]
	v = bytes.TrimLeft(v, `"'\ `)
	end := bytes.IndexAny(v, "\"'\\;>/ \t\r\n")
	if end >= 0 {
		v = v[:end]
	}
	return string(v)
}
