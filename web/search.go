package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/council/casefile"
)

// searchHit is one hit as the results page shows it. Snippet is the
// storage's marked HTML: the text escaped, the matches in <mark>.
type searchHit struct {
	*casefile.SearchHit
	Snippet template.HTML
}

type searchData struct {
	Q        string
	Hits     []searchHit
	Total    int
	Page     int
	Prev     string
	Next     string
	Searched bool
}

// searchRecord is the results page of one search over a person's record:
// notes and documents, best first, each with its marked passage.
func (s *Server) searchRecord(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("person"))
		return
	}
	person, err := s.person(ctx, id)
	if casefile.ErrorCode(err) == "restricted_record" {
		s.restricted(w, r, c, id, "", nil)
		return
	}
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	d := &searchData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Page: 1}
	p := &page{Title: "Search the record of " + personName(person), Nav: "persons", Person: person, Data: d}
	if v := r.URL.Query().Get("page"); v != "" {
		if d.Page, err = strconv.Atoi(v); err != nil || d.Page < 1 || d.Page > casefile.MaxSearchPage {
			s.errorPage(w, r, c, casefile.Errorf(casefile.EInvalid, "invalid_page", "This page of results does not exist; search again."))
			return
		}
	}
	switch {
	case d.Q == "" && r.URL.Query().Has("q"):
		p.Errors = append(p.Errors, fieldError{"q", "Enter words to search for"})
	case utf8.RuneCountInString(d.Q) > casefile.MaxSearchQueryChars:
		p.Errors = append(p.Errors, fieldError{"q", "Enter search words of at most 200 characters"})
	case d.Q != "" && s.cfg.Search != nil:
		res, err := s.cfg.Search.SearchRecord(ctx, casefile.SearchQuery{PersonID: id, Query: d.Q, Page: d.Page})
		if err != nil {
			s.errorPage(w, r, c, err)
			return
		}
		d.Searched, d.Total = true, res.Total
		for _, h := range res.Items {
			// The storage escaped the text and added only <mark> elements.
			d.Hits = append(d.Hits, searchHit{SearchHit: h, Snippet: template.HTML(h.Snippet)}) //nolint:gosec // escaped by markedHTML
		}
		if res.NextPage > 0 {
			d.Next = url.Values{"q": {d.Q}, "page": {strconv.Itoa(res.NextPage)}}.Encode()
		}
		if d.Page > 1 {
			d.Prev = url.Values{"q": {d.Q}, "page": {strconv.Itoa(d.Page - 1)}}.Encode()
		}
	}
	status := http.StatusOK
	if len(p.Errors) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, c, status, "search", p)
}
