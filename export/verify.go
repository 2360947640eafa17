package export

import (
	"archive/zip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Problem is one way a bundle differs from its manifest.
type Problem struct {
	Path string
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Report is the result of verifying a bundle.
type Report struct {
	Manifest *Manifest
	Files    int
	Problems []Problem
	// SignedBy is the id of the service's key whose signature over the
	// manifest holds; empty when it does not.
	SignedBy string
	// SHA256 is the sha256 of the whole bundle, as the export.build audit
	// event records it.
	SHA256 string
}

// OK reports whether every file matched.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks every file of a bundle against its manifest (each listed
// file present with the same size and sha256, nothing unlisted, no duplicate
// or unsafe names) and the manifest against its signature by one of keys,
// the service's public keys: a file edited with the manifest recomputed to
// match fails the signature. It returns an error only when the bundle cannot
// be read at all (not a zip, no manifest).
func Verify(r io.ReaderAt, size int64, keys []ed25519.PublicKey) (*Report, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	var mf, sf *zip.File
	entries := map[string]*zip.File{}
	rep := &Report{}
	for _, f := range zr.File {
		if f.Name == ManifestName && mf == nil {
			mf = f
			continue
		}
		if f.Name == SignatureName && sf == nil {
			sf = f
			continue
		}
		if _, dup := entries[f.Name]; dup {
			rep.Problems = append(rep.Problems, Problem{f.Name, "appears twice in the zip"})
		}
		if strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, "..") || strings.Contains(f.Name, "\\") {
			rep.Problems = append(rep.Problems, Problem{f.Name, "unsafe path"})
		}
		entries[f.Name] = f
	}
	if mf == nil {
		return nil, fmt.Errorf("no %s in the bundle", ManifestName)
	}
	raw, err := readEntry(mf, 64<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", ManifestName, err)
	}
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	var sig []byte
	if sf != nil {
		if sig, err = readEntry(sf, 64<<10); err != nil {
			rep.Problems = append(rep.Problems, Problem{SignatureName, "unreadable: " + err.Error()})
		}
	}
	if sf == nil || sig != nil {
		signer, problem := checkSignature(raw, sig, keys)
		rep.SignedBy = signer
		if problem != "" {
			rep.Problems = append(rep.Problems, Problem{SignatureName, problem})
		}
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %q, want %q", ManifestName, m.Format, Format)
	}
	rep.Manifest = &m
	listed := map[string]bool{}
	for _, want := range m.Files {
		if listed[want.Path] {
			rep.Problems = append(rep.Problems, Problem{want.Path, "listed twice in the manifest"})
			continue
		}
		listed[want.Path] = true
		f, ok := entries[want.Path]
		if !ok {
			rep.Problems = append(rep.Problems, Problem{want.Path, "listed in the manifest but missing from the bundle"})
			continue
		}
		rep.Files++
		sum, n, err := hashEntry(f)
		switch {
		case err != nil:
			rep.Problems = append(rep.Problems, Problem{want.Path, "unreadable: " + err.Error()})
		case n != want.Size:
			rep.Problems = append(rep.Problems, Problem{want.Path, fmt.Sprintf("size %d, manifest says %d", n, want.Size)})
		case sum != want.SHA256:
			rep.Problems = append(rep.Problems, Problem{want.Path, fmt.Sprintf("sha256 %s, manifest says %s", sum, want.SHA256)})
		}
	}
	var extra []string
	for name := range entries {
		if !listed[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		rep.Problems = append(rep.Problems, Problem{name, "in the bundle but not in the manifest"})
	}
	return rep, nil
}

func readEntry(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("larger than %d bytes", max)
	}
	return b, err
}

func hashEntry(f *zip.File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
