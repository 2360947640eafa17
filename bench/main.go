// Command bench measures casefile against the same S3 server the service
// uses, and prints its figures:
//
//   - ingest throughput of a mixed email set through the HTTP API at
//     concurrency 8, beside raw minio-go PutObject of the same bytes;
//   - the server's peak RSS while it receives a 1 GiB upload;
//   - the retention purge rate beside raw S3 batch delete;
//   - the server's peak RSS while it exports a 2 GiB record.
//
// It starts its own `casefile run` (built from ./cmd/casefile) on a fresh
// database and bucket. Run it with `make bench` (services up first).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

var (
	rounds     = flag.Int("rounds", 6, "times the email corpus is uploaded (each round to new persons)")
	bigMiB     = flag.Int("big-mib", 1024, "size of the large upload in MiB")
	purgeDocs  = flag.Int("purge-docs", 20000, "documents in the purge benchmark")
	exportMiB  = flag.Int("export-mib", 2048, "size of the record exported, in MiB (0 to skip)")
	skipIngest = flag.Bool("skip-ingest", false, "skip the ingest figures")
	cpuProfile = flag.String("cpuprofile", "", "write the server's CPU profile during the API ingest to this file (go tool pprof reads it)")
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type server struct {
	base, token string
	pprof       string
	cmd         *exec.Cmd
	env         []string
	dbURL       string
	bucket      string
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	// Eight workers keep eight connections open, as minio-go does for the raw figures.
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 16
	s, err := start()
	if err != nil {
		return err
	}
	defer s.stop()
	mc, err := minio.New(env("CASEFILE_TEST_S3_ENDPOINT", "127.0.0.1:9000"), &minio.Options{
		Creds: credentials.NewStaticV4(env("CASEFILE_TEST_S3_ACCESS_KEY", "casefile"), env("CASEFILE_TEST_S3_SECRET_KEY", "casefile-dev-secret"), "")})
	if err != nil {
		return err
	}
	fmt.Printf("casefile bench (%s)\n", time.Now().UTC().Format(time.RFC3339))
	if !*skipIngest {
		if err := benchIngest(ctx, s, mc); err != nil {
			return err
		}
		if err := benchBigUpload(s); err != nil {
			return err
		}
	}
	if *purgeDocs > 0 {
		if err := benchPurge(ctx, s, mc); err != nil {
			return err
		}
	}
	if *exportMiB > 0 {
		if err := benchExport(s); err != nil {
			return err
		}
	}
	return nil
}

func start() (*server, error) {
	dir, err := os.MkdirTemp("", "casefile-bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "casefile")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/casefile").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v\n%s", err, out)
	}
	addr, pprofAddr := freeAddr(), freeAddr()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := &server{base: "http://" + addr, pprof: "http://" + pprofAddr, bucket: "bench-" + suffix,
		dbURL: "postgres://postgres@127.0.0.1:5432/casefile_bench_" + suffix + "?sslmode=disable"}
	s.env = append(os.Environ(),
		"CASEFILE_HTTP_ADDR="+addr, "CASEFILE_DATABASE_URL="+s.dbURL, "CASEFILE_S3_BUCKET="+s.bucket,
		"CASEFILE_S3_ENDPOINT="+env("CASEFILE_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		"CASEFILE_S3_ACCESS_KEY="+env("CASEFILE_TEST_S3_ACCESS_KEY", "casefile"),
		"CASEFILE_S3_SECRET_KEY="+env("CASEFILE_TEST_S3_SECRET_KEY", "casefile-dev-secret"),
		"CASEFILE_WORKER_QUEUE=bench-"+suffix, "CASEFILE_MAX_UPLOAD_BYTES="+strconv.Itoa(4<<30),
		"CASEFILE_RETENTION_CRON=off", "CASEFILE_RECONCILE_CRON=off", "CASEFILE_RETENTION_SETTLE_DAYS=0", "CASEFILE_LOG_LEVEL=warn", "CASEFILE_PPROF_ADDR="+pprofAddr)
	s.cmd = exec.Command(bin, "run")
	s.cmd.Env = s.env
	var out bytes.Buffer
	s.cmd.Stdout = &out
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 300 {
			return nil, fmt.Errorf("casefile did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	s.token = lines[len(lines)-1]
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt) //nolint:errcheck
	s.cmd.Wait()                       //nolint:errcheck
	// The bench's database goes; its bucket stays under Object Lock until
	// its objects' retention lapses (`make clean` removes the local server's data).
	ctx := context.Background()
	if c, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"); err == nil {
		name := s.dbURL[strings.LastIndex(s.dbURL, "/")+1 : strings.Index(s.dbURL, "?")]
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
		c.Close(ctx)
	}
}

// vmHWM is the server's peak resident set size in MiB.
func (s *server) vmHWM() float64 { return s.status("VmHWM:") }

// vmRSS is the server's resident set size now, in MiB.
func (s *server) vmRSS() float64 { return s.status("VmRSS:") }

// status reads a size field of the server's /proc status, in MiB.
func (s *server) status(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return -1
}

// resetHWM resets the peak RSS counter (Linux: write 5 to clear_refs).
func (s *server) resetHWM() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0) //nolint:errcheck
}

