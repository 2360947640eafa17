package ingest

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SafeFilename turns an uploader's filename into one fit to show and to offer
// on download: no folders (path traversal), no control or bidirectional
// formatting characters (the "invoice\u202Efdp.exe" trick), valid UTF-8, at
// most 200 bytes. The name is never used as a storage key.
func SafeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u200b', r == '\ufeff', r == utf8.RuneError:
			continue
		case r == '/' || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|':
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(strings.Trim(b.String(), ". "))
	if s == "" || s == "." || s == ".." {
		return ""
	}
	for len(s) > 200 {
		ext := path.Ext(s)
		if len(ext) > 16 {
			ext = ""
		}
		cut := 200 - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}

// ASCIIFilename is the plain fallback for the filename= parameter of
// Content-Disposition; the full name travels in filename* (RFC 6266).
func ASCIIFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && r != '%' && r != ';':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "document"
	}
	return b.String()
}

// ContentDisposition is an attachment disposition with both forms of the
// filename, so that every browser saves the file under a safe name.
func ContentDisposition(name string) string {
	if name == "" {
		name = "document"
	}
	var enc strings.Builder
	for _, c := range []byte(name) {
		if c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			enc.WriteByte(c)
		} else {
			enc.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return `attachment; filename="` + ASCIIFilename(name) + `"; filename*=UTF-8''` + enc.String()
}
