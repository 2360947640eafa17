package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/council/casefile"
)

// maxJSONBytes bounds a JSON request body; bodies are small records.
const maxJSONBytes = 2 << 20

// decodeJSON reads the request body into v strictly: JSON only, no unknown
// fields, no trailing data, no NUL characters, and bounded in size.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return casefile.Errorf(casefile.EUnsupported, "unsupported_media_type", "Send JSON with Content-Type: application/json.")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return casefile.Errorf(casefile.ETooLarge, "too_large", "The JSON body is larger than %d bytes.", maxJSONBytes)
		}
		return invalid("unreadable_body", "The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("empty_body", "The request needs a JSON body.")
	}
	if bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)) {
		return invalid("nul_character", "Text must not contain NUL characters.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("malformed_json", "The body must be a single JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("malformed_json", "The body must be a single JSON object.")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid("malformed_json", "The body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return invalid("invalid_field", "Field %q must be a %s.", typ.Field, typ.Type.String())
		}
		return invalid("malformed_json", "The body must be a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed_json", "The JSON body ends too soon.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("unknown_field", "Unknown field %s; see /v1/openapi.json for the fields this accepts.",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalid("invalid_field", "%s", err.Error())
}

// pathID returns the path parameter name as a UUID, or a 404-kind error:
// an id that is not a UUID names nothing.
func pathID(c *gin.Context, name, what string) (string, error) {
	id := c.Param(name)
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", casefile.Errorf(casefile.ENotFound, "not_found", "%s %q not found: ids are UUIDs.", what, id)
	}
	return u.String(), nil
}

// queryUUID reads an optional UUID query parameter (400 when malformed).
func queryUUID(c *gin.Context, name string) (string, error) {
	v := c.Query(name)
	if v == "" {
		return "", nil
	}
	u, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return "", invalid("invalid_"+name, "%s must be a UUID.", name)
	}
	return u.String(), nil
}

// pageOf reads ?limit= and ?cursor=.
func pageOf(c *gin.Context) (casefile.Page, error) {
	p := casefile.Page{Limit: casefile.DefaultPageLimit, Cursor: c.Query("cursor")}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, invalid("invalid_limit", "limit must be a whole number from 1 to %d.", casefile.MaxPageLimit)
		}
		p.Limit = min(n, casefile.MaxPageLimit)
	}
	return p, nil
}

// queryTime reads an optional RFC 3339 time or YYYY-MM-DD date parameter.
func queryTime(c *gin.Context, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = t.UTC()
		return &t, nil
	}
	if d, err := casefile.ParseDate(v); err == nil {
		t := d.Time()
		return &t, nil
	}
	return nil, invalid("invalid_"+name, "%s must be an RFC 3339 time (2026-01-31T09:00:00Z) or a date (2026-01-31).", name)
}

// list is the contract's list shape.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func listOf[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, NextCursor: next}
}

func requireText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return unprocessable("missing_"+field, "%s is required.", field)
	}
	if len(v) > max {
		return unprocessable("too_long", "%s is longer than %d characters.", field, max)
	}
	return nil
}
