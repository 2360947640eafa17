package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

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

// parallel runs fn on each item with 8 workers and returns the first error.
func parallel[T any](items []T, fn func(T) error) error {
	ch := make(chan T)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return first
}

// benchIngest uploads the email corpus through the API, then writes with raw
// minio-go PutObject the same objects the API stored (every original and every
// attachment, the same bytes) into the same Object-Lock bucket, and compares.
func benchIngest(ctx context.Context, s *server, mc *minio.Client) error {
	mails, err := corpus()
	if err != nil {
		return err
	}
	var total int64
	for _, m := range mails {
		total += int64(len(m.body))
	}
	type job struct {
		person string
		m      mail
	}
	var jobs []job
	for i := 0; i < *rounds; i++ {
		p, err := s.person(fmt.Sprintf("BENCH-%d", i), "2010-01-01")
		if err != nil {
			return err
		}
		for _, m := range mails {
			jobs = append(jobs, job{p, m})
		}
	}
	// The text extraction the uploads queue (tesseract on image attachments,
	// pdftotext, ...) runs off the request path, in the same `casefile run`
	// process: it waits while the API and the raw figures are measured, so
	// that neither competes with it, and is measured on its own afterwards.
	q, err := pauseQueue(s)
	if err != nil {
		return err
	}
	defer q.resume()
	// A warm-up first, not measured: the server opens its connections to
	// PostgreSQL and S3 and prepares its statements, as a server that has
	// been up for a while has done (the raw figure's client is warm too, from
	// reading the objects back). Its objects are left out of the raw figure.
	warmed := map[string]bool{}
	if *warmup {
		p, err := s.person("BENCH-WARMUP", "2010-01-01")
		if err != nil {
			return err
		}
		err = parallel(mails, func(m mail) error {
			_, _, err := s.call("POST", "/v1/persons/"+p+"/documents?filename="+m.name, bytes.NewReader(m.body), int64(len(m.body)), m.ctype)
			return err
		})
		if err != nil {
			return err
		}
		for o := range mc.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "documents/", Recursive: true}) {
			if o.Err != nil {
				return o.Err
			}
			warmed[o.Key] = true
		}
	}
	apiPhase, err := s.measure(*cpuProfile, func() error {
		return parallel(jobs, func(j job) error {
			_, _, err := s.call("POST", "/v1/persons/"+j.person+"/documents?filename="+j.m.name, bytes.NewReader(j.m.body), int64(len(j.m.body)), j.m.ctype)
			return err
		})
	})
	if err != nil {
		return err
	}
	api := apiPhase.took

	// The objects the API stored, read back (not timed) to be written raw.
	var objects [][]byte
	var objBytes int64
	for o := range mc.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "documents/", Recursive: true}) {
		if o.Err != nil {
			return o.Err
		}
		if warmed[o.Key] {
			continue
		}
		r, err := mc.GetObject(ctx, s.bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		objects = append(objects, b)
		objBytes += int64(len(b))
	}
	// The same bucket (Object Lock, versioning) and the same retention mode
	// casefile sets, so that the comparison is like for like.
	lockUntil := time.Now().AddDate(1, 0, 0)
	type rawObj struct {
		key string
		b   []byte
	}
	raws := make([]rawObj, len(objects))
	for i, b := range objects {
		raws[i] = rawObj{fmt.Sprintf("raw/%d", i), b}
	}
	cpu1 := cpuByProcess()
	t1 := time.Now()
	err = parallel(raws, func(o rawObj) error {
		_, err := mc.PutObject(ctx, s.bucket, o.key, bytes.NewReader(o.b), int64(len(o.b)), minio.PutObjectOptions{
			Mode: minio.Governance, RetainUntilDate: lockUntil, ContentType: "application/octet-stream"})
		return err
	})
	direct := time.Since(t1)
	rawCPU := cpuSince(cpu1)
	if err != nil {
		return err
	}
	msgs := len(jobs)
	bytesAll := float64(total) * float64(*rounds)
	fmt.Printf("ingest: %d emails (%.1f MiB, .eml and .msg from the corpus) at concurrency 8, stored as %d objects (%.1f MiB: originals and attachments)\n",
		msgs, bytesAll/(1<<20), len(objects), float64(objBytes)/(1<<20))
	if *warmup {
		fmt.Printf("  (after a warm-up of %d uploads, not measured: the server's connections open and its statements prepared)\n", len(mails))
	}
	fmt.Printf("  through the API (store, parse, attachments, rows, audit): %.2f s, %.0f emails/s\n", api.Seconds(), float64(msgs)/api.Seconds())
	fmt.Printf("  raw minio-go PutObject of the same %d objects:          %.2f s, %.0f objects/s\n", len(objects), direct.Seconds(), float64(len(objects))/direct.Seconds())
	fmt.Printf("  ratio raw time / API time: %.2f (target >= 0.5)\n", direct.Seconds()/api.Seconds())
	fmt.Printf("  CPU per upload: casefile %.2f ms (the target of 1 ms is per small email, below), PostgreSQL %.2f ms; %.1f round trips to PostgreSQL per upload\n",
		apiPhase.casefile/float64(msgs)*1000, apiPhase.postgres/float64(msgs)*1000, apiPhase.trips/float64(msgs))
	fmt.Printf("  API %s\n  raw %s\n", apiPhase.all, rawCPU)
	warm := 0
	if *warmup {
		warm = len(mails)
	}
	return q.drain(s, msgs, warm)
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

// benchBigUpload measures the server's peak memory (API, workers and
// scheduler in one process, after the traffic of the figures before it) while
// it receives one large upload, then four at once.
func benchBigUpload(s *server) error {
	pid, err := s.person("BENCH-BIG", "2010-01-01")
	if err != nil {
		return err
	}
	size := int64(*bigMiB) << 20
	before := s.vmRSS()
	s.resetHWM()
	t0 := time.Now()
	if _, _, err := s.call("POST", "/v1/persons/"+pid+"/documents?filename=big.bin", &pattern{n: size}, size, "application/octet-stream"); err != nil {
		return err
	}
	d := time.Since(t0)
	peak := s.vmHWM()
	fmt.Printf("large upload: %d MiB in %.1fs (%.0f MiB/s); `casefile run` peak RSS during it %.1f MiB, %+.1f MiB over the %.1f MiB resident before (target < 80 MiB)\n",
		*bigMiB, d.Seconds(), float64(*bigMiB)/d.Seconds(), peak, peak-before, before)
	if err := benchPageUpload(s, pid, size); err != nil {
		return err
	}

	before = s.vmRSS()
	s.resetHWM()
	t0 = time.Now()
	err = parallel([]int64{11, 12, 13, 14}, func(seed int64) error {
		_, _, err := s.call("POST", fmt.Sprintf("/v1/persons/%s/documents?filename=big-%d.bin", pid, seed), &pattern{n: size, seed: seed}, size, "application/octet-stream")
		return err
	})
	if err != nil {
		return err
	}
	d = time.Since(t0)
	fmt.Printf("four large uploads at once: 4 x %d MiB in %.1fs (%.0f MiB/s); peak RSS %.1f MiB (target < 150 MiB; %.1f MiB resident before)\n",
		*bigMiB, d.Seconds(), 4*float64(*bigMiB)/d.Seconds(), s.vmHWM(), before)
	return nil
}
