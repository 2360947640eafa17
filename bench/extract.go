package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/extract"
	"github.com/council/casefile/extract/extracttest"
)

var extractRounds = flag.Int("extract-rounds", 3, "times the mix of documents is extracted by one worker (0 to skip)")

// extractTarget is the documents per second one worker should extract of
// the mix: a large council's day of uploads (about 5,000 files and
// attachments) in under an hour and a half on one worker.
const extractTarget = 1.0

// benchExtract measures the text extraction of one worker (one extraction
// at a time, one subprocess at a time, as one task of the document:extract
// queue runs) over a mix of ten documents: three text PDFs, two .docx, an
// .odt, an RTF, an HTML page, a scanned PDF and a photographed letter (PNG),
// the last two read by OCR.
func benchExtract() error {
	dir, err := os.MkdirTemp("", "casefile-bench-extract-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	letter := []string{"Dear Ms Pond,", "Amy attended Greenfield Primary School every day this week, and her reading has improved.",
		"We would like to meet you and the social worker on Tuesday to talk about the support plan.", "Yours sincerely,", "Headteacher"}
	long := strings.Repeat(strings.Join(letter, " ")+" ", 200)
	type doc struct{ name, path string }
	var mix []doc
	add := func(name string, b []byte, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", len(mix), name))
		mix = append(mix, doc{name, p})
		return os.WriteFile(p, b, 0o600)
	}
	pdf, err := extracttest.TextPDF(letter...)
	scan, serr := extracttest.ScannedPDF(letter...)
	png, perr := extracttest.LetterPNG(letter...)
	for _, e := range []error{
		add("letter.pdf", pdf, err), add("letter.pdf", pdf, err), add("letter.pdf", pdf, err),
		add("report.docx", extracttest.DOCX(long), nil), add("report.docx", extracttest.DOCX(letter...), nil),
		add("report.odt", extracttest.ODT(long), nil),
		add("letter.rtf", []byte(`{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 `+strings.ReplaceAll(long, ".", `.\par `)+`}`), nil),
		add("page.html", []byte("<html><body><p>"+strings.ReplaceAll(long, ".", ".</p><p>")+"</p></body></html>"), nil),
		add("scan.pdf", scan, serr), add("photo.png", png, perr),
	} {
		if e != nil {
			return e
		}
	}
	x := &extract.Extractor{Limits: extract.Limits{Procs: 1}}
	per := map[string]time.Duration{}
	n := 0
	start := time.Now()
	for r := 0; r < *extractRounds; r++ {
		for _, d := range mix {
			t0 := time.Now()
			res := x.Extract(context.Background(), d.path, d.name, "")
			per[d.name] += time.Since(t0)
			if res.State != casefile.TextDone || !strings.Contains(res.Text, "Greenfield") {
				return fmt.Errorf("extract %s: %s %q", d.name, res.State, res.Warning)
			}
			n++
		}
	}
	took := time.Since(start)
	rate := float64(n) / took.Seconds()
	verdict := "meets"
	if rate < extractTarget {
		verdict = "MISSES"
	}
	fmt.Printf("text extraction, one worker, a mix of 10 documents (2 read by OCR) × %d: %.2f documents/s (target ≥ %.1f/s: %s)\n",
		*extractRounds, rate, extractTarget, verdict)
	count := map[string]int{}
	for _, d := range mix {
		count[d.name]++
	}
	for _, name := range []string{"letter.pdf", "report.docx", "report.odt", "letter.rtf", "page.html", "scan.pdf", "photo.png"} {
		fmt.Printf("  %-12s %8.1f ms each\n", name, float64(per[name].Milliseconds())/float64(count[name]**extractRounds))
	}
	return nil
}
