package casefile

import (
	"errors"
	"fmt"
)

// Error kinds. Each kind maps to one HTTP status in httpapi and one retry
// decision in workers; the Code on an Error is the stable snake_case code that
// API clients see.
const (
	EInvalid       = "invalid"       // 400: malformed request
	EUnprocessable = "unprocessable" // 422: well-formed but refused by a rule
	ENotFound      = "not_found"     // 404
	EConflict      = "conflict"      // 409: state does not allow it
	EGone          = "gone"          // 410: content removed or destroyed
	ETooLarge      = "too_large"     // 413
	EUnsupported   = "unsupported"   // 415
	ENotAllowed    = "not_allowed"   // 405
	EUnauthorized  = "unauthorized"  // 401
	EForbidden     = "forbidden"     // 403
	EUnavailable   = "unavailable"   // 503: a backing service is down; retry later
	EInternal      = "internal"      // 500: our fault
)

// Error is the one error type that crosses package boundaries. Kind decides
// how edges treat it; Code and Message are safe to show to a caller.
type Error struct {
	Kind    string
	Code    string
	Message string
	Err     error // the underlying cause; never shown to callers
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error of the given kind with a caller-facing code and message.
func Errorf(kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrOutcomeUnknown is wrapped in the error of a change whose commit was
// sent but whose answer never came (the connection was lost): it may have
// been committed. Whoever made the change must not undo its side effects
// (such as stored objects) on that error; reconciliation settles it.
var ErrOutcomeUnknown = errors.New("the connection was lost while the change was being committed; it may have been committed")

// Unavailable wraps err from a backing service that could not be reached.
func Unavailable(service string, err error) *Error {
	return &Error{Kind: EUnavailable, Code: "service_unavailable",
		Message: service + " is unavailable; try again shortly", Err: err}
}

// ErrorKind returns the kind of err, or EInternal for errors that are not ours.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EInternal
}

// ErrorCode returns the caller-facing code of err ("internal" when unknown).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return ErrorKind(err)
}

// ErrorMessage returns the caller-facing message of err; internal errors get a
// generic sentence so that nothing internal leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != EInternal {
		return e.Message
	}
	return "An internal error occurred; it has been logged."
}
