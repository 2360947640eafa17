package main

import (
	"fmt"
	"time"
)

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
