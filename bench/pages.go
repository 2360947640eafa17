package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// pageClient is a browser's session on the pages: signed in through the
// token form with a practitioner's token, cookies kept.
type pageClient struct {
	s      *server
	client *http.Client
}

var (
	formToken = regexp.MustCompile(`name="(?:form_token|csrf_token)" value="([^"]+)"`)
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// signIn makes a practitioner's token with the CLI and signs in with it.
func (s *server) signIn() (*pageClient, error) {
	cmd := exec.Command(s.cmd.Path, "token", "create", "--name", "Bench Practitioner", "--role", "practitioner")
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]
	jar, _ := cookiejar.New(nil)
	c := &pageClient{s: s, client: &http.Client{Jar: jar}}
	body, _, err := c.get("/auth/login")
	if err != nil {
		return nil, err
	}
	m := formToken.FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no sign-in form at /auth/login")
	}
	resp, err := c.client.PostForm(s.base+"/auth/login", url.Values{"form_token": {m[1]}, "token": {token}, "next": {"/persons"}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/persons" {
		return nil, fmt.Errorf("sign-in with the token form: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	return c, nil
}

// get reads a page and says how long the server took to send all of it.
func (c *pageClient) get(path string) (string, time.Duration, error) {
	t0 := time.Now()
	resp, err := c.client.Get(c.s.base + path)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	d := time.Since(t0)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return string(b), d, err
}

// benchRecordPage opens a record of 5,000 notes and 500 documents (emails
// whose dates fall among the notes) as a practitioner does: the record page,
// first screen, newest first and oldest first, one reader at a time.
func benchRecordPage(s *server) error {
	pid, err := s.person("BENCH-RECORD", "2013-05-05")
	if err != nil {
		return err
	}
	if err := s.notes(pid, *pageNotes); err != nil {
		return err
	}
	idx := make([]int, *pageDocs)
	for i := range idx {
		idx[i] = i
	}
	start := time.Now().UTC().Add(-time.Duration(*pageNotes) * time.Minute)
	err = parallel(idx, func(i int) error {
		at := start.Add(time.Duration(i) * time.Duration(*pageNotes/max(*pageDocs, 1)) * time.Minute).Add(30 * time.Second)
		eml := fmt.Sprintf("From: School <office@school.example.org>\r\nTo: duty@council.example.gov.uk\r\nSubject: Attendance %d\r\nDate: %s\r\n\r\nAttendance letter %d.\r\n",
			i, at.Format(time.RFC1123Z), i)
		_, _, err := s.call("POST", fmt.Sprintf("/v1/persons/%s/documents?filename=letter-%d.eml", pid, i), strings.NewReader(eml), int64(len(eml)), "message/rfc822")
		return err
	})
	if err != nil {
		return err
	}
	c, err := s.signIn()
	if err != nil {
		return err
	}
	for _, order := range []struct{ what, query string }{{"newest first", ""}, {"oldest first", "?order=oldest"}} {
		var lat []float64
		for i := 0; i < 60; i++ {
			body, d, err := c.get("/persons/" + pid + order.query)
			if err != nil {
				return err
			}
			if !strings.Contains(body, "moj-timeline__item") {
				return fmt.Errorf("the record page shows no chronology")
			}
			if i >= 10 { // the first reads warm the caches
				lat = append(lat, float64(d.Microseconds())/1000)
			}
		}
		fmt.Printf("record page, %d notes and %d documents, first screen %s (one reader): p50 %.1f ms, p99 %.1f ms (target < 200 ms)\n",
			*pageNotes, *pageDocs, order.what, pct(lat, 50), pct(lat, 99))
	}
	return nil
}

// benchPageUpload sends one large file through the record page as a
// browser does, first as the drop zone's script sends it (the file as the
// body, the token in a header), then as the plain form without JavaScript
// (multipart, the token first), and gives the server's peak RSS for each.
func benchPageUpload(s *server, pid string, size int64) error {
	c, err := s.signIn()
	if err != nil {
		return err
	}
	body, _, err := c.get("/persons/" + pid)
	if err != nil {
		return err
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		return fmt.Errorf("no CSRF token on the record page")
	}
	measure := func(what string, req *http.Request, filed func([]byte) bool) error {
		before := s.vmRSS()
		s.resetHWM()
		t0 := time.Now()
		resp, err := c.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		d := time.Since(t0)
		if resp.StatusCode != 200 || !filed(page) {
			return fmt.Errorf("upload through the page (%s): %d\n%s", what, resp.StatusCode, page)
		}
		peak := s.vmHWM()
		fmt.Printf("large upload through the record page, %s: %d MiB in %.1fs (%.0f MiB/s); peak RSS %.1f MiB, %+.1f MiB over the %.1f MiB resident before (target < 80 MiB, as the API)\n",
			what, size>>20, d.Seconds(), float64(size>>20)/d.Seconds(), peak, peak-before, before)
		return nil
	}

	req, _ := http.NewRequest("POST", s.base+"/persons/"+pid+"/documents?filename=page-drop.bin", &pattern{n: size, seed: 21})
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", m[1])
	if err := measure("dropped (the script's request)", req, func(b []byte) bool { return bytes.Contains(b, []byte(`"outcome":"filed"`)) }); err != nil {
		return err
	}

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("csrf_token", m[1])
		if err == nil {
			var part io.Writer
			if part, err = mw.CreateFormFile("files", "page-form.bin"); err == nil {
				if _, err = io.Copy(part, &pattern{n: size, seed: 22}); err == nil {
					err = mw.Close()
				}
			}
		}
		pw.CloseWithError(err)
	}()
	req, _ = http.NewRequest("POST", s.base+"/persons/"+pid+"/documents", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return measure("the plain form without JavaScript (multipart)", req, func(b []byte) bool { return bytes.Contains(b, []byte("1 filed,")) })
}
