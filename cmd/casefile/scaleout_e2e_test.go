package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/council/casefile"
)

// proc is one casefile process (this test binary acting as casefile).
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startProc starts `casefile ARGS...` as a process of its own with env.
func startProc(t *testing.T, name string, env map[string]string, args ...string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CASEFILE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{name: name, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }() //nolint:errcheck // the exit is read from ProcessState
	t.Cleanup(func() {
		p.stop(t)
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector reported a data race:\n%s", name, p.out.String())
		} else if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to stop (SIGTERM) and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("%s stopped with %v", p.name, p.cmd.ProcessState)
		}
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck
		<-p.done
		t.Errorf("%s did not stop within 60 s of SIGTERM", p.name)
	}
}

// kill ends the process at once, as a crash or an OOM kill would.
func (p *proc) kill() {
	p.cmd.Process.Kill() //nolint:errcheck
	<-p.done
}

// tasksDone counts the "task done" log lines of a task type.
func (p *proc) tasksDone(typ string) int {
	n := 0
	for _, line := range strings.Split(p.out.String(), "\n") {
		var l struct{ Msg, Type string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "task done" && l.Type == typ {
			n++
		}
	}
	return n
}

func waitHealthy(t *testing.T, p *proc, base string) {
	t.Helper()
	eventually(t, 60*time.Second, p.name+" answers /healthz", func() bool {
		if p.exited() {
			t.Fatalf("%s exited:\n%s", p.name, p.out.String())
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// tryUpload uploads without failing the test: the server may be killed while
// it answers. It returns the status and body, or the transport error.
func tryUpload(base, personID, token, filename string, body []byte) (int, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", filename)
	w.Write(body) //nolint:errcheck
	mw.Close()
	req, err := http.NewRequest("POST", base+"/v1/persons/"+personID+"/documents", &buf)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestScaleOutServeAndWorkerProcesses runs casefile as two `serve` and two
// `worker` processes on one PostgreSQL, Redis and S3, as docs/scaling.md
// describes: identical uploads through both servers make one document, a
// ticket approved on one server is carried out once, the scheduled tasks run
// once a tick whichever worker fires them, and killing a server and a worker
// mid-work loses nothing that was acknowledged.
func TestScaleOutServeAndWorkerProcesses(t *testing.T) {
	t.Parallel()
	env := testEnv(t, map[string]string{
		// Every minute, so that both workers' schedulers fire the same ticks while the test runs.
		"CASEFILE_RETENTION_CRON": "* * * * *",
		"CASEFILE_RECONCILE_CRON": "* * * * *",
		"CASEFILE_LOG_LEVEL":      "info",
	})
	operator := &service{t: t, env: env}
	if out, err := operator.cli("migrate"); err != nil {
		t.Fatalf("migrate: %v: %s", err, out)
	}
	admin, prac, ict := operator.token("admin"), operator.token("practitioner"), operator.token("ict")

	procsStarted := time.Now()
	envB := maps.Clone(env)
	envB["CASEFILE_HTTP_ADDR"] = freeAddr(t)
	serveA := startProc(t, "serve A", env, "serve")
	serveB := startProc(t, "serve B", envB, "serve")
	worker1 := startProc(t, "worker 1", env, "worker")
	worker2 := startProc(t, "worker 2", env, "worker")
	a := &service{t: t, Base: "http://" + env["CASEFILE_HTTP_ADDR"], Admin: admin, env: env}
	b := &service{t: t, Base: "http://" + envB["CASEFILE_HTTP_ADDR"], Admin: admin, env: envB}
	waitHealthy(t, serveA, a.Base)
	waitHealthy(t, serveB, b.Base)

	// Identical uploads sent at once through both servers make one document.
	pid := a.person("SCALE-1", "2012-05-01")
	email := []byte("From: School <office@school.example.org>\r\nTo: duty@council.example.gov.uk\r\n" +
		"Subject: Attendance\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\nAbsent again today.\r\n")
	statuses := make([]int, 10)
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range statuses {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body, err := tryUpload(srv.Base, pid, prac, "attendance.eml", email)
			if err != nil {
				t.Errorf("upload %d: %v", i, err)
				return
			}
			statuses[i] = st
			var d struct{ ID string }
			json.Unmarshal(body, &d) //nolint:errcheck
			ids[i] = d.ID
		}()
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch {
		case st == 201:
			created++
		case st != 200:
			t.Fatalf("upload %d through both servers: status %d", i, st)
		}
		if ids[i] != ids[0] {
			t.Fatalf("identical uploads became different documents: %v", ids)
		}
	}
	if listed := b.must(200, "GET", "/v1/persons/"+pid+"/documents", prac, nil)["items"].([]any); created != 1 || len(listed) != 1 {
		t.Fatalf("10 identical uploads through two servers: %d created, %d listed", created, len(listed))
	}
	if n := a.objectVersions(t, "documents/"); n != 1 {
		t.Fatalf("10 identical uploads through two servers: %d objects stored for one document", n)
	}

	// A ticket raised on one server and approved on the other is carried out once.
	tk := a.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document",
		"target_id": ids[0], "reason": "Filed on the wrong child's record"})
	b.must(202, "POST", "/v1/tickets/"+tk["id"].(string)+"/approve", ict, nil)
	if st := a.waitTicket(t, ict, tk["id"].(string)); st["state"] != "done" {
		t.Fatalf("ticket approved through server B: %v", st)
	}
	time.Sleep(2 * time.Second) // time for a second delivery, were there one
	if acts := auditActions(a, pid); acts["document.remove"] != 1 || acts["ticket.done"] != 1 {
		t.Fatalf("a ticket carried out by two workers: %v", acts)
	}

	// The scheduled tasks run once a tick, although both workers' schedulers
	// fire every tick: wait for a whole minute after both started and for
	// what it enqueued to run. The first tick may have come before either
	// scheduler was up, so one fewer run than ticks is allowed; a tick run
	// twice makes one more than there have been ticks.
	first := procsStarted.Truncate(time.Minute).Add(time.Minute)
	ticksSince := func() int { return int(time.Now().Truncate(time.Minute).Sub(first)/time.Minute) + 1 }
	time.Sleep(time.Until(first.Add(2 * time.Second)))
	want := ticksSince()
	runs := func(typ string) int { return worker1.tasksDone(typ) + worker2.tasksDone(typ) }
	for _, typ := range []string{casefile.TaskRetentionSweep, casefile.TaskStorageReconcile} {
		eventually(t, 90*time.Second, typ+" run at the tick", func() bool { return runs(typ) >= want-1 && runs(typ) >= 1 })
	}
	time.Sleep(3 * time.Second) // time for a second scheduler's copy of the tick to run, were it enqueued
	for _, typ := range []string{casefile.TaskRetentionSweep, casefile.TaskStorageReconcile} {
		if n, ticks := runs(typ), ticksSince(); n > ticks {
			t.Errorf("%s ran %d times in %d ticks of two schedulers", typ, n, ticks)
		}
	}

	// Killing a server mid-work loses nothing it acknowledged: every upload it
	// answered 201 is whole through the other server, and nothing half-kept shows.
	pid2 := a.person("SCALE-2", "2013-06-02")
	type sent struct {
		body []byte
		id   string
	}
	var mu sync.Mutex
	var acked []sent
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := []byte(fmt.Sprintf("From: Health visitor <hv%d@nhs.example>\r\nSubject: Visit %d-%d\r\n\r\n%s\r\n",
					g, g, i, strings.Repeat(fmt.Sprintf("Visit note %d-%d. ", g, i), 2000)))
				st, resp, err := tryUpload(a.Base, pid2, prac, fmt.Sprintf("visit-%d-%d.eml", g, i), body)
				if err != nil {
					return // the server went away: not acknowledged
				}
				if st == 201 {
					var d struct{ ID string }
					json.Unmarshal(resp, &d) //nolint:errcheck
					mu.Lock()
					acked = append(acked, sent{body, d.ID})
					mu.Unlock()
				}
			}
		}()
	}
	eventually(t, 60*time.Second, "uploads acknowledged through server A", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 12
	})
	serveA.kill()
	close(stop)
	wg.Wait()
	for _, s := range acked {
		r := b.do("GET", "/v1/documents/"+s.id+"/content", prac, nil)
		if r.Status != 200 || !bytes.Equal(r.Body, s.body) {
			t.Fatalf("upload %s acknowledged before server A was killed: %d, %d bytes", s.id, r.Status, len(r.Body))
		}
	}
	docs := b.must(200, "GET", "/v1/persons/"+pid2+"/documents?limit=500", prac, nil)["items"].([]any)
	for _, d := range docs {
		id := d.(map[string]any)["id"].(string)
		if r := b.do("GET", "/v1/documents/"+id+"/content", prac, nil); r.Status != 200 || sha(r.Body) != d.(map[string]any)["sha256"] {
			t.Fatalf("document %s listed after the kill is not whole: %d", id, r.Status)
		}
	}
	if len(docs) < len(acked) {
		t.Fatalf("%d uploads acknowledged, %d documents on the record", len(acked), len(docs))
	}

	// Killing a worker mid-work loses no ticket: the other worker carries out
	// what the dead one held, each exactly once.
	var tickets []string
	for _, s := range acked[:8] {
		tk := b.must(201, "POST", "/v1/tickets", prac, map[string]any{"kind": "removal", "target_type": "document",
			"target_id": s.id, "reason": "Belongs to another family"})
		tickets = append(tickets, tk["id"].(string))
	}
	for _, id := range tickets {
		b.must(202, "POST", "/v1/tickets/"+id+"/approve", ict, nil)
	}
	worker1.kill()
	for _, id := range tickets {
		var st map[string]any
		eventually(t, 3*time.Minute, "ticket "+id+" carried out after worker 1 was killed", func() bool {
			st = b.must(200, "GET", "/v1/tickets/"+id, ict, nil)
			return st["state"] != "approved"
		})
		if st["state"] != "done" {
			t.Fatalf("ticket after the worker was killed: %v", st)
		}
	}
	if acts := auditActions(b, pid2); acts["document.remove"] != len(tickets) || acts["ticket.done"] != len(tickets) {
		t.Fatalf("%d tickets after a worker was killed: %v", len(tickets), acts)
	}

}
