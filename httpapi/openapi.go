package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"sync"

	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

// openapiFiles is the API description, written by hand beside the handlers:
// base.yaml holds info and shared components, and each other file the paths
// (and schemas) of one area. A test fails when a registered route is missing.
//
//go:embed openapi/*.yaml
var openapiFiles embed.FS

var (
	openapiOnce sync.Once
	openapiDoc  map[string]any
	openapiJSON []byte
	openapiErr  error
)

// loadOpenAPI merges the files into one OpenAPI 3 document.
func loadOpenAPI() (map[string]any, []byte, error) {
	openapiOnce.Do(func() {
		openapiDoc, openapiErr = mergeOpenAPI(openapiFiles)
		if openapiErr == nil {
			openapiJSON, openapiErr = json.Marshal(openapiDoc)
		}
	})
	return openapiDoc, openapiJSON, openapiErr
}

func mergeOpenAPI(fsys fs.FS) (map[string]any, error) {
	names, err := fs.Glob(fsys, "openapi/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc := map[string]any{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := yaml.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := mergeInto(doc, part, name); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// mergeInto merges maps recursively; two files defining the same leaf is an error.
func mergeInto(dst, src map[string]any, file string) error {
	for k, v := range src {
		existing, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		em, ok1 := existing.(map[string]any)
		vm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: %q is defined twice", file, k)
		}
		if err := mergeInto(em, vm, file); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) openapi(c *gin.Context) {
	_, b, err := loadOpenAPI()
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", b)
}
