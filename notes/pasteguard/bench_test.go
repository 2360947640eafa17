package pasteguard

import (
	"strings"
	"testing"
)

// bodies of about 1 MiB (the API's limit) built to hit each rule's inner
// loops: one giant line of labels, a label on every line, thousands of
// addresses and disclaimer phrases, and ordinary prose.
func largeBodies() map[string]string {
	const mib = 1 << 20
	fill := func(unit string) string { return strings.Repeat(unit, mib/len(unit)) }
	return map[string]string{
		"prose":            fill("Home visit. Mum and the children seen; kitchen clean. Discussed attendance and the plan.\n"),
		"one long line":    fill("From: a To: b Cc: c Sent: "),
		"label every line": fill("To: x\n"),
		"colons":           fill(":"),
		"addresses":        fill("a@b.c @@ x@ "),
		"disclaimers":      fill("if you have received this email in error\n"),
		"newlines":         fill("\n"),
		"quotes":           fill("> On 3 March 2025 wrote:\n"),
		"headers":          fill("X-Long-Header: v\n"),
		"underscores":      fill("__________\n"),
	}
}

func BenchmarkCheck(b *testing.B) {
	for name, body := range largeBodies() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Check(body)
			}
		})
	}
}
