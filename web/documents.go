package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/council/casefile"
	"github.com/council/casefile/httpapi"
	"github.com/council/casefile/ingest"
)

// maxFilesPerUpload bounds how many files one form may carry.
const maxFilesPerUpload = 50

// outcome is what became of one uploaded file.
type outcome struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"` // filed, duplicate, refused
	Message string `json:"message"`
	Href    string `json:"href,omitempty"`
	Title   string `json:"title,omitempty"`
}

type uploadData struct {
	Outcomes []outcome
	Filed    int
	Dups     int
	Refused  int
}

// uploadPage files every file of a form on the person's record, each
// streamed to the object store as it arrives (as the API does: ingest stages
// then commits, and nothing is held whole in memory or on disk). The drop
// zone's script sends one file per request as the body, with the CSRF token
// in a header, and reads JSON; the plain form sends them all as multipart,
// read part by part, with the token as its first field, and gets a page of
// outcomes.
func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	wantsJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	fail := func(err error) {
		if wantsJSON {
			writeJSON(w, httpapi.Status(err), map[string]any{"error": map[string]string{
				"code": casefile.ErrorCode(err), "message": casefile.ErrorMessage(err)}})
			return
		}
		s.errorPage(w, r, c, err)
	}
	if !s.may(c, permDocumentsWrite) {
		fail(casefile.Errorf(casefile.EForbidden, "forbidden", "Your role (%s) does not let you add documents to a record.", roleName(c.Actor.Role)))
		return
	}
	personID, ok := uuidOf(r.PathValue("id"))
	if !ok {
		fail(notFound("person"))
		return
	}
	max := s.cfg.MaxUploadBytes
	r.Body = http.MaxBytesReader(w, r.Body, maxFilesPerUpload*(max+1<<20))
	ctx := casefile.WithActor(r.Context(), c.Actor)
	if s.cfg.Access != nil {
		if err := s.cfg.Access.CanAccessPerson(ctx, personID); err != nil {
			fail(err)
			return
		}
	}
	checked := false
	if r.Header.Get("X-CSRF-Token") != "" {
		if err := s.cfg.Auth.CheckCSRF(r, c); err != nil {
			fail(err)
			return
		}
		checked = true
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" && checked && wantsJSON {
		// The drop zone's script sends one file as the body, named in the
		// address: its length is known, so it streams as the API's upload does.
		o := s.fileOne(ctx, personID, r.URL.Query().Get("filename"), mt, r.Body, r.ContentLength, "correspondence")
		writeJSON(w, http.StatusOK, map[string]any{"files": []outcome{o}})
		return
	}
	if mt != "multipart/form-data" || params["boundary"] == "" {
		fail(casefile.Errorf(casefile.EUnsupported, "unsupported_media_type", "Choose the files with the form on the record's page."))
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		fail(casefile.Errorf(casefile.EInvalid, "malformed_multipart", "The files did not arrive whole; try again."))
		return
	}
	category := "correspondence"
	var d uploadData
	for {
		p, err := mr.NextRawPart() // raw, as the API reads it: the bytes are kept as sent
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(casefile.Errorf(casefile.EInvalid, "malformed_multipart", "The upload was cut short; files listed below as filed are kept, the others were not."))
			return
		}
		switch p.FormName() {
		case "csrf_token":
			// The form's first field, read before any file so that nothing
			// is stored for a forged request.
			b, _ := io.ReadAll(io.LimitReader(p, 200))
			r.Header.Set("X-CSRF-Token", string(b))
			if err := s.cfg.Auth.CheckCSRF(r, c); err != nil {
				fail(err)
				return
			}
			checked = true
		case "category":
			b, _ := io.ReadAll(io.LimitReader(p, 100))
			if v := strings.TrimSpace(string(b)); httpapi.ValidDocumentCategory(v) {
				category = v
			}
		case "file", "files":
			if !checked {
				fail(casefile.Errorf(casefile.EForbidden, "csrf_failed", "The form had expired. Go back to the record, and choose the files again."))
				return
			}
			if p.FileName() == "" {
				continue // the browser sends an empty part when no file was chosen
			}
			if len(d.Outcomes) >= maxFilesPerUpload {
				d.Outcomes = append(d.Outcomes, outcome{Name: p.FileName(), Outcome: "refused",
					Message: "Not filed: add at most " + strconv.Itoa(maxFilesPerUpload) + " files at a time."})
				d.Refused++
				continue
			}
			o := s.fileOne(ctx, personID, p.FileName(), p.Header.Get("Content-Type"), p, -1, category)
			io.Copy(io.Discard, p) //nolint:errcheck // the rest of a refused file, to reach the next
			switch o.Outcome {
			case "filed":
				d.Filed++
			case "duplicate":
				d.Dups++
			default:
				d.Refused++
			}
			d.Outcomes = append(d.Outcomes, o)
		default:
			io.Copy(io.Discard, io.LimitReader(p, 1<<20)) //nolint:errcheck
		}
	}
	if !checked {
		fail(casefile.Errorf(casefile.EForbidden, "csrf_failed", "The form had expired. Go back to the record, and choose the files again."))
		return
	}
	if len(d.Outcomes) == 0 {
		fail(casefile.Errorf(casefile.EUnprocessable, "missing_file", "Select one or more files to add to the record."))
		return
	}
	if wantsJSON {
		writeJSON(w, http.StatusOK, map[string]any{"files": d.Outcomes})
		return
	}
	person, err := s.person(ctx, personID)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "uploaded", &page{Title: "Files added", Nav: "persons", Person: person, Data: d})
}

