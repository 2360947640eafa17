package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// The relay marks what it sent in one statement: the items before a send
// that fails are marked sent, the failed one keeps its place with the
// attempt and the error noted, and the next relay starts from it.
func TestRelayStopsAtAFailedSendAndMarksWhatWentOut(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		if _, err := db.Pool().Exec(ctx, "INSERT INTO outbox (task_type, task_id, payload) VALUES ('test:relay', $1, '{}')",
			fmt.Sprintf("relay-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var sent []string
	failAt := "relay-3"
	send := func(it *casefile.OutboxItem) error {
		if it.TaskID == failAt {
			return errors.New("the queue is down")
		}
		sent = append(sent, it.TaskID)
		return nil
	}
	if n, err := db.RelayOutbox(ctx, 10, send); err != nil || n != 2 {
		t.Fatalf("first relay: %d %v", n, err)
	}
	if fmt.Sprint(sent) != "[relay-1 relay-2]" {
		t.Fatalf("sent %v", sent)
	}
	state := func() string {
		rows, err := db.Pool().Query(ctx, `SELECT task_id, enqueued_at IS NOT NULL, attempts, coalesce(last_error, '')
			FROM outbox WHERE task_type = 'test:relay' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := ""
		for rows.Next() {
			var id, lastErr string
			var enqueued bool
			var attempts int
			if err := rows.Scan(&id, &enqueued, &attempts, &lastErr); err != nil {
				t.Fatal(err)
			}
			out += fmt.Sprintf("%s %v %d %q; ", id, enqueued, attempts, lastErr)
		}
		return out
	}
	want := `relay-1 true 1 ""; relay-2 true 1 ""; relay-3 false 1 "the queue is down"; relay-4 false 0 ""; `
	if got := state(); got != want {
		t.Fatalf("after the failed send:\n got %s\nwant %s", got, want)
	}
	failAt = ""
	if n, err := db.RelayOutbox(ctx, 10, send); err != nil || n != 2 {
		t.Fatalf("second relay: %d %v", n, err)
	}
	want = `relay-1 true 1 ""; relay-2 true 1 ""; relay-3 true 2 ""; relay-4 true 1 ""; `
	if got := state(); got != want || fmt.Sprint(sent) != "[relay-1 relay-2 relay-3 relay-4]" {
		t.Fatalf("after the second relay:\n got %s\nwant %s (sent %v)", got, want, sent)
	}
	if n, err := db.PendingOutbox(ctx); err != nil || n != 0 {
		t.Fatalf("pending: %d %v", n, err)
	}
}
