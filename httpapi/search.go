package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

func (s *Server) registerSearch(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/persons/:id/search", permNotesRead, s.searchRecord)
}

// searchRecord is one search over a person's notes and documents:
// ?q=&page=&limit=.
func (s *Server) searchRecord(c *gin.Context) {
	if s.cfg.Search == nil {
		s.unwired(c, "search")
		return
	}
	personID, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	page, limit := 1, casefile.DefaultSearchLimit
	for name, dst := range map[string]*int{"page": &page, "limit": &limit} {
		if v := c.Query(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				s.respondError(c, invalid("invalid_"+name, "%s must be a whole number from 1.", name))
				return
			}
			*dst = n
		}
	}
	if limit > casefile.MaxSearchLimit {
		s.respondError(c, invalid("invalid_limit", "limit must be at most %d.", casefile.MaxSearchLimit))
		return
	}
	res, err := s.cfg.Search.SearchRecord(c.Request.Context(), casefile.SearchQuery{PersonID: personID,
		Query: strings.TrimSpace(c.Query("q")), Page: page, Limit: limit})
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
