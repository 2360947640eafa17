package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
)

func (s *Server) registerDocuments(g *gin.RouterGroup) {
	s.handle(g, http.MethodPost, "/persons/:id/documents", permDocumentsWrite, s.uploadDocument)
	s.handle(g, http.MethodGet, "/persons/:id/documents", permDocumentsRead, s.listDocuments)
	s.handle(g, http.MethodGet, "/documents/:id", permDocumentsRead, s.getDocument)
	s.handle(g, http.MethodGet, "/documents/:id/content", permDocumentsRead, s.documentContent)
	s.handle(g, http.MethodPost, "/documents/:id/links", permDocumentsWrite, s.linkDocument)
}

type linkRequest struct {
	PersonID string `json:"person_id"`
}

// linkDocument files a stored email (or file) with its attachments on
// another person's record as well: one object, a document on each record.
// Whoever may upload may link; both records must be open to the caller (the
// route's scope checks the document's, this the other).
func (s *Server) linkDocument(c *gin.Context) {
	id, err := pathID(c, "id", "Document")
	if err != nil {
		s.respondError(c, err)
		return
	}
	var req linkRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	to := strings.ToLower(strings.TrimSpace(req.PersonID))
	if to == "" {
		s.respondError(c, unprocessable("missing_person_id", "person_id is required: the id of the record to file the document on as well."))
		return
	}
	if err := s.canAccess(c, to); err != nil && casefile.ErrorKind(err) != casefile.ENotFound {
		s.respondError(c, err)
		return
	}
	d, existed, err := s.cfg.Ingest.Store.LinkDocument(c.Request.Context(), id, to)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if existed {
		d.Duplicate = true
		c.JSON(http.StatusOK, d)
		return
	}
	c.Header("Location", "/v1/documents/"+d.ID)
	c.JSON(http.StatusCreated, d)
}

var validCategory = map[string]bool{}

func init() {
	for _, c := range casefile.DocumentCategories {
		validCategory[c] = true
	}
}

// uploadDocument streams one file to the object store: a multipart form
// (part "file", optional "title" and "category"), or a raw email body.
// Nothing of the body is held in memory or on disk.
func (s *Server) uploadDocument(c *gin.Context) {
	personID, err := pathID(c, "id", "Person")
	if err != nil {
		s.refuseFirst(c, err)
		return
	}
	max := s.cfg.MaxUploadBytes
	if c.Request.ContentLength > max+1<<20 {
		s.refuseFirst(c, casefile.Errorf(casefile.ETooLarge, "too_large", "The upload is larger than the %d bytes allowed; nothing was kept.", max))
		return
	}
	idem := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if len(idem) > 200 {
		s.refuseFirst(c, invalid("invalid_idempotency_key", "Idempotency-Key must be at most 200 characters."))
		return
	}
	ctx := c.Request.Context()
	mt, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if idem != "" {
		// What a replay answers tells of the key's upload: the access check
		// comes first.
		if err := s.checkAccessNow(c); err != nil {
			s.respondError(c, err)
			return
		}
		if d, err := s.cfg.Ingest.Store.DocumentByIdempotencyKey(ctx, idem); err == nil {
			// A retry of an upload that was stored answers as the first
			// time; the same key for other bytes is a client's mistake that
			// must not pass for success (the new file would be lost).
			sum, err := s.uploadedSHA256(c, mt, params["boundary"])
			switch {
			case err != nil:
				s.refuseFirst(c, err)
			case d.PersonID != personID:
				s.refuseFirst(c, unprocessable("idempotency_key_reused", "This Idempotency-Key was used for an upload to another person; nothing was kept."))
			case sum != d.SHA256:
				s.refuseFirst(c, unprocessable("idempotency_key_reused", "This Idempotency-Key was used for a different file; nothing was kept. Use a new key for a new upload."))
			default:
				// The answer shows the stored document: an audited read.
				shown, err := s.cfg.Ingest.Store.ShowDocument(ctx, d.ID, "idempotent_replay")
				if err != nil {
					s.refuseFirst(c, err)
					return
				}
				c.JSON(http.StatusCreated, shown)
			}
			return
		} else if casefile.ErrorKind(err) != casefile.ENotFound {
			s.refuseFirst(c, err)
			return
		}
	}
	var staged *ingest.Staged
	title, category := c.Query("title"), c.Query("category")
	switch mt {
	case "multipart/form-data":
		staged, title, category, err = s.stageMultipart(c, personID, params["boundary"], title, category)
	case "message/rfc822", "application/vnd.ms-outlook", "application/octet-stream":
		name := c.Query("filename")
		if name == "" {
			name = map[string]string{"message/rfc822": "message.eml", "application/vnd.ms-outlook": "message.msg"}[mt]
		}
		size := c.Request.ContentLength
		if size < 0 {
			size = -1
		}
		staged, err = s.cfg.Ingest.Stage(ctx, ingest.Upload{PersonID: personID, Filename: name, DeclaredType: mt,
			Body: c.Request.Body, Size: size})
	default:
		err = casefile.Errorf(casefile.EUnsupported, "unsupported_media_type",
			"Upload a file as multipart/form-data (part \"file\"), or an email as message/rfc822 or application/vnd.ms-outlook.")
	}
	if err != nil {
		s.refuseFirst(c, err)
		return
	}
	if category == "" {
		category = "correspondence"
	}
	if !validCategory[category] || len(title) > 500 {
		s.cfg.Ingest.Discard(ctx, staged)
		s.refuseFirst(c, unprocessable("invalid_category", "category must be one of %s; title at most 500 characters.",
			strings.Join(casefile.DocumentCategories, ", ")))
		return
	}
	d, dup, err := s.cfg.Ingest.Commit(ctx, staged, strings.TrimSpace(title), category, idem)
	if err != nil {
		s.refuseFirst(c, err)
		return
	}
	if dup {
		c.JSON(http.StatusOK, d)
		return
	}
	c.Header("Location", "/v1/documents/"+d.ID)
	c.JSON(http.StatusCreated, d)
}

