package httpapi

import (
	"io"
	"net/http"
	"time"
)

// BodyIdleTimeout cuts a request whose body stops arriving. Each read of the
// body must get bytes within idle, and the deadline moves on as they arrive,
// so that an upload of any size on a slow but live link goes through, while
// a stalled client (which would hold an upload slot or memory for ever) is
// cut after idle: its read fails, the upload is refused as interrupted and
// the connection closed. The server's ReadHeaderTimeout covers the headers;
// this covers the body.
func BodyIdleTimeout(h http.Handler, idle time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if idle > 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// From the start: a body the handler never reads is still read
			// (to discard it) by the server before it answers. The first
			// read of the body moves the deadline on, however long the
			// handler took to get there.
			_ = rc.SetReadDeadline(time.Now().Add(idle))
			r.Body = &idleBody{ReadCloser: r.Body, rc: rc, idle: idle}
		}
		h.ServeHTTP(w, r)
	})
}

type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	// A writer without deadlines (none in net/http's server) just gets none.
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
		if err == io.EOF {
			// Read to its end: the connection is read next by the server
			// itself, which sets its own deadlines.
			_ = b.rc.SetReadDeadline(time.Time{})
		}
		// Otherwise the deadline stays: the server reads what is left of a
		// small body before it answers, and must not wait on a stalled
		// client for that either.
	}
	return n, err
}
