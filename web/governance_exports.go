package web

import (
	"io"
	"net/http"
	"strconv"

	"github.com/council/casefile"
)

// Disclosure exports: every bundle asked for, its state, and its download
// while it is kept. A bundle is withdrawn by the service itself when a
// removal or re-index changes the record it copied; there is no withdrawal
// by hand.

type exportRow struct {
	*casefile.Export
	Whose *whose
}

type exportsData struct {
	Exports []*exportRow
	Next    string
}

func (s *Server) exportsPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.Exports == nil {
		s.errorPage(w, r, c, unwired("exports"))
		return
	}
	es, next, err := s.cfg.Exports.Exports(r.Context(), casefile.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.PersonID
	}
	names, err := s.whoseRecords(r.Context(), ids)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	var d exportsData
	for _, e := range es {
		if names[e.PersonID].Restricted {
			continue // a restricted record's export is not listed to those it is closed to
		}
		d.Exports = append(d.Exports, &exportRow{e, names[e.PersonID]})
	}
	if next != "" {
		d.Next = encodeQuery(map[string][]string{"cursor": {next}})
	}
	s.render(w, r, c, http.StatusOK, "exports", &page{Title: "Disclosure exports", Nav: "exports", Data: d})
}

// exportDownload streams a finished bundle (audited as export.download).
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request, c *Caller) {
	if s.cfg.Exports == nil || s.cfg.OpenObject == nil {
		s.errorPage(w, r, c, unwired("exports"))
		return
	}
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("export"))
		return
	}
	if err := s.checkTarget(r.Context(), "export", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	e, key, err := s.cfg.Exports.ExportObject(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	rc, size, err := s.cfg.OpenObject(r.Context(), key)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="casefile-export-`+e.ID+`.zip"`)
	h.Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("export download interrupted", "export", e.ID, "err", err)
	}
}
