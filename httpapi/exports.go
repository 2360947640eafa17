package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

// OpenObject opens a stored object for download.
type OpenObject func(ctx context.Context, key string) (io.ReadCloser, int64, error)

func (s *Server) registerExports(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/persons/:id/exports", permExportsManage, s.createExport)
	s.handle(g, http.MethodGet, "/exports/signing-key", permAuthenticated, s.signingKey)
	s.handle(g, http.MethodGet, "/exports/:id", permExportsManage, s.getExport)
	s.handle(g, http.MethodGet, "/exports/:id/content", permExportsManage, s.exportContent)
}

func (s *Server) createExport(c *gin.Context) {
	id, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	e, err := s.cfg.Exports.CreateExport(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Header("Location", "/v1/exports/"+e.ID)
	c.JSON(http.StatusAccepted, e)
}

func (s *Server) getExport(c *gin.Context) {
	id, err := pathID(c, "id", "Export")
	if err != nil {
		s.respondError(c, err)
		return
	}
	e, err := s.cfg.Exports.Export(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

// exportContent streams the finished bundle from the object store.
func (s *Server) exportContent(c *gin.Context) {
	id, err := pathID(c, "id", "Export")
	if err != nil {
		s.respondError(c, err)
		return
	}
	e, key, err := s.cfg.Exports.ExportObject(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	rc, size, err := s.cfg.OpenObject(c.Request.Context(), key)
	if err != nil {
		s.respondError(c, err)
		return
	}
	defer rc.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="casefile-export-`+e.ID+`.zip"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+e.SHA256+`"`)
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.log.Warn("export download interrupted", "export", e.ID, "err", err)
	}
}

// signingKey publishes the public key that signs bundles' manifests (and the
// earlier ones), so that whoever receives a bundle can check it with
// `casefile export verify --key`. It is no secret: any caller may read it.
func (s *Server) signingKey(c *gin.Context) {
	if s.cfg.SigningKeys == nil {
		s.respondError(c, casefile.Errorf(casefile.ENotFound, "not_found", "This service does not sign bundles."))
		return
	}
	keys, err := s.cfg.SigningKeys(c.Request.Context())
	if err != nil {
		s.respondError(c, err)
		return
	}
	for _, k := range keys {
		if k.Current {
			c.JSON(http.StatusOK, gin.H{"key_id": k.KeyID, "algorithm": k.Algorithm, "public_key": k.PublicKey,
				"public_key_pem": k.PEM, "created_at": k.CreatedAt, "keys": keys})
			return
		}
	}
	s.respondError(c, casefile.Errorf(casefile.ENotFound, "not_found", "No signing key yet."))
}
