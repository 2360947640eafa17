package httpapi

import (
	"net/http"

	"github.com/council/casefile"
)

// The web pages are another edge on the same services: they take the same
// decisions as the API from the same tables, rather than copies of them.

// Allows reports whether role has the permission named p (such as
// "notes:write"), from the permission matrix.
func Allows(role casefile.Role, p string) bool { return allows(role, perm(p)) }

// Status is the HTTP status of err, from the table of error kinds.
func Status(err error) int {
	if s, ok := statusOf[casefile.ErrorKind(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ValidDocumentCategory reports whether c is a category a practitioner may
// give an upload.
func ValidDocumentCategory(c string) bool { return validCategory[c] }

// SafeContentType is the Content-Type a stored file is served with: never one
// a browser would run in our origin.
func SafeContentType(t string) string { return safeContentType(t) }
