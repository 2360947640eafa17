package mapi

import (
	"path"
	"strings"
	"unicode"
)

// extTypes is a small fixed table rather than mime.TypeByExtension, whose
// answers depend on the host's mime.types files and so differ between
// machines.
var extTypes = map[string]string{
	".txt": "text/plain", ".htm": "text/html", ".html": "text/html", ".xml": "application/xml",
	".csv": "text/csv", ".rtf": "application/rtf", ".pdf": "application/pdf",
	".doc": "application/msword", ".dot": "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".msg":  "application/vnd.ms-outlook", ".eml": "message/rfc822", ".ics": "text/calendar",
	".vcf": "text/vcard", ".zip": "application/zip", ".gif": "image/gif", ".png": "image/png",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".bmp": "image/bmp", ".tif": "image/tiff",
	".tiff": "image/tiff", ".odt": "application/vnd.oasis.opendocument.text", ".dat": "application/octet-stream",
}

// TypeByExtension guesses a media type from a file name; "" when unknown.
func TypeByExtension(name string) string {
	return extTypes[strings.ToLower(path.Ext(strings.ReplaceAll(name, "\\", "/")))]
}

// MaxNameRunes is the longest attachment name kept.
const MaxNameRunes = 255

// CleanName reduces a sender-supplied file name to a safe base name.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, "\\", "/")
	s = strings.TrimSpace(path.Base("/" + s))
	if s == "/" || s == "." || s == ".." {
		return ""
	}
	if r := []rune(s); len(r) > MaxNameRunes {
		s = string(r[:MaxNameRunes])
	}
	return s
}
