package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
)

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[string]int{
	casefile.EInvalid:       http.StatusBadRequest,
	casefile.EUnprocessable: http.StatusUnprocessableEntity,
	casefile.ENotFound:      http.StatusNotFound,
	casefile.EConflict:      http.StatusConflict,
	casefile.EGone:          http.StatusGone,
	casefile.ETooLarge:      http.StatusRequestEntityTooLarge,
	casefile.EUnsupported:   http.StatusUnsupportedMediaType,
	casefile.ENotAllowed:    http.StatusMethodNotAllowed,
	casefile.EUnauthorized:  http.StatusUnauthorized,
	casefile.EForbidden:     http.StatusForbidden,
	casefile.EUnavailable:   http.StatusServiceUnavailable,
	casefile.EInternal:      http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// respondError writes err in the contract's error shape. Internal errors are
// logged with their cause and reach the client only as a generic sentence.
func (s *Server) respondError(c *gin.Context, err error) {
	kind := casefile.ErrorKind(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	code := casefile.ErrorCode(err)
	switch kind {
	case casefile.EInternal:
		s.log.Error("internal error", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		code = "internal"
	case casefile.EUnavailable:
		s.log.Warn("backing service unavailable", "method", c.Request.Method, "path", c.FullPath(), "err", errors.Unwrap(err))
		c.Header("Retry-After", "5")
	}
	c.AbortWithStatusJSON(status, errorBody{errorDetail{Code: code, Message: casefile.ErrorMessage(err)}})
}

func invalid(code, format string, args ...any) error {
	return casefile.Errorf(casefile.EInvalid, code, format, args...)
}

func unprocessable(code, format string, args ...any) error {
	return casefile.Errorf(casefile.EUnprocessable, code, format, args...)
}
