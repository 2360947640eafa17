package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultSpoolDir is where large emails are spooled for parsing (.msg needs
// random access) when no directory is configured: a directory of casefile's
// own, so that cleaning it at start touches nothing else.
func DefaultSpoolDir() string { return filepath.Join(os.TempDir(), "casefile-spool") }

// spoolFile creates a temporary file in dir and unlinks it at once: the open
// file stays readable and writable for as long as it is open, and its bytes
// (a whole email) are gone when it is closed or the process dies, crash or
// not. Nothing is ever left behind on disk under a name.
func spoolFile(dir string) (*os.File, error) {
	if dir == "" {
		dir = DefaultSpoolDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool for parsing: %w", err)
	}
	f, err := os.CreateTemp(dir, "msg-*")
	if err != nil {
		return nil, fmt.Errorf("spool for parsing: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool for parsing: unlink: %w", err)
	}
	return f, nil
}

// PrepareSpool removes whatever is in dir (spool files that a process on a
// system that cannot unlink open files, or an older version, left behind)
// and makes it casefile's user's only; a dir that does not exist yet is
// left so (spoolFile makes it, mode 0700, when an email first needs it). It
// returns how many entries it removed. Call it at start.
func PrepareSpool(dir string) (int, error) {
	if dir == "" {
		dir = DefaultSpoolDir()
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return 0, fmt.Errorf("spool directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("spool directory %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, fmt.Errorf("spool directory %s: %w", dir, err)
		}
		n++
	}
	return n, nil
}
