package disclosure

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/export"
)

// The bundle's layout. Entry names carry numbers and neutral words only,
// never a filename or anything else of the record's content:
//
//	notes/001.pdf ...          every case note, rendered, redactions burned in
//	documents/001.pdf ...      every email, and every document with a redaction, rendered
//	documents/002.docx ...     every other document not withheld: its original
//	withheld.pdf               the schedule of withheld documents and why
//	redaction-log.pdf          who redacted what where and why, never the text
//	disclosure.json            the schedule and the log, for machines
//	manifest.json, manifest.sig  as export bundles: `casefile export verify`
//
// An email is never given as its original: the .eml or .msg carries its
// attachments inside, and one of those may be withheld or redacted.

// extensions names an original's extension by its (sniffed) content type.
var extensions = map[string]string{
	"application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html", "text/csv": ".csv", "application/rtf": ".rtf",
	"application/msword": ".doc", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
	"application/vnd.ms-excel": ".xls", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
	"application/vnd.oasis.opendocument.text": ".odt", "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
	"image/tiff": ".tif", "application/zip": ".zip",
}

func extension(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if e, ok := extensions[mt]; ok && err == nil {
		return e
	}
	return ".bin"
}

// Schedule is disclosure.json: the withheld documents and the redactions,
// as the PDFs give them, for machines.
type Schedule struct {
	DisclosureID string           `json:"disclosure_id"`
	PersonID     string           `json:"person_id"`
	Purpose      string           `json:"purpose"`
	Withheld     []ScheduleEntry  `json:"withheld"`
	Redactions   []RedactionEntry `json:"redactions"`
}

