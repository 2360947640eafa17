package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

// searchWords is the vocabulary of the bench's notes and letters; the first
// words are drawn far more often than the last (Zipf), as in real text.
var searchWords = strings.Fields(`the child was seen at home school mother father carer visit family said
	told plan meeting social worker health review contact safe bedroom room kitchen attended agreed
	concerns support placement parents week next today asked teacher nurse doctor police report
	assessment protection conference core group strategy discussion referral letter appointment
	clinic hospital court order contact supervised unsupervised sibling brother sister grandmother
	grandfather uncle aunt cousin foster respite nursery college attendance behaviour sleep food
	clothing hygiene dental medication injury bruise explanation disclosure allegation interview
	transport holiday birthday football swimming drawing reading homework phone tablet games
	neighbour landlord housing rent benefits money debt alcohol drugs smoking mental wellbeing
	counselling therapy camhs paediatrician optician audiology speech language occupational
	physiotherapy wheelchair diagnosis autism adhd anxiety depression selfharm bullying friends
	trampoline garden dog cat rabbit hamster goldfish bicycle scooter playground park library
	museum cinema swimmingpool leisure centre church mosque temple gurdwara synagogue`)

// searchQueries are what the bench searches for: common and rare words, two
// words, a phrase, an exclusion, a word found nowhere.
var searchQueries = []string{"school", "visit", "trampoline", "gurdwara", "mother bedroom", `"social worker"`,
	"hospital -police", "attendance review", "zebra", "camhs therapy", "child", "Okafor"}

// loadAverage says how busy the machine is, beside figures it distorts.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	return fmt.Sprintf("load average %s on %d CPUs", strings.Fields(string(b))[0], runtime.NumCPU())
}

func benchText(r *rand.Rand, z *rand.Zipf, words int) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(searchWords[z.Uint64()])
		if r.IntN(12) == 0 {
			b.WriteString(".")
		}
	}
	return b.String()
}

// benchSearch measures one search over one record of many notes and
// documents (emails, their text parsed), through the API, one client and then
// eight at once, over a mix of queries.
func benchSearch(s *server) error {
	person, err := s.person("BENCH-SEARCH", "2011-05-05")
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 8, uint64(len(searchWords)-1))
	t0 := time.Now()
	notes := make([]string, *searchNotes)
	for i := range notes {
		notes[i] = benchText(r, z, 40+r.IntN(160))
	}
	start := time.Now().UTC().Add(-time.Duration(len(notes)) * time.Hour)
	idx := make([]int, len(notes))
	for i := range idx {
		idx[i] = i
	}
	if err := parallel(idx, func(i int) error {
		b, _ := json.Marshal(map[string]string{"type": "contact", "occurred_at": start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
			"body": notes[i]})
		_, _, err := s.call("POST", "/v1/persons/"+person+"/notes", bytes.NewReader(b), int64(len(b)), "application/json")
		return err
	}); err != nil {
		return err
	}
	letters := make([]string, *searchDocs)
	for i := range letters {
		letters[i] = fmt.Sprintf("From: school%d@example.org\r\nTo: duty.team@example.org\r\nSubject: %s\r\nMessage-ID: <bench-search-%d@example.org>\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i%40, benchText(r, z, 6), i, benchText(r, z, 300+r.IntN(900)))
	}
	idx = make([]int, len(letters))
	for i := range idx {
		idx[i] = i
	}
	if err := parallel(idx, func(i int) error {
		_, _, err := s.call("POST", "/v1/persons/"+person+"/documents?filename=letter-"+fmt.Sprint(i)+".eml",
			strings.NewReader(letters[i]), int64(len(letters[i])), "message/rfc822")
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("search: one record of %d notes and %d emails with text, written in %.0f s\n", len(notes), len(letters), time.Since(t0).Seconds())
	// PostgreSQL here runs without autovacuum (for the tests' speed); in
	// service it would have vacuumed and analysed the tables by now.
	if err := s.analyze(); err != nil {
		return err
	}

	// The floor on this machine now: an audited read of the same record's
	// first page of notes, which every search pays for too (HTTP, sign-in,
	// the audit event's commit).
	var floor []float64
	for i := 0; i < 100; i++ {
		t0 := time.Now()
		if _, _, err := s.call("GET", "/v1/persons/"+person+"/notes?limit=20", nil, -1, ""); err != nil {
			return err
		}
		floor = append(floor, float64(time.Since(t0).Microseconds())/1000)
	}
	fmt.Printf("search: for comparison, an audited read of the record's first 20 notes: p50 %.1f ms, p99 %.1f ms; %s\n",
		pct(floor, 50), pct(floor, 99), loadAverage())
	for _, clients := range []int{1, 8} {
		lat, hits, err := s.searchers(person, clients, 25)
		if err != nil {
			return err
		}
		// The target is a search's latency, one at a time; eight at once
		// show how searches queue when they share the machine's CPUs.
		target := "target < 100"
		if clients > 1 {
			target = fmt.Sprintf("no target: %d searches at once on %d CPUs", clients, runtime.NumCPU())
		}
		fmt.Printf("search over one record (%d notes, %d documents), %d client(s), %d queries: p50 %.1f ms, p99 %.1f ms (%s), %.0f hits a query on average; %s\n",
			len(notes), len(letters), clients, len(lat), pct(lat, 50), pct(lat, 99), target, hits, loadAverage())
	}
	return nil
}

// searchers has n clients each run every query times/len(queries) times and
// returns the latencies in milliseconds and the mean number of hits.
func (s *server) searchers(person string, n, rounds int) ([]float64, float64, error) {
	type result struct {
		q    string
		ms   float64
		hits float64
		err  error
	}
	out := make(chan result)
	for c := 0; c < n; c++ {
		go func() {
			for i := 0; i < rounds; i++ {
				for _, q := range searchQueries {
					t0 := time.Now()
					m, _, err := s.call("GET", "/v1/persons/"+person+"/search?q="+url.QueryEscape(q), nil, -1, "")
					res := result{q: q, ms: float64(time.Since(t0).Microseconds()) / 1000, err: err}
					if m != nil {
						total, _ := m["total"].(float64)
						res.hits = total
					}
					out <- res
				}
			}
		}()
	}
	var lat []float64
	var hits float64
	var first error
	byQuery := map[string][]float64{}
	hitsOf := map[string]float64{}
	for i := 0; i < n*rounds*len(searchQueries); i++ {
		r := <-out
		lat = append(lat, r.ms)
		byQuery[r.q] = append(byQuery[r.q], r.ms)
		hitsOf[r.q] = r.hits
		hits += r.hits
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	if *searchEach {
		for _, q := range searchQueries {
			fmt.Printf("  %-20q %5.0f hits: p50 %.1f ms, p99 %.1f ms\n", q, hitsOf[q], pct(byQuery[q], 50), pct(byQuery[q], 99))
		}
	}
	return lat, hits / float64(len(lat)), first
}
