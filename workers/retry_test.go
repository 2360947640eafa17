package workers

import (
	"testing"
	"time"
)

// Retries start quickly, never wait more than an hour (plus jitter), and a
// task that keeps failing is given up after about a day, not three weeks.
func TestRetryDelay(t *testing.T) {
	var total time.Duration
	prev := time.Duration(0)
	for n := 0; n < MaxRetry; n++ {
		d := RetryDelay(n, nil, nil)
		switch {
		case n == 0 && (d < 10*time.Second || d > 11*time.Second):
			t.Fatalf("first retry after %v, want 10-11 s", d)
		case d > 66*time.Minute:
			t.Fatalf("retry %d after %v, more than an hour and its jitter", n, d)
		case n < 9 && d < prev:
			t.Fatalf("retry %d after %v, sooner than retry %d (%v)", n, d, n-1, prev)
		}
		prev = d
		total += d
	}
	if total < 12*time.Hour || total > 36*time.Hour {
		t.Fatalf("a task failing every time is given up after %v, want about a day", total)
	}
}