// ScheduleEntry is one withheld document.
type ScheduleEntry struct {
	DocumentID  string    `json:"document_id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	AddedAt     time.Time `json:"added_at"`
	Reason      string    `json:"reason"`
	ReasonLabel string    `json:"reason_label"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// RedactionEntry is one redaction: where, why, who, when; not the text.
type RedactionEntry struct {
	TargetType  string    `json:"target_type"`
	TargetID    string    `json:"target_id"`
	Start       int       `json:"start"`
	End         int       `json:"end"`
	Reason      string    `json:"reason"`
	ReasonLabel string    `json:"reason_label"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// permanent marks a build error that cannot succeed by retrying.
type permanent struct{ error }

// write writes the bundle of a finalised disclosure to w.
func (s *Service) write(ctx context.Context, w io.Writer, src *casefile.DisclosureSource) (*export.Manifest, error) {
	disc := src.Disclosure
	its, err := items(ctx, src, s.Open)
	if err != nil {
		return nil, err
	}
	// Only what was reviewed goes out, as it was reviewed: an item added
	// since is left for another disclosure, one changed since fails the build.
	reviewed := map[string]string{}
	for _, r := range disc.Reviewed {
		reviewed[r.Type+"/"+r.ID] = r.TextSHA256
	}
	var out []*Item
	for _, it := range its {
		sum, ok := reviewed[it.Type+"/"+it.ID]
		if !ok {
			continue
		}
		// A withheld document's text is not disclosed: it may change (its
		// extraction finishing) without reason to review it again.
		if sum != it.TextSHA256() && it.Withheld == nil {
			return nil, permanent{fmt.Errorf("%s changed after the disclosure was finalised; return it to draft and review it again", it.Label())}
		}
		out = append(out, it)
	}
	at := s.now().UTC().Truncate(time.Second)
	by := disc.SubmittedBy
	for _, a := range disc.Approvals {
		by += ", approved by " + a.By
	}
	m := &export.Manifest{Format: export.Format, GeneratedAt: at, GeneratedBy: by, ExportID: disc.ID,
		Person: export.ManifestPerson{ID: src.Person.ID, ExternalRef: src.Person.ExternalRef, GivenName: src.Person.GivenName,
			FamilyName: src.Person.FamilyName, DateOfBirth: src.Person.DateOfBirth, DateOfDeath: src.Person.DateOfDeath},
		Files: []export.ManifestFile{}}
	if s.AuditHead != nil {
		if m.Audit.Seq, m.Audit.Hash, err = s.AuditHead(ctx); err != nil {
			return nil, err
		}
	}
	zw := zip.NewWriter(w)
	sched := Schedule{DisclosureID: disc.ID, PersonID: disc.PersonID, Purpose: disc.Purpose, Withheld: []ScheduleEntry{}, Redactions: []RedactionEntry{}}
	var withheld []*Item
	notes, docs := 0, 0
	for _, it := range out {
		for _, r := range it.Redactions {
			sched.Redactions = append(sched.Redactions, RedactionEntry{TargetType: r.TargetType, TargetID: r.TargetID, Start: r.Start,
				End: r.End, Reason: r.Reason, ReasonLabel: s.ReasonLabel(r.Reason), By: r.By, At: r.At})
		}
		switch {
		case it.Type == casefile.ItemNote:
			notes++
			err = export.WriteFile(zw, m, export.ManifestFile{Path: fmt.Sprintf("notes/%03d.pdf", notes), Kind: "note", NoteID: it.ID,
				ContentType: "application/pdf"}, func(w io.Writer) error { return s.renderItem(w, it, disc.ID, at) })
		case it.Withheld != nil:
			withheld = append(withheld, it)
			sched.Withheld = append(sched.Withheld, ScheduleEntry{DocumentID: it.ID, Kind: it.Kind, ContentType: it.ContentType,
				AddedAt: it.Date, Reason: it.Withheld.Reason, ReasonLabel: s.ReasonLabel(it.Withheld.Reason), By: it.Withheld.By, At: it.Withheld.At})
		case it.Kind == casefile.DocumentEmail || len(it.Redactions) > 0:
			docs++
			err = export.WriteFile(zw, m, export.ManifestFile{Path: fmt.Sprintf("documents/%03d.pdf", docs), Kind: "rendering",
				DocumentID: it.ID, ParentID: it.ParentID, ContentType: "application/pdf"},
				func(w io.Writer) error { return s.renderItem(w, it, disc.ID, at) })
		default:
			docs++
			err = export.WriteFile(zw, m, export.ManifestFile{Path: fmt.Sprintf("documents/%03d%s", docs, extension(it.ContentType)),
				Kind: "document", DocumentID: it.ID, ParentID: it.ParentID, Filename: it.doc.Filename, ContentType: it.ContentType},
				func(w io.Writer) error { return s.copyOriginal(ctx, w, it.doc) })
		}
		if err != nil {
			return nil, err
		}
	}
	if err := export.WriteFile(zw, m, export.ManifestFile{Path: "withheld.pdf", Kind: "schedule", ContentType: "application/pdf"},
		func(w io.Writer) error { return s.renderSchedule(w, disc.ID, withheld, at) }); err != nil {
		return nil, err
	}
	if err := export.WriteFile(zw, m, export.ManifestFile{Path: "redaction-log.pdf", Kind: "log", ContentType: "application/pdf"},
		func(w io.Writer) error { return s.renderLog(w, disc.ID, out, at) }); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(sched, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := export.WriteFile(zw, m, export.ManifestFile{Path: "disclosure.json", Kind: "log", ContentType: "application/json"},
		func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(append(js, '\n'))); return err }); err != nil {
		return nil, err
	}
	return m, export.Seal(ctx, zw, m, s.SigningKey)
}

// copyOriginal copies a document's stored bytes, checking they are still
// the bytes received.
func (s *Service) copyOriginal(ctx context.Context, w io.Writer, d *casefile.Document) error {
	rc, err := s.Open(ctx, d.ObjectKey)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), rc)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 || n != d.Size {
		return permanent{fmt.Errorf("document %s: stored object has sha256 %s (%d bytes), the record says %s (%d bytes)", d.ID, got, n, d.SHA256, d.Size)}
	}
	return nil
}

// Payload is the task payload of casefile.TaskDisclosureBuild.
type Payload struct {
	DisclosureID string `json:"disclosure_id"`
}

// Handle builds a finalised disclosure's bundle into the object store
// through a pipe (bounded memory), and records it ready, or failed. It is
// idempotent: a disclosure not finalising is left as it is.
func (s *Service) Handle(ctx context.Context, payload []byte) error {
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil || p.DisclosureID == "" {
		return casefile.Errorf(casefile.EInvalid, "invalid_payload", "disclosure task payload: %s", payload)
	}
	src, err := s.Store.StartDisclosureBuild(ctx, p.DisclosureID)
	if k := casefile.ErrorKind(err); k == casefile.EConflict || k == casefile.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	id := src.Disclosure.ID
	key := "disclosures/" + id + ".zip"
	pr, pw := io.Pipe()
	var writeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, writeErr = s.write(ctx, pw, src)
		pw.CloseWithError(writeErr)
	}()
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(pr, h)}
	err = s.Put(ctx, key, cr)
	pr.CloseWithError(err)
	<-done
	if _, ok := writeErr.(permanent); ok {
		return s.Store.FinishDisclosureBuild(context.WithoutCancel(ctx), id, "", 0, "", writeErr.Error())
	}
	if writeErr != nil && err == nil {
		err = writeErr
	}
	if err != nil {
		final := s.FinalAttempt != nil && s.FinalAttempt(ctx)
		if ctx.Err() != nil || !final {
			return err // retried by the queue
		}
		return s.Store.FinishDisclosureBuild(context.WithoutCancel(ctx), id, "", 0, "", "gave up after repeated attempts: "+err.Error())
	}
	return s.Store.FinishDisclosureBuild(ctx, id, key, cr.n, hex.EncodeToString(h.Sum(nil)), "")
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
