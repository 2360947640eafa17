package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// run runs a program (pdftotext, pdftoppm, tesseract) in dir with the
// limits: at most Procs at once, under the document's deadline, killed
// with its children when that passes, within an address space of Memory
// bytes and CPU time of Timeout (prlimit), writing files of at most 256 MiB,
// and with its output to stdout kept up to out's limit (the rest is read
// and dropped, so the program is never blocked on a full pipe).
func (e *Extractor) run(ctx context.Context, dir string, stdout io.Writer, name string, args ...string) error {
	select {
	case e.procs <- struct{}{}:
		defer func() { <-e.procs }()
	case <-ctx.Done():
		return ctx.Err()
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s is not installed here (scripts/services.sh installs it)", name)
	}
	argv := append([]string{bin}, args...)
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		argv = append([]string{prlimit, "--as=" + strconv.FormatInt(e.lim.Memory, 10),
			"--cpu=" + strconv.Itoa(int(e.lim.Timeout/time.Second)+1), "--fsize=" + strconv.Itoa(256<<20), "--core=0", "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	// One thread each: the workers' concurrency is what runs in parallel.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "OMP_THREAD_LIMIT=1", "LC_ALL=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr capped
	stderr.max = 2048
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil && outOfMemory(stderr.String()) {
		// poppler says so and exits 0, having written nothing of use.
		return fmt.Errorf("%s ran out of memory on this file (the limit is %d MiB, CASEFILE_EXTRACT_MEMORY_MB)", name, e.lim.Memory>>20)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ProcessState != nil {
			if ws, ok := ee.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return fmt.Errorf("%s stopped on this file (%v; the memory limit is %d MiB, CASEFILE_EXTRACT_MEMORY_MB)", name, ws.Signal(), e.lim.Memory>>20)
			}
		}
		return fmt.Errorf("%s could not read this file (%v: %s)", name, err, firstLine(stderr.String()))
	}
	return nil
}

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	bytes.Buffer
	max int
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(room, len(p))])
	}
	if len(p) > c.max-c.Len() {
		c.cut = true
	}
	return len(p), nil
}

func outOfMemory(stderr string) bool {
	return strings.Contains(stderr, "Out of memory") || strings.Contains(stderr, "Bogus memory allocation")
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return clip(l, 200)
		}
	}
	return "no message"
}
