package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchReads measures audited reads: the first page of a long chronology
// read by 16 clients at once, first all on one record, then each on its own.
// Every read appends its audit event before it answers.
func benchReads(s *server) error {
	one, err := s.person("BENCH-READS", "2012-01-01")
	if err != nil {
		return err
	}
	if err := s.notes(one, *readNotes); err != nil {
		return err
	}
	spread := make([]string, 16)
	for i := range spread {
		if spread[i], err = s.person(fmt.Sprintf("BENCH-READS-%d", i), "2012-01-01"); err != nil {
			return err
		}
		if err := s.notes(spread[i], *readNotes/16); err != nil {
			return err
		}
	}
	// PostgreSQL here runs without autovacuum (for the tests' speed); in
	// service it would have analysed the tables by now, so do it here.
	if err := s.analyze(); err != nil {
		return err
	}
	for i, c := range []struct {
		what    string
		persons func(reader int) string
	}{
		{fmt.Sprintf("one record of %d notes", *readNotes), func(int) string { return one }},
		{fmt.Sprintf("16 records of %d notes, one per reader", *readNotes/16), func(r int) string { return spread[r] }},
	} {
		profile := ""
		if i == 0 {
			profile = *readsProfile
		}
		// A warm-up: the pool's connections are opened and each statement
		// prepared on them before the figures are taken.
		if _, err := s.readers(16, 5, c.persons); err != nil {
			return err
		}
		var lat []float64
		m, err := s.measure(profile, func() (err error) {
			lat, err = s.readers(16, 100, c.persons)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Printf("audited reads, 16 readers, first page of the chronology, %s: p50 %.1f ms (target < 10), p99 %.1f ms (target < 30), %d reads\n",
			c.what, pct(lat, 50), pct(lat, 99), len(lat))
		fmt.Printf("  per read: CPU of casefile %.2f ms, of PostgreSQL %.2f ms; %.1f round trips to PostgreSQL (audit group commits included)\n",
			m.casefile/float64(len(lat))*1000, m.postgres/float64(len(lat))*1000, m.trips/float64(len(lat)))
	}
	return nil
}

// notes writes n notes on a person's record through the API.
func (s *server) notes(person string, n int) error {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	start := time.Now().UTC().Add(-time.Duration(n) * time.Minute)
	return parallel(idx, func(i int) error {
		b, _ := json.Marshal(map[string]string{"type": "contact", "occurred_at": start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"body": fmt.Sprintf("Note %d: visited the family; the children were well and attending school.", i)})
		_, _, err := s.call("POST", "/v1/persons/"+person+"/notes", bytes.NewReader(b), int64(len(b)), "application/json")
		return err
	})
}

// readers has n clients each read the first page of a chronology per times
// and returns every read's latency in milliseconds.
func (s *server) readers(n, times int, person func(reader int) string) ([]float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []float64
	var first error
	for r := 0; r < n; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < times; i++ {
				t0 := time.Now()
				err := s.get("/v1/persons/" + person(r) + "/notes?limit=50")
				d := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, first
}

// get reads path to its end and fails unless it answered 200; the body is not
// decoded, so that the bench's own work competes less with the server's for
// the machine's CPUs.
func (s *server) get(path string) error {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && (resp.StatusCode != http.StatusOK || n == 0) {
		err = fmt.Errorf("GET %s: %d, %d bytes", path, resp.StatusCode, n)
	}
	return err
}

// pct is the p-th percentile of xs.
func pct(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// analyze vacuums the bench's database and updates the planner's
// statistics, as autovacuum does in service, and flushes what the set-up
// wrote.
func (s *server) analyze() error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	// VACUUM too: it empties the GIN indexes' pending lists, which the
	// set-up's inserts filled and which every search would otherwise scan.
	if _, err = c.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	// And the set-up's writes flushed, as the checkpointer would have done by
	// then, so that its writing does not land in the figures.
	_, err = c.Exec(ctx, "CHECKPOINT")
	return err
}
