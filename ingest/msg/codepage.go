package msg

import (
	"bytes"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

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
