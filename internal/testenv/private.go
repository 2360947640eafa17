package testenv

import (
	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Process is a backing server of the test's own, which the test may stop and
// start again to see how casefile behaves while it is down.
type Process struct {
	t    testing.TB
	Addr string
	args []string
	cmd  *exec.Cmd
	// stopSignal is how Stop ends the process; SIGKILL (a crash) unless the
	// server needs an orderly stop to start again on the same data.
	stopSignal syscall.Signal
	// ready, when set, says whether the server answers beyond accepting
	// connections (PostgreSQL accepts them while it is still starting up).
	ready func() error
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// PrivateRedis starts a redis-server of the test's own on a free port.
func PrivateRedis(t testing.TB) *Process {
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (make services-up installs it): %v", err)
	}
	p := &Process{t: t, Addr: addr, args: []string{bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"}}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// S3Binary is the S3 server that make test starts (versitygw), for tests that
// need a server of their own.
func S3Binary(t testing.TB) string {
	if b := os.Getenv("CASEFILE_TEST_S3_BIN"); b != "" {
		return b
	}
	home, _ := os.UserHomeDir()
	b := filepath.Join(home, ".cache", "casefile", "bin", "versitygw")
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("no S3 server binary at %s (make services-up builds it; or set CASEFILE_TEST_S3_BIN): %v", b, err)
	}
	return b
}

// PrivateS3 starts an S3 server (versitygw, posix backend with versioning,
// so Object Lock works) of the test's own on a free port.
func PrivateS3(t testing.TB) *Process {
	addr := freePort(t)
	dir := t.TempDir()
	data, versions := filepath.Join(dir, "data"), filepath.Join(dir, "versions")
	for _, d := range []string{data, versions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := &Process{t: t, Addr: addr, args: []string{S3Binary(t), "--access", "casefile", "--secret", "casefile-dev-secret",
		"--keep-alive", "--port", addr, "posix", "--versioning-dir", versions, data}}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start starts the process and waits until its port accepts connections.
func (p *Process) Start() {
	p.t.Helper()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.args[0], err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			if p.ready == nil {
				return
			}
			if err = p.ready(); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			p.t.Fatalf("%s did not listen on %s: %v", filepath.Base(p.args[0]), p.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the process (as a crash or an outage would) and waits for it.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	sig := p.stopSignal
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-p.cmd.Process.Pid, sig) //nolint:errcheck
	p.cmd.Wait()                          //nolint:errcheck
	p.cmd = nil
	// Wait until the port is free again so that Start can bind it.
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", p.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Process) String() string { return fmt.Sprintf("%s on %s", filepath.Base(p.args[0]), p.Addr) }

// PrivatePostgres starts a PostgreSQL server of the test's own on a free
// port, with trust authentication, run as the postgres system user (the
// server refuses to run as root). Its URL names database "casefile".
func PrivatePostgres(t testing.TB) (*Process, string) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) == 0 {
		t.Fatalf("no PostgreSQL server binaries under /usr/lib/postgresql (make services-up installs them)")
	}
	bin := filepath.Dir(matches[len(matches)-1])
	dir, err := os.MkdirTemp("", "casefile-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var run []string
	if os.Geteuid() == 0 {
		if err := exec.Command("chown", "postgres:postgres", dir).Run(); err != nil {
			t.Fatalf("chown %s: %v", dir, err)
		}
		run = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	argv := append(append([]string{}, run...), filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
	initdb := exec.Command(argv[0], argv[1:]...)
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	args := append(append([]string{}, run...), filepath.Join(bin, "postgres"), "-D", data, "-p", port, "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+dir, "-c", "fsync=off")
	// SIGINT is PostgreSQL's fast shutdown: connections are cut at once, as
	// in an outage, and the server can start again on the same data.
	p := &Process{t: t, Addr: addr, args: args, stopSignal: syscall.SIGINT, ready: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", addr))
		if err != nil {
			return err
		}
		return c.Close(ctx)
	}}
	p.Start()
	t.Cleanup(p.Stop)
	return p, fmt.Sprintf("postgres://postgres@%s/casefile?sslmode=disable", addr)
}
