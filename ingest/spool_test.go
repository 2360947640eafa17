package ingest_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/council/casefile/ingest"
)

// A process that dies while an email is spooled for parsing leaves nothing
// of it on disk: the spool file has no name from the moment it is made.
// The child process spools an email and is killed (SIGKILL) mid-parse.
func TestSpooledEmailLeavesNothingAfterACrash(t *testing.T) {
	if dir := os.Getenv("CASEFILE_SPOOL_CHILD"); dir != "" {
		f, err := ingest.SpoolFile(dir)
		if err != nil {
			os.Exit(3)
		}
		if _, err := f.WriteString(strings.Repeat("From: head@school.example.org\r\nSubject: Amy\r\n", 1000)); err != nil {
			os.Exit(4)
		}
		os.Stdout.WriteString("spooled\n")
		select {} // killed here, file open
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpooledEmailLeavesNothingAfterACrash$")
	cmd.Env = append(os.Environ(), "CASEFILE_SPOOL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "spooled\n" {
		t.Fatalf("child did not spool: %q %v", buf, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("a crash left %d spooled file(s) behind: %s", len(left), left[0].Name())
	}
}

// The spool file works while open, and the spool directory is cleaned at
// start of anything an older process left, and is casefile's user's only.
func TestSpoolFileAndPrepareSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	if n, err := ingest.PrepareSpool(dir); err != nil || n != 0 {
		t.Fatal(n, err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("PrepareSpool made the directory before any email needed it")
	}
	f, err := ingest.SpoolFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("hello"); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "hello" {
		t.Fatalf("read back %q %v", b, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the open spool file has a name in the directory: %v", left[0].Name())
	}
	if err := os.WriteFile(filepath.Join(dir, "msg-left-by-old"), []byte("From: x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := ingest.PrepareSpool(dir)
	if err != nil || n != 1 {
		t.Fatalf("PrepareSpool removed %d, %v; want 1", n, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left after PrepareSpool: %v", left)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("spool directory mode %v %v", st.Mode().Perm(), err)
	}
}