// fileOne stages and commits one file of size bytes (-1: not known), and
// says what became of it.
func (s *Server) fileOne(ctx context.Context, personID, name, declared string, body io.Reader, size int64, category string) outcome {
	o := outcome{Name: name}
	if size < 0 {
		size = -1
	}
	staged, err := s.cfg.Ingest.Stage(ctx, ingest.Upload{PersonID: personID, Filename: name, DeclaredType: declared, Body: body, Size: size})
	if err == nil {
		var doc *casefile.Document
		var dup bool
		doc, dup, err = s.cfg.Ingest.Commit(ctx, staged, "", category, "")
		if err == nil {
			o.Href, o.Title = "/documents/"+doc.ID, documentTitle(doc)
			if dup {
				o.Outcome, o.Message = "duplicate", "Already on this record"
			} else {
				o.Outcome, o.Message = "filed", "Filed"
			}
			return o
		}
	}
	o.Outcome, o.Message = "refused", "Not filed: "+casefile.ErrorMessage(err)
	if casefile.ErrorKind(err) == casefile.EInternal {
		s.log.Error("upload failed", "person", personID, "err", err)
	}
	return o
}

func documentTitle(d *casefile.Document) string {
	switch {
	case d.Title != "":
		return d.Title
	case d.Email != nil && d.Email.Subject != "":
		return d.Email.Subject
	case d.Filename != "":
		return d.Filename
	}
	return "Untitled document"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

type documentData struct {
	Doc       *casefile.Document
	Title     string
	Text      string
	Parent    *casefile.Document
	MayRaise  bool
	Available bool
	// Siblings are the records this email may also be filed on; Filed,
	// the siblings' copies already on their records.
	Siblings []*casefile.Person
	Filed    []siblingCopy
	LinkTo   string // the sibling chosen, when the form comes back with an error
}

// documentPage shows a document: an email's headers and its text (never its
// HTML), its attachments and forwarded messages as links, and a download.
func (s *Server) documentPage(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("document"))
		return
	}
	p, err := s.documentView(r.Context(), c, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("raised") != "":
		p.Banner = &banner{Success: true, Heading: "Your ticket was sent to the ICT service desk", Link: "See the ticket",
			LinkTo: "/tickets/" + q.Get("raised")}
	case q.Get("linked") != "":
		if linked, ok := uuidOf(q.Get("linked")); ok {
			p.Banner = &banner{Success: true, Heading: "Also filed on the sibling's record", Text: "One stored copy serves both records; " +
				"each record's retention, holds and removals apply to its own document.", Link: "Open it on their record", LinkTo: "/documents/" + linked}
		}
	}
	s.render(w, r, c, http.StatusOK, "document", p)
}

