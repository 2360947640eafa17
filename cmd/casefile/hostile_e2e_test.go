package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The 35-byte email that made the .eml parser panic (the upload answered
// 500 and the original was not kept) is kept byte for byte, as an email
// with its parse_warnings, whether sent raw or as a form.
func TestHostileEmailIsKeptEndToEnd(t *testing.T) {
	s := startService(t, nil)
	pid := s.person("HOSTILE-1", "2015-04-01")
	crash := []byte("Content-Disposition:\xdcfilenAme=")
	raw := s.do("POST", "/v1/persons/"+pid+"/documents?filename=crash.eml", s.Admin, crash, "Content-Type", "message/rfc822")
	if raw.Status != 201 {
		t.Fatalf("raw upload = %d: %s", raw.Status, raw.Body)
	}
	// Other bytes, so that the form upload is not a duplicate of the first.
	form := s.upload(pid, s.Admin, "crash2.eml", "message/rfc822", append(append([]byte{}, crash...), " x"...))
	if form.Status != 201 {
		t.Fatalf("form upload = %d: %s", form.Status, form.Body)
	}
	for i, r := range []*response{raw, form} {
		d := r.JSON()
		if _, ok := d["parse_warnings"].([]any); !ok || d["kind"] != "email" {
			t.Fatalf("upload %d: kind %v, parse_warnings %v (%T)", i, d["kind"], d["parse_warnings"], d["parse_warnings"])
		}
	}
	s.checkStored(t, s.Admin, raw.JSON(), crash)
}

// A client that stops sending its upload is cut once its body has been idle
// for CASEFILE_HTTP_BODY_IDLE_SECONDS, and frees its upload slot: with the
// four streaming slots taken by stalled clients, a fifth large upload still
// goes through. A slow but live upload, sending a little at a time for
// longer than three idle periods, is not cut.
func TestStalledUploadsAreCutAndFreeTheirSlots(t *testing.T) {
	s := startService(t, map[string]string{"CASEFILE_HTTP_BODY_IDLE_SECONDS": "1"})
	pid := s.person("STALL-1", "2015-04-01")
	path := "/v1/persons/" + pid + "/documents?filename="
	var stalled []net.Conn
	for i := range 4 {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.Base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Over 8 MiB declared: the upload streams, holding a slot, and
		// stops after 64 KiB.
		fmt.Fprintf(c, "POST %sstalled%d.eml HTTP/1.1\r\nHost: casefile\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: message/rfc822\r\nContent-Length: %d\r\n\r\n", path, i, s.Admin, 20<<20)
		if _, err := c.Write(bytes.Repeat([]byte("x"), 64<<10)); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	client := &http.Client{Timeout: 2 * time.Minute} // a bound on a hang, never reached when the test passes
	big := emailWith("after the stall", bytes.Repeat([]byte("scan "), 2<<20))
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.Base+path+"big.eml", bytes.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+s.Admin)
		req.Header.Set("Content-Type", "message/rfc822")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("the upload after the stall: %v", err)
			done <- nil
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		done <- resp
	}()
	for i, c := range stalled {
		// The server answers and closes; a client-side deadline only keeps
		// a failing test from hanging.
		c.SetReadDeadline(time.Now().Add(time.Minute)) //nolint:errcheck
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("stalled upload %d was not answered: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(body), "upload_interrupted") {
			t.Fatalf("stalled upload %d = %d %s, want 400 upload_interrupted", i, resp.StatusCode, body)
		}
	}
	if resp := <-done; resp == nil || resp.StatusCode != 201 {
		t.Fatalf("the upload after the stall = %v, want 201", resp)
	}

	// Slow but live: 12 pieces, 300 ms apart (the idle limit is 1 s).
	slow := emailWith("slow but live", bytes.Repeat([]byte("slow "), 200<<10))
	pr, pw := io.Pipe()
	go func() {
		step := len(slow)/12 + 1
		for off := 0; off < len(slow); off += step {
			time.Sleep(300 * time.Millisecond)
			if _, err := pw.Write(slow[off:min(off+step, len(slow))]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", s.Base+path+"slow.eml", pr)
	req.ContentLength = int64(len(slow))
	req.Header.Set("Authorization", "Bearer "+s.Admin)
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("slow but live upload = %d %s, want 201", resp.StatusCode, body)
	}
}