func (s *server) call(method, path string, body io.Reader, size int64, ct string) (map[string]any, int, error) {
	req, _ := http.NewRequest(method, s.base+path, body)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if size >= 0 {
		req.ContentLength = size
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m) //nolint:errcheck
	if resp.StatusCode >= 300 {
		return m, resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return m, resp.StatusCode, nil
}

func (s *server) person(ref, dob string) (string, error) {
	b, _ := json.Marshal(map[string]string{"external_ref": ref, "given_name": "Bench", "family_name": ref, "date_of_birth": dob})
	m, _, err := s.call("POST", "/v1/persons", bytes.NewReader(b), int64(len(b)), "application/json")
	if err != nil {
		return "", err
	}
	return m["id"].(string), nil
}

type mail struct {
	name, ctype string
	body        []byte
}

func corpus() ([]mail, error) {
	var out []mail
	err := filepath.WalkDir("ingest/testdata/enmime/mail", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".raw") {
			b, err := os.ReadFile(p)
			if err == nil && len(b) > 0 {
				out = append(out, mail{filepath.Base(p), "message/rfc822", b})
			}
		}
		return nil
	})
	msgs, _ := filepath.Glob("ingest/msg/testdata/*.msg")
	for _, p := range msgs {
		if b, err := os.ReadFile(p); err == nil && !strings.Contains(p, "clusterfuzz") {
			out = append(out, mail{filepath.Base(p), "application/vnd.ms-outlook", b})
		}
	}
	return out, err
}

