// Package export builds a person's disclosure bundle: a zip of every active
// document's original bytes, a chronology of the notes (HTML and PDF), and a
// manifest giving each file's size and sha256, so that whoever receives the
// bundle (the person, under a subject access request, or a court) can check
// it is complete and unaltered.
//
// The bundle is written as a stream: nothing is held whole in memory, so a
// record of many gigabytes exports within a small, fixed amount of memory.
package export

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/council/casefile"
)

// Format names the bundle layout; verify refuses bundles of other formats.
const Format = "casefile-export/1"

// ManifestName is the manifest's path in the zip; it is written after every
// file it describes, followed only by its signature (SignatureName).
const ManifestName = "manifest.json"

// Manifest describes a bundle.
type Manifest struct {
	Format      string         `json:"format"`
	Person      ManifestPerson `json:"person"`
	GeneratedAt time.Time      `json:"generated_at"`
	GeneratedBy string         `json:"generated_by"`
	ExportID    string         `json:"export_id"`
	Audit       ManifestAudit  `json:"audit"`
	Files       []ManifestFile `json:"files"`
}

// ManifestPerson identifies whose record this is.
type ManifestPerson struct {
	ID          string         `json:"id"`
	ExternalRef string         `json:"external_ref"`
	GivenName   string         `json:"given_name"`
	FamilyName  string         `json:"family_name"`
	DateOfBirth *casefile.Date `json:"date_of_birth"`
	DateOfDeath *casefile.Date `json:"date_of_death,omitempty"`
}

