package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

// openapiYAML is the API description, written by hand beside the handlers; a
// test fails when a registered route is missing from it.
//
//go:embed openapi.yaml
var openapiYAML []byte

var (
	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error
)

func loadOpenAPI() ([]byte, error) {
	openapiOnce.Do(func() {
		var doc any
		if openapiErr = yaml.Unmarshal(openapiYAML, &doc); openapiErr != nil {
			return
		}
		openapiJSON, openapiErr = json.Marshal(doc)
	})
	return openapiJSON, openapiErr
}

func (s *Server) openapi(c *gin.Context) {
	b, err := loadOpenAPI()
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", b)
}