func benchIngest(ctx context.Context, s *server, mc *minio.Client) error {
	mails, err := corpus()
	if err != nil {
		return err
	}
	var total int64
	for _, m := range mails {
		total += int64(len(m.body))
	}
	persons := make([]string, *rounds)
	for i := range persons {
		if persons[i], err = s.person(fmt.Sprintf("BENCH-%d", i), "2010-01-01"); err != nil {
			return err
		}
	}
	type job struct {
		person string
		m      mail
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	cpu0 := cpuByProcess()
	profiled := s.profile(*cpuProfile)
	t0 := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				_, _, err := s.call("POST", "/v1/persons/"+j.person+"/documents?filename="+j.m.name, bytes.NewReader(j.m.body), int64(len(j.m.body)), j.m.ctype)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range persons {
		for _, m := range mails {
			jobs <- job{p, m}
		}
	}
	close(jobs)
	wg.Wait()
	api := time.Since(t0)
	apiCPU := cpuSince(cpu0)
	if err := profiled(); err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}

	// The same bucket (Object Lock, versioning) and the same retention
	// casefile sets, so that the comparison is like for like.
	bucket := s.bucket
	lockUntil := time.Now().AddDate(1, 0, 0)
	raw := make(chan []byte)
	cpu1 := cpuByProcess()
	t1 := time.Now()
	n := 0
	var rmu sync.Mutex
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range raw {
				rmu.Lock()
				n++
				key := fmt.Sprintf("raw/%d", n)
				rmu.Unlock()
				if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{
					Mode: minio.Governance, RetainUntilDate: lockUntil, ContentType: "application/octet-stream"}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for range persons {
		for _, m := range mails {
			raw <- m.body
		}
	}
	close(raw)
	wg.Wait()
	direct := time.Since(t1)
	rawCPU := cpuSince(cpu1)
	if firstErr != nil {
		return firstErr
	}
	bytesAll := float64(total) * float64(*rounds)
	apiRate, rawRate := bytesAll/api.Seconds()/(1<<20), bytesAll/direct.Seconds()/(1<<20)
	msgs := len(mails) * *rounds
	fmt.Printf("ingest: %d emails (%.1f MiB, .eml and .msg from the corpus) at concurrency 8\n", msgs, bytesAll/(1<<20))
	fmt.Printf("  through the API (store, parse, attachments, rows, audit): %.2f MiB/s, %.0f emails/s\n", apiRate, float64(msgs)/api.Seconds())
	fmt.Printf("  raw minio-go PutObject of the same bytes:                 %.2f MiB/s, %.0f objects/s\n", rawRate, float64(msgs)/direct.Seconds())
	fmt.Printf("  ratio API / raw: %.2f (target >= 0.6)\n", apiRate/rawRate)
	fmt.Printf("  API %s\n  raw %s\n", apiCPU, rawCPU)
	return nil
}

// pattern is a reader of n generated bytes, never held in memory; seed
// makes streams differ so that they are not deduplicated.
type pattern struct{ n, off, seed int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	m := int64(len(b))
	if m > p.n-p.off {
		m = p.n - p.off
	}
	for i := int64(0); i < m; i++ {
		b[i] = byte((p.off+i)*7 + p.seed)
	}
	p.off += m
	return int(m), nil
}

func benchBigUpload(s *server) error {
	pid, err := s.person("BENCH-BIG", "2010-01-01")
	if err != nil {
		return err
	}
	before := s.vmHWM()
	s.resetHWM()
	size := int64(*bigMiB) << 20
	t0 := time.Now()
	if _, _, err := s.call("POST", "/v1/persons/"+pid+"/documents?filename=big.bin", &pattern{n: size}, size, "application/octet-stream"); err != nil {
		return err
	}
	d := time.Since(t0)
	fmt.Printf("large upload: %d MiB in %.1fs (%.0f MiB/s); server peak RSS during it %.1f MiB (target < 100 MiB; %.1f MiB before)\n",
		*bigMiB, d.Seconds(), float64(*bigMiB)/d.Seconds(), s.vmHWM(), before)
	return nil
}

func benchPurge(ctx context.Context, s *server, mc *minio.Client) error {
	n := *purgeDocs
	pid, err := s.person("BENCH-PURGE", time.Now().UTC().AddDate(-31, 0, 0).Format("2006-01-02"))
	if err != nil {
		return err
	}
	// Stage the documents straight into the stores (not through the API,
	// which is measured above): objects under Object Lock, rows, and a
	// closed early-help involvement that makes them due today.
	lockUntil := time.Now().Add(24 * time.Hour)
	keys := make([]string, n)
	versions := make([]string, n)
	var wg sync.WaitGroup
	ch := make(chan int)
	var firstErr error
	var mu sync.Mutex
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				keys[i] = fmt.Sprintf("documents/bench-%08d", i)
				info, err := mc.PutObject(ctx, s.bucket, keys[i], strings.NewReader("x"), 1, minio.PutObjectOptions{
					Mode: minio.Governance, RetainUntilDate: lockUntil})
				versions[i] = info.VersionID
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows := make([][]any, n)
	for i := range rows {
		// Rows as ingest writes them; the sha256 differs per row so that
		// they are not duplicates of each other.
		rows[i] = []any{fmt.Sprintf("0190a0c0-0000-7000-8000-%012d", i), pid, "file", "x.txt", "other", "text/plain", 1,
			fmt.Sprintf("%064x", i), keys[i], versions[i], "bench"}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"documents"}, []string{"id", "person_id", "kind", "filename", "category",
		"content_type", "size", "sha256", "object_key", "object_version", "created_by"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"kind": "early_help", "started_on": "2000-01-01", "ended_on": "2001-01-01"})
	if _, _, err := s.call("POST", "/v1/persons/"+pid+"/involvements", bytes.NewReader(b), int64(len(b)), "application/json"); err != nil {
		return err
	}
	b = []byte(`{"dry_run": false}`)
	t0 := time.Now()
	m, _, err := s.call("POST", "/v1/retention/runs", bytes.NewReader(b), int64(len(b)), "application/json")
	if err != nil {
		return err
	}
	for {
		r, _, err := s.call("GET", "/v1/retention/runs/"+m["id"].(string), nil, -1, "")
		if err != nil {
			return err
		}
		if r["state"] == "done" || r["state"] == "failed" {
			if r["state"] == "failed" {
				return fmt.Errorf("purge run failed: %v", r["error"])
			}
			break
		}
		if r["state"] == "awaiting_approval" {
			// The disposal list waits for a records officer: the bench's
			// admin token approves it (counted in the time).
			if _, _, err := s.call("POST", "/v1/retention/runs/"+m["id"].(string)+"/approve", nil, -1, ""); err != nil {
				return err
			}
			continue
		}
		time.Sleep(200 * time.Millisecond)
	}
	purge := time.Since(t0)

	// Raw: the same number of locked objects removed with RemoveObjects.
	for i := range keys {
		keys[i] = fmt.Sprintf("raw-delete/%08d", i)
	}
	ch = make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				mc.PutObject(ctx, s.bucket, keys[i], strings.NewReader("x"), 1, minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: lockUntil}) //nolint:errcheck
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	t1 := time.Now()
	objs := make(chan minio.ObjectInfo)
	go func() {
		defer close(objs)
		for o := range mc.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "raw-delete/", WithVersions: true, Recursive: true}) {
			objs <- minio.ObjectInfo{Key: o.Key, VersionID: o.VersionID}
		}
	}()
	for e := range mc.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{GovernanceBypass: true}) {
		if e.Err != nil {
			return e.Err
		}
	}
	raw := time.Since(t1)
	fmt.Printf("purge: %d due documents destroyed by a retention run in %.1fs (%.0f documents/s, all versions, rows, certificate)\n",
		n, purge.Seconds(), float64(n)/purge.Seconds())
	fmt.Printf("  raw S3 list + RemoveObjects of %d locked objects: %.1fs (%.0f objects/s); ratio %.2f\n",
		n, raw.Seconds(), float64(n)/raw.Seconds(), raw.Seconds()/purge.Seconds())
	fmt.Printf("  100,000 documents at this rate: about %.0f minutes\n", 100000/(float64(n)/purge.Seconds())/60)
	return nil
}

