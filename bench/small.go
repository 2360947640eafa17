package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

// smallEmails is how many small emails the small-email figure uploads.
const smallEmails = 800

// smallEmail is a plain-text email of about 3 KiB with no attachment, the
// i-th of its kind (each is different, so that none is a duplicate).
func smallEmail(r *rand.Rand, z *rand.Zipf, i int) []byte {
	return fmt.Appendf(nil, "From: school%d@example.org\r\nTo: duty.team@example.org\r\nSubject: %s\r\n"+
		"Date: Mon, 2 Nov 2026 09:%02d:00 +0000\r\nMessage-ID: <bench-small-%d@example.org>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i%40, benchText(r, z, 6), i%60, i, benchText(r, z, 420))
}

// benchSmallEmails measures what the CPU target names: casefile's CPU for a
// small email (plain text, about 3 KiB, no attachment) received through the
// API, 8 at a time, after a warm-up; the queue is paused meanwhile, as for
// the corpus.
func benchSmallEmails(s *server) error {
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.1, 8, uint64(len(searchWords)-1))
	persons := make([]string, 8)
	for i := range persons {
		var err error
		if persons[i], err = s.person(fmt.Sprintf("BENCH-SMALL-%d", i), "2012-03-03"); err != nil {
			return err
		}
	}
	type job struct {
		person string
		body   []byte
	}
	const warm = 80
	jobs := make([]job, warm+smallEmails)
	var size int
	for i := range jobs {
		jobs[i] = job{persons[i%len(persons)], smallEmail(r, z, i)}
		if i >= warm {
			size += len(jobs[i].body)
		}
	}
	q, err := pauseQueue(s)
	if err != nil {
		return err
	}
	defer q.resume()
	upload := func(j job) error {
		_, _, err := s.call("POST", "/v1/persons/"+j.person+"/documents?filename=letter.eml", bytes.NewReader(j.body), int64(len(j.body)), "message/rfc822")
		return err
	}
	if err := parallel(jobs[:warm], upload); err != nil {
		return err
	}
	m, err := s.measure(*smallProfile, func() error { return parallel(jobs[warm:], upload) })
	if err != nil {
		return err
	}
	fmt.Printf("small emails: %d plain-text .eml of %.1f KiB on average, no attachment, at concurrency 8 (after %d not measured): %.0f emails/s; %s\n",
		smallEmails, float64(size)/smallEmails/1024, warm, smallEmails/m.took.Seconds(), loadAverage())
	fmt.Printf("  CPU per small email: casefile %.2f ms (target <= 1 ms), PostgreSQL %.2f ms; %.1f round trips to PostgreSQL per upload\n",
		m.casefile/smallEmails*1000, m.postgres/smallEmails*1000, m.trips/smallEmails)
	return nil // a plain-text email queues no background work: its text is parsed on receipt
}
