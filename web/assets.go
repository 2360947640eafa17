package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// assetFS holds our own script and stylesheet, and under dist/ the files
// `make assets` copies from the pinned npm packages (govuk-frontend and
// @ministryofjustice/frontend). dist/ is not committed: it always holds its
// README, so the binary builds without the copy and the pages then say that
// their styles are missing.
//
//go:embed assets
var assetFS embed.FS

// stylesPresent says whether the npm assets were copied in before the build.
var stylesPresent = func() bool {
	_, err := fs.Stat(assetFS, "assets/dist/govuk-frontend.min.css")
	return err == nil
}()

// assetVersion changes whenever an embedded asset does; pages name our files
// with it, so that they can be cached for a year.
var assetVersion = func() string {
	h := sha256.New()
	fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err == nil && !d.IsDir() {
			b, _ := assetFS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidColour reports whether c is a colour the header can be given (#rrggbb).
func ValidColour(c string) bool { return colourRE.MatchString(c) }

// assets serves the embedded files: ours at the top, then the copied npm
// files (whose stylesheets refer to /assets/images/...). They never change
// within a build, so browsers may keep them for a year.
func (s *Server) assets() http.Handler {
	councilCSS := s.councilCSS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)[1:]
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		if name == "council.css" {
			h.Set("Content-Type", "text/css; charset=utf-8")
			w.Write(councilCSS) //nolint:errcheck
			return
		}
		if strings.HasPrefix(name, "dist/") || name == "" {
			http.NotFound(w, r)
			return
		}
		for _, p := range []string{"assets/" + name, "assets/dist/" + name} {
			if st, err := fs.Stat(assetFS, p); err == nil && !st.IsDir() {
				http.ServeFileFS(w, r, assetFS, p)
				return
			}
		}
		h.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
	})
}

// councilCSS carries the council's colour: configuration, not code, and a
// file rather than an inline style, which the CSP forbids.
func (s *Server) councilCSS() []byte {
	c := s.cfg.CouncilColour
	if !ValidColour(c) {
		c = "#0b0c0c"
	}
	return []byte(":root{--casefile-council-colour:" + c + "}\n" +
		".govuk-generic-header{background:" + c + ";border-bottom:10px solid " + c + "}\n")
}
