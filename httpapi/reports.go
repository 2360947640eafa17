package httpapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
	"github.com/council/casefile/reports"
)

func (s *Server) registerReports(g *gin.RouterGroup) {
	s.handle(g, http.MethodGet, "/reports/:name", permReportsRead, s.getReport)
}

// getReport builds a report (package reports decides who sees which and
// for whom) as JSON or CSV.
func (s *Server) getReport(c *gin.Context) {
	if s.cfg.Reports == nil {
		s.respondError(c, casefile.Unavailable("reports", fmt.Errorf("not configured")))
		return
	}
	name := c.Param("name")
	if _, err := s.cfg.Reports.Lookup(name); err != nil {
		s.respondError(c, err)
		return
	}
	req, err := reports.ParseRequest(name, c.Query("from"), c.Query("to"), c.Query("format"), s.cfg.Reports.Today())
	if err != nil {
		s.respondError(c, err)
		return
	}
	rep, err := s.cfg.Reports.Build(c.Request.Context(), req)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if req.Format == "csv" {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, reports.FileName(rep)))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", rep.CSV())
		return
	}
	c.JSON(http.StatusOK, rep)
}