// ManifestAudit pins the audit log as it stood when the bundle was made.
type ManifestAudit struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// ManifestFile is one file of the bundle.
type ManifestFile struct {
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Kind        string `json:"kind"` // chronology, document; a disclosure's: note, document, rendering, schedule, log
	NoteID      string `json:"note_id,omitempty"`
	DocumentID  string `json:"document_id,omitempty"`
	ParentID    string `json:"parent_id,omitempty"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// OpenObject opens a stored original by its object key.
type OpenObject func(ctx context.Context, key string) (io.ReadCloser, error)

// Builder writes bundles.
type Builder struct {
	Source casefile.ExportSource
	Open   OpenObject
	Now    func() time.Time
	// FontDir holds the PDF chronology's Unicode fonts (DefaultFontDir
	// when empty; see pdfFonts).
	FontDir string
	// SigningKey returns the key that signs the manifest (manifest.sig);
	// nil leaves bundles unsigned, which verify refuses.
	SigningKey func(ctx context.Context) (ed25519.PrivateKey, error)
}

// Write writes the bundle of person personID to w and returns its manifest.
func (b *Builder) Write(ctx context.Context, w io.Writer, exportID, personID, generatedBy string) (*Manifest, error) {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	p, err := b.Source.ExportPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	seq, hash, err := b.Source.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Format: Format, GeneratedAt: now().UTC().Truncate(time.Second), GeneratedBy: generatedBy, ExportID: exportID,
		Person: ManifestPerson{ID: p.ID, ExternalRef: p.ExternalRef, GivenName: p.GivenName, FamilyName: p.FamilyName,
			DateOfBirth: p.DateOfBirth, DateOfDeath: p.DateOfDeath},
		Audit: ManifestAudit{Seq: seq, Hash: hash},
		Files: []ManifestFile{},
	}
	zw := zip.NewWriter(w)

	var notes []*casefile.ExportNote
	if err := b.Source.ExportNotes(ctx, personID, func(n *casefile.ExportNote) error {
		notes = append(notes, n)
		return nil
	}); err != nil {
		return nil, err
	}
	chron := buildChronology(m, notes)
	if err := writeFile(zw, m, ManifestFile{Path: "chronology.html", Kind: "chronology", ContentType: "text/html"},
		func(w io.Writer) error { return renderHTML(w, chron) }); err != nil {
		return nil, err
	}
	if err := writeFile(zw, m, ManifestFile{Path: "chronology.pdf", Kind: "chronology", ContentType: "application/pdf"},
		func(w io.Writer) error { return renderPDF(w, chron, cmp.Or(b.FontDir, DefaultFontDir)) }); err != nil {
		return nil, err
	}

	// Documents: each top-level document gets a numbered name; attachments
	// go in a folder beside their parent, so that names are unique and
	// an email's attachments sit next to it.
	paths := map[string]string{}
	children := map[string]int{}
	top := 0
	err = b.Source.ExportDocuments(ctx, personID, func(d *casefile.Document) error {
		var p string
		if d.ParentID == nil {
			top++
			p = fmt.Sprintf("documents/%03d-%s", top, SafeName(d.Filename, d.ID))
		} else {
			parent, ok := paths[*d.ParentID]
			if !ok {
				return fmt.Errorf("export: attachment %s came before its parent %s", d.ID, *d.ParentID)
			}
			children[*d.ParentID]++
			p = fmt.Sprintf("%s.attachments/%02d-%s", parent, children[*d.ParentID], SafeName(d.Filename, d.ID))
		}
		paths[d.ID] = p
		f := ManifestFile{Path: p, Kind: "document", DocumentID: d.ID, Filename: d.Filename, ContentType: d.ContentType}
		if d.ParentID != nil {
			f.ParentID = *d.ParentID
		}
		return writeFile(zw, m, f, func(w io.Writer) error {
			rc, err := b.Open(ctx, d.ObjectKey)
			if err != nil {
				return err
			}
			defer rc.Close()
			h := sha256.New()
			n, err := io.Copy(io.MultiWriter(w, h), rc)
			if err != nil {
				return err
			}
			// The stored bytes must still be the bytes that were received.
			if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 || n != d.Size {
				return fmt.Errorf("export: document %s: stored object has sha256 %s (%d bytes), the record says %s (%d bytes)",
					d.ID, got, n, d.SHA256, d.Size)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := Seal(ctx, zw, m, b.SigningKey); err != nil {
		return nil, err
	}
	return m, nil
}

// Seal ends a bundle: the manifest (every file written before it) and, when
// signingKey is set, its signature, then the zip's central directory.
func Seal(ctx context.Context, zw *zip.Writer, m *Manifest, signingKey func(ctx context.Context) (ed25519.PrivateKey, error)) error {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	manifest = append(manifest, '\n')
	entries := []struct {
		name string
		body []byte
	}{{ManifestName, manifest}}
	if signingKey != nil {
		key, err := signingKey(ctx)
		if err != nil {
			return fmt.Errorf("export: the manifest's signing key: %w", err)
		}
		sig, err := json.Marshal(Sign(key, manifest))
		if err != nil {
			return err
		}
		entries = append(entries, struct {
			name string
			body []byte
		}{SignatureName, sig})
	}
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: m.GeneratedAt})
		if err != nil {
			return err
		}
		if _, err := w.Write(e.body); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteFile adds one file to a bundle's zip, recording its size and sha256
// in m. Documents' originals are stored as they are; the rest deflated.
func WriteFile(zw *zip.Writer, m *Manifest, f ManifestFile, body func(io.Writer) error) error {
	return writeFile(zw, m, f, body)
}

// writeFile adds one file to the zip, recording its size and sha256.
func writeFile(zw *zip.Writer, m *Manifest, f ManifestFile, body func(io.Writer) error) error {
	method := zip.Deflate
	if f.Kind == "document" {
		method = zip.Store // originals are often compressed already; keep them as they are
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Path, Method: method, Modified: m.GeneratedAt})
	if err != nil {
		return err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	if err := body(cw); err != nil {
		return err
	}
	f.Size = cw.n
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	m.Files = append(m.Files, f)
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// SafeName turns a stored filename into a portable zip entry name: no
// folders, no control or bidirectional-override characters, nothing but
// letters, digits, dot, dash and underscore, at most 100 bytes.
func SafeName(name, fallback string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		case strings.HasSuffix(b.String(), "_"):
			// one underscore stands for a run of anything else
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "._")
	if s == "" {
		s = "document-" + fallback
	}
	if len(s) > 100 {
		ext := path.Ext(s)
		if len(ext) > 10 {
			ext = ""
		}
		s = s[:100-len(ext)] + ext
	}
	return s
}
