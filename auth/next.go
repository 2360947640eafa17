package auth

import (
	"net/url"
	"strings"
)

// LocalPath returns next when it is a path on this site, else "/". It
// refuses what a browser could take for another site: //host and /\host
// (protocol-relative), any backslash, a scheme or host, control characters,
// and anything not starting with a single slash.
func LocalPath(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' {
		return "/"
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// A path whose decoded form starts with // or /\ is refused too (some
	// servers and browsers decode before they redirect).
	if p := u.Path; strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return "/"
	}
	return next
}