// stageMultipart reads the form part by part with the streaming reader, so
// that the file part goes straight to the object store.
func (s *Server) stageMultipart(c *gin.Context, personID, boundary, title, category string) (*ingest.Staged, string, string, error) {
	if boundary == "" {
		return nil, "", "", invalid("malformed_multipart", "The multipart body has no boundary.")
	}
	// The whole form is bounded: the file by the ingest limit as it streams,
	// everything else by this.
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxUploadBytes+1<<20)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, "", "", invalid("malformed_multipart", "The body is not a readable multipart form.")
	}
	ctx := c.Request.Context()
	var staged *ingest.Staged
	fail := func(err error) (*ingest.Staged, string, string, error) {
		if staged != nil {
			s.cfg.Ingest.Discard(ctx, staged)
		}
		return nil, "", "", err
	}
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(invalid("malformed_multipart", "The multipart body is malformed or was cut short; nothing was kept."))
		}
		switch p.FormName() {
		case "file":
			if staged != nil {
				return fail(invalid("too_many_files", "Send one part named file per upload."))
			}
			staged, err = s.cfg.Ingest.Stage(ctx, ingest.Upload{PersonID: personID, Filename: p.FileName(),
				DeclaredType: p.Header.Get("Content-Type"), Body: p, Size: -1})
			if err != nil {
				return nil, "", "", err
			}
		case "title", "category":
			b, err := io.ReadAll(io.LimitReader(p, 1024))
			if err != nil {
				return fail(invalid("malformed_multipart", "The multipart body was cut short; nothing was kept."))
			}
			if p.FormName() == "title" {
				title = string(b)
			} else {
				category = strings.TrimSpace(string(b))
			}
		default:
			io.Copy(io.Discard, io.LimitReader(p, 1<<20)) //nolint:errcheck
		}
	}
	if staged == nil {
		return nil, "", "", unprocessable("missing_file", "The form needs a part named file.")
	}
	return staged, title, category, nil
}