func benchExport(s *server) error {
	pid, err := s.person("BENCH-EXPORT", "2010-01-01")
	if err != nil {
		return err
	}
	part := int64(512) << 20
	parts := (int64(*exportMiB) << 20) / part
	for i := int64(0); i < parts; i++ {
		p := &pattern{n: part, seed: i + 1}
		if _, _, err := s.call("POST", fmt.Sprintf("/v1/persons/%s/documents?filename=part-%d.bin", pid, i), p, part, "application/octet-stream"); err != nil {
			return err
		}
	}
	rssBefore := s.vmRSS()
	s.resetHWM()
	t0 := time.Now()
	m, _, err := s.call("POST", "/v1/persons/"+pid+"/exports", nil, 0, "")
	if err != nil {
		return err
	}
	var size float64
	for {
		r, _, err := s.call("GET", "/v1/exports/"+m["id"].(string), nil, -1, "")
		if err != nil {
			return err
		}
		if r["state"] == "failed" {
			return fmt.Errorf("export failed: %v", r["error"])
		}
		if r["state"] == "done" {
			size = r["size"].(float64)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	d := time.Since(t0)
	fmt.Printf("export: a %.0f MiB record bundled and stored in %.1fs; server (API + worker) peak RSS during it %.1f MiB (%.1f MiB resident before it)\n",
		size/(1<<20), d.Seconds(), s.vmHWM(), rssBefore)
	return nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// profile takes a 5-second CPU profile of the server, starting now, when
// file is set (use enough -rounds for the API ingest to last longer); the
// function it returns waits for it and writes the file.
func (s *server) profile(file string) func() error {
	if file == "" {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.pprof + "/debug/pprof/profile?seconds=5")
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(file)
		if err != nil {
			done <- err
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			done <- err
			return
		}
		done <- f.Close()
	}()
	return func() error { return <-done }
}