// documentView reads what the document page shows.
func (s *Server) documentView(ctx context.Context, c *Caller, id string) (*page, error) {
	if err := s.checkTarget(ctx, "document", id); err != nil {
		return nil, err
	}
	doc, err := s.cfg.Ingest.Store.Document(ctx, id)
	if err != nil {
		return nil, err
	}
	person, err := s.person(ctx, doc.PersonID)
	if err != nil {
		return nil, err
	}
	d := documentData{Doc: doc, Title: documentTitle(doc), MayRaise: s.may(c, permTicketsRaise), Available: doc.Status == casefile.StatusActive}
	if d.Available && s.cfg.DocumentText != nil {
		if d.Text, err = s.cfg.DocumentText(ctx, id); err != nil {
			return nil, err
		}
	}
	if d.Available && doc.ParentID == nil && s.may(c, permDocumentsWrite) {
		if d.Siblings, d.Filed, err = s.siblings(ctx, doc); err != nil {
			return nil, err
		}
	}
	return &page{Title: d.Title, Nav: "persons", Person: person, Data: d}, nil
}

// siblingCopy is the same file already on a sibling's record.
type siblingCopy struct {
	Person     *casefile.Person
	DocumentID string
}

// siblings are the siblings of the document's person whose records the
// caller may see and that still take documents: those the document may be
// filed on, and those that already have the same file.
func (s *Server) siblings(ctx context.Context, doc *casefile.Document) ([]*casefile.Person, []siblingCopy, error) {
	if s.cfg.Relationships == nil {
		return nil, nil, nil
	}
	rs, err := s.cfg.Relationships.Relationships(ctx, doc.PersonID)
	if err != nil {
		return nil, nil, err
	}
	var offer []*casefile.Person
	var filed []siblingCopy
	for _, r := range rs {
		if r.Kind != "sibling" || r.Person == nil || r.Person.Restricted || r.Person.Status != "active" {
			continue
		}
		dup, err := s.cfg.Ingest.Store.DuplicateOf(ctx, r.Person.ID, doc.SHA256)
		switch {
		case err == nil:
			filed = append(filed, siblingCopy{r.Person, dup.ID})
		case casefile.ErrorKind(err) == casefile.ENotFound:
			offer = append(offer, r.Person)
		default:
			return nil, nil, err
		}
	}
	return offer, filed, nil
}

// linkDocument files the email on a sibling's record as well (the API's
// POST /v1/documents/{id}/links), then shows it with a banner linking to
// the sibling's copy. A refusal comes back on the document page, in the
// policy's words.
func (s *Server) linkDocument(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("document"))
		return
	}
	to := strings.TrimSpace(r.PostFormValue("person_id"))
	var err error
	if to == "" {
		err = casefile.Errorf(casefile.EUnprocessable, "missing_person_id", "Choose the sibling whose record the email should also be on")
	} else if err = s.checkTarget(ctx, "document", id); err == nil && s.cfg.Access != nil {
		err = s.cfg.Access.CanAccessPerson(ctx, to)
	}
	var linked *casefile.Document
	if err == nil {
		linked, _, err = s.cfg.Ingest.Store.LinkDocument(ctx, id, to)
	}
	if err == nil {
		http.Redirect(w, r, "/documents/"+id+"?linked="+linked.ID, http.StatusSeeOther)
		return
	}
	if !refusal(err) {
		s.errorPage(w, r, c, err)
		return
	}
	p, perr := s.documentView(ctx, c, id)
	if perr != nil {
		s.errorPage(w, r, c, perr)
		return
	}
	d := p.Data.(documentData)
	d.LinkTo = to
	p.Data = d
	p.Errors = []fieldError{{"link-person", pageMessage(err)}}
	s.render(w, r, c, http.StatusUnprocessableEntity, "document", p)
}

// download sends the original bytes as an attachment, with the API's safe
// headers: a stored file never runs in our origin.
func (s *Server) download(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	id, ok := uuidOf(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, c, notFound("document"))
		return
	}
	if err := s.checkTarget(ctx, "document", id); err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	doc, err := s.cfg.Ingest.Store.OpenDocument(ctx, id)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	rc, size, err := s.cfg.OpenObject(ctx, doc.ObjectKey)
	if err != nil {
		s.errorPage(w, r, c, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", httpapi.SafeContentType(doc.ContentType))
	h.Set("Content-Disposition", ingest.ContentDisposition(doc.Filename))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("download interrupted", "document", doc.ID, "err", err)
	}
}
