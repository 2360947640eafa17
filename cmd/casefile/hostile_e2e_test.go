package main

import (
	"testing"
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