// uploadedSHA256 reads the file of an upload (the part named file of a
// form, or the raw body) without keeping it, and returns its sha256.
func (s *Server) uploadedSHA256(c *gin.Context, mediaType, boundary string) (string, error) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxUploadBytes+1<<20)
	var file io.Reader = body
	if mediaType == "multipart/form-data" {
		if boundary == "" {
			return "", invalid("malformed_multipart", "The multipart body has no boundary.")
		}
		mr := multipart.NewReader(body, boundary)
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return "", invalid("malformed_multipart", "The form has no readable part named file.")
			}
			if p.FormName() == "file" {
				file = p
				break
			}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return "", ingest.Interrupted()
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Server) listDocuments(c *gin.Context) {
	personID, err := pathID(c, "id", "Person")
	if err != nil {
		s.respondError(c, err)
		return
	}
	page, err := pageOf(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	ds, next, err := s.cfg.Ingest.Store.Documents(c.Request.Context(), personID, page)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(ds, next))
}

func (s *Server) getDocument(c *gin.Context) {
	id, err := pathID(c, "id", "Document")
	if err != nil {
		s.respondError(c, err)
		return
	}
	d, err := s.cfg.Ingest.Store.Document(c.Request.Context(), id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// documentContent returns the exact original bytes, with a single byte range
// when asked for one.
func (s *Server) documentContent(c *gin.Context) {
	id, err := pathID(c, "id", "Document")
	if err != nil {
		s.respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	d, err := s.cfg.Ingest.Store.OpenDocument(ctx, id)
	if err != nil {
		s.respondError(c, err)
		return
	}
	etag := `"` + d.SHA256 + `"`
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", ingest.ContentDisposition(d.Filename))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	if inm := c.GetHeader("If-None-Match"); inm != "" && inm == etag {
		c.Status(http.StatusNotModified)
		return
	}
	start, end, partial, err := parseRange(c.GetHeader("Range"), d.Size)
	if err != nil {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", d.Size))
		c.AbortWithStatusJSON(http.StatusRequestedRangeNotSatisfiable,
			errorBody{errorDetail{Code: "range_not_satisfiable", Message: err.Error()}})
		return
	}
	if ir := c.GetHeader("If-Range"); ir != "" && ir != etag {
		start, end, partial = 0, d.Size-1, false
	}
	var rc io.ReadCloser
	if partial {
		rc, _, err = s.cfg.OpenRange(ctx, d.ObjectKey, start, end)
	} else {
		rc, _, err = s.cfg.OpenObject(ctx, d.ObjectKey)
	}
	if err != nil {
		s.respondError(c, err)
		return
	}
	defer rc.Close()
	h.Set("Content-Type", safeContentType(d.ContentType))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, d.Size))
		status = http.StatusPartialContent
	}
	h.Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	c.Status(status)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.log.Warn("download interrupted", "document", d.ID, "err", err)
	}
}

// safeContentType never lets a stored file be served as something a browser
// would run in our origin.
func safeContentType(t string) string {
	switch {
	case t == "", strings.Contains(t, "html"), strings.Contains(t, "javascript"), strings.Contains(t, "xml"), t == "image/svg+xml":
		return "application/octet-stream"
	}
	return t
}

// parseRange reads a single "bytes=a-b" range; other forms are served whole.
func parseRange(hdr string, size int64) (int64, int64, bool, error) {
	if hdr == "" || size == 0 {
		return 0, size - 1, false, nil
	}
	spec, ok := strings.CutPrefix(hdr, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size - 1, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, false, errors.New("the Range header is malformed")
	}
	var start, end int64
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, errors.New("the Range header is malformed")
		}
		start, end = max(size-n, 0), size-1
	default:
		var err error
		start, err = strconv.ParseInt(a, 10, 64)
		if err != nil || start < 0 {
			return 0, 0, false, errors.New("the Range header is malformed")
		}
		end = size - 1
		if b != "" {
			if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
				return 0, 0, false, errors.New("the Range header is malformed")
			}
			end = min(end, size-1)
		}
	}
	if start >= size {
		return 0, 0, false, fmt.Errorf("the range starts at %d, past the end of the %d-byte file", start, size)
	}
	return start, end, true, nil
}
