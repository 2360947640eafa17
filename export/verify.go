package export

import (
	"archive/zip"
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
}

// OK reports whether every file matched.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks every file of a bundle against its manifest: each listed file
// present with the same size and sha256, nothing unlisted, no duplicate or
// unsafe names. It returns an error only when the bundle cannot be read at
// all (not a zip, no manifest).
func Verify(r io.ReaderAt, size int64) (*Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	var mf *zip.File
	entries := map[string]*zip.File{}
	rep := &Report{}
	for _, f := range zr.File {
		if f.Name == ManifestName {
			mf = f
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
	rc, err := mf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	var m Manifest
	err = json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&m)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", ManifestName, err)
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
