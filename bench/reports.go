package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// reportsTarget is how long a report over 30 days may take on the bench's
// data (what the earlier figures wrote and read).
const reportsTarget = 1000 * time.Millisecond

// benchReports times each compliance report for the last 30 days, read by a
// records officer (everyone's figures), over what the earlier figures left:
// thousands of notes and of audited reads.
func benchReports(s *server) error {
	cmd := exec.Command(s.cmd.Path, "token", "create", "--name", "bench-records-officer", "--role", "records_officer")
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]
	for _, name := range []string{"late-notes", "pasted-email-refusals", "tickets", "access", "disposals-due", "holds", "audit-integrity"} {
		var lat []float64
		var totals map[string]any
		for i := 0; i < 5; i++ {
			req, _ := http.NewRequest("GET", s.base+"/v1/reports/"+name, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			if resp.StatusCode != 200 {
				return fmt.Errorf("report %s: %d %s", name, resp.StatusCode, b)
			}
			var doc struct {
				Totals map[string]any `json:"totals"`
			}
			json.Unmarshal(b, &doc) //nolint:errcheck
			totals = doc.Totals
		}
		fmt.Printf("report %s, last 30 days: p50 %.1f ms of 5 (target < %d ms); totals %v\n", name, pct(lat, 50), reportsTarget.Milliseconds(), totals)
	}
	return nil
}
