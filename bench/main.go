// Command bench measures casefile against the same S3 server the service
// uses, and prints its figures:
//
//   - ingest of a mixed email set through the HTTP API at concurrency 8,
//     beside raw minio-go PutObject of the same objects the API stored, with
//     casefile's and PostgreSQL's CPU per upload;
//   - audited reads of a long chronology by 16 clients at once;
//   - one search over a record of 5,000 notes and 2,000 emails with text;
//   - the record page of 5,000 notes and 500 documents, first screen;
//   - the server's peak RSS while it receives a 1 GiB upload, then four,
//     then one through the record page's form;
//   - the retention purge rate beside raw S3 batch delete;
//   - the server's peak RSS while it exports a 2 GiB record;
//   - text extraction's throughput per worker, over a mix with scans;
//   - each compliance report over 30 days of the data the reads left.
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

var (
	rounds       = flag.Int("rounds", 6, "times the email corpus is uploaded (each round to new persons)")
	bigMiB       = flag.Int("big-mib", 1024, "size of the large upload in MiB (0 to skip)")
	purgeDocs    = flag.Int("purge-docs", 20000, "documents in the purge benchmark")
	exportMiB    = flag.Int("export-mib", 2048, "size of the record exported, in MiB (0 to skip)")
	skipIngest   = flag.Bool("skip-ingest", false, "skip the email ingest figures")
	warmup       = flag.Bool("warmup", true, "upload the email corpus once, not measured, before the ingest figures (a warm server)")
	readNotes    = flag.Int("read-notes", 5000, "notes on the record of the audited-read figures (0 to skip)")
	searchNotes  = flag.Int("search-notes", 5000, "notes on the record searched (0 to skip the search figures)")
	searchDocs   = flag.Int("search-docs", 2000, "emails (with text) on the record searched")
	searchEach   = flag.Bool("search-each", false, "print the search figures of each query too")
	pageNotes    = flag.Int("page-notes", 5000, "notes on the record the record page figure opens (0 to skip)")
	pageDocs     = flag.Int("page-docs", 500, "documents on the record the record page figure opens")
	cpuProfile   = flag.String("cpuprofile", "", "write the server's CPU profile during the API ingest to this file (go tool pprof reads it)")
	smallProfile = flag.String("small-cpuprofile", "", "write the server's CPU profile during the small emails' upload to this file")
	readsProfile = flag.String("reads-cpuprofile", "", "write the server's CPU profile during the audited reads of one record to this file")
	keepDB       = flag.Bool("keep-db", false, "keep the bench's database at the end, to look into")
	only         = flag.String("only", "", "comma-separated figures to measure (ingest, reads, search, page, big, purge, export, extract); empty: all")
)

// measure says whether the figure named what is to be measured: -only
// names it (or is empty) and its own flags do not turn it off.
func measure(what string) bool {
	if *only == "" {
		return true
	}
	for _, w := range strings.Split(*only, ",") {
		if strings.TrimSpace(w) == what {
			return true
		}
	}
	return false
}

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
	queue       string // the task queue of its workers
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
	if !*skipIngest && measure("ingest") {
		if err := benchIngest(ctx, s, mc); err != nil {
			return err
		}
		if err := benchSmallEmails(s); err != nil {
			return err
		}
	}
	if *readNotes > 0 && measure("reads") {
		if err := benchReads(s); err != nil {
			return err
		}
		if err := benchReports(s); err != nil {
			return err
		}
	}
	if *searchNotes > 0 && measure("search") {
		if err := benchSearch(s); err != nil {
			return err
		}
	}
	if *pageNotes > 0 && measure("page") {
		if err := benchRecordPage(s); err != nil {
			return err
		}
	}
	if *bigMiB > 0 && measure("big") {
		if err := benchBigUpload(s); err != nil {
			return err
		}
	}
	if *purgeDocs > 0 && measure("purge") {
		if err := benchPurge(ctx, s, mc); err != nil {
			return err
		}
	}
	if *exportMiB > 0 && measure("export") {
		if err := benchExport(s); err != nil {
			return err
		}
	}
	if *extractRounds > 0 && measure("extract") {
		if err := benchExtract(); err != nil {
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
	s := &server{base: "http://" + addr, pprof: "http://" + pprofAddr, bucket: "bench-" + suffix, queue: "bench-" + suffix,
		dbURL: "postgres://postgres@127.0.0.1:5432/casefile_bench_" + suffix + "?sslmode=disable"}
	s.env = append(os.Environ(),
		"CASEFILE_HTTP_ADDR="+addr, "CASEFILE_DATABASE_URL="+s.dbURL, "CASEFILE_S3_BUCKET="+s.bucket,
		"CASEFILE_S3_ENDPOINT="+env("CASEFILE_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		"CASEFILE_S3_ACCESS_KEY="+env("CASEFILE_TEST_S3_ACCESS_KEY", "casefile"),
		"CASEFILE_S3_SECRET_KEY="+env("CASEFILE_TEST_S3_SECRET_KEY", "casefile-dev-secret"),
		"CASEFILE_WORKER_QUEUE="+s.queue, "CASEFILE_MAX_UPLOAD_BYTES="+strconv.Itoa(4<<30),
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
	if *keepDB {
		fmt.Println("database kept:", s.dbName())
		return
	}
	if c, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"); err == nil {
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+s.dbName()+" WITH (FORCE)") //nolint:errcheck
		c.Close(ctx)
	}
}

// dbName is the name of the bench's database.
func (s *server) dbName() string {
	return s.dbURL[strings.LastIndex(s.dbURL, "/")+1 : strings.Index(s.dbURL, "?")]
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

// metric reads a counter or gauge without labels from the server's /metrics
// (-1 when it is not there).
func (s *server) metric(name string) float64 {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
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
