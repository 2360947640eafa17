package ingest

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/council/casefile"
)

// parserFailed is the parse warning on an original whose parsing panicked.
const parserFailed = "the file could not be parsed (the parser failed on it; the fault is logged): " +
	"the original is kept exactly as received, without its text, email details or attachments"

// safely runs parse, the parsing of the staged original d, so that a panic
// anywhere in it (a parser of hostile input, third-party or ours) becomes a
// parse warning on d instead of a failed upload: the original is kept, and
// what had been extracted before the panic is dropped, since it may be
// half made. Extracted objects not yet written are taken off the pending
// list; those already written are destroyed.
func (s *Service) safely(ctx context.Context, st *Staged, d *casefile.Document, parse func() error) (err error) {
	nkeys, npending := len(st.keys), len(st.pending)
	warnings := append([]string{}, d.ParseWarnings...)
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if s.Log != nil {
			s.Log.Error("parser panicked; the original is kept unparsed", "document_id", d.ID, "content_type", d.ContentType,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		unwritten := map[string]bool{}
		for _, pp := range st.pending[npending:] {
			if pp.doc != nil {
				unwritten[pp.doc.ObjectKey] = true
			}
		}
		st.pending = st.pending[:npending]
		dropped := st.keys[nkeys:]
		st.keys = st.keys[:nkeys]
		err = nil
		for _, k := range dropped {
			delete(st.cached, k)
			if unwritten[k] {
				continue
			}
			if derr := s.Blobs.Destroy(context.WithoutCancel(ctx), k); derr != nil {
				// Left to the reconciliation sweep, which removes objects no row names.
				if s.Log != nil {
					s.Log.Warn("could not destroy an object extracted before a parser panic; the reconciliation sweep will", "key", k, "err", derr)
				}
			}
		}
		if d.ContentType == "" {
			d.ContentType = "application/octet-stream"
		}
		d.Email, d.Text = nil, ""
		d.Attachments = []*casefile.Document{}
		d.ParseWarnings = append(warnings, parserFailed)
		st.Doc = d
	}()
	return parse()
}
