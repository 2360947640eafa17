package tickets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
)

type destroyer struct{ s *s3.Store }

func (d destroyer) Destroy(ctx context.Context, key string) error { return d.s.Destroy(ctx, key) }

// setup stores a person with one document whose object is under Object Lock,
// and an approved removal ticket for it.
func setup(t *testing.T) (context.Context, *postgres.DB, *s3.Store, *casefile.Ticket) {
	ctx := casefile.WithActor(context.Background(), raiser)
	db, store := testenv.Postgres(t), testenv.S3(t)
	dob := casefile.Date{Year: 2012, Month: 1, Day: 1}
	p := &casefile.Person{ExternalRef: "K-1", GivenName: "A", FamilyName: "B", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	body := []byte("a pasted email")
	sum := sha256.Sum256(body)
	d := &casefile.Document{ID: "0190a0c0-0000-7000-8000-0000000000d1", PersonID: p.ID, Kind: casefile.DocumentFile, Filename: "x.txt",
		Category: "correspondence", ContentType: "text/plain", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]),
		ObjectKey: "documents/0190a0c0-0000-7000-8000-0000000000d1"}
	if _, err := store.Put(ctx, d.ObjectKey, bytes.NewReader(body), int64(len(body)), "text/plain", time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDocument(ctx, d, ""); err != nil {
		t.Fatal(err)
	}
	tk := &casefile.Ticket{Kind: casefile.TicketRemoval, TargetType: "document", TargetID: d.ID, Reason: "pasted"}
	if err := db.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApproveTicket(casefile.WithActor(ctx, approver), tk.ID); err != nil {
		t.Fatal(err)
	}
	return ctx, db, store, tk
}

func payload(id string) []byte {
	b, _ := json.Marshal(Payload{TicketID: id})
	return b
}

func removeEvents(t *testing.T, ctx context.Context, db *postgres.DB) int {
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Page: casefile.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Action == "document.remove" {
			n++
		}
	}
	return n
}

// A worker that dies between marking the document removed and destroying its
// object leaves no half-done removal: reads already show it removed, and the
// retry finishes the job once.
func TestRemovalInterruptedMidTaskFinishesOnRetry(t *testing.T) {
	ctx, db, store, tk := setup(t)
	p := &Processor{Store: db, Blobs: destroyer{store}}
	p.SetAfterMark(func() error { return casefile.Unavailable("worker", context.Canceled) })
	if err := p.Handle(ctx, payload(tk.ID)); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("interrupted run: %v, want a retryable error", err)
	}
	if _, err := db.OpenDocument(ctx, "0190a0c0-0000-7000-8000-0000000000d1"); casefile.ErrorCode(err) != "removed" {
		t.Fatalf("after the interruption the content is served: %v", err)
	}
	if got, _ := db.Ticket(ctx, tk.ID); got.State != casefile.TicketApproved {
		t.Fatalf("ticket after interruption = %s", got.State)
	}
	p.SetAfterMark(nil)
	if err := p.Handle(ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, "documents/0190a0c0-0000-7000-8000-0000000000d1"); casefile.ErrorKind(err) != casefile.ENotFound {
		t.Fatalf("object after the retry: %v", err)
	}
	if got, _ := db.Ticket(ctx, tk.ID); got.State != casefile.TicketDone {
		t.Fatalf("ticket after the retry = %s", got.State)
	}
	// Running it once more (a duplicate delivery) changes nothing.
	if err := p.Handle(ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if n := removeEvents(t, ctx, db); n != 1 {
		t.Fatalf("%d document.remove events, want 1", n)
	}
}

func TestHandlerIsIdempotent(t *testing.T) {
	ctx, db, store, tk := setup(t)
	p := &Processor{Store: db, Blobs: destroyer{store}}
	for i := 0; i < 3; i++ {
		if err := p.Handle(ctx, payload(tk.ID)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := db.Ticket(ctx, tk.ID)
	if got.State != casefile.TicketDone || removeEvents(t, ctx, db) != 1 {
		t.Fatalf("after three deliveries: %s, %d events", got.State, removeEvents(t, ctx, db))
	}
	if err := p.Handle(ctx, []byte("{")); casefile.ErrorKind(err) != casefile.EInvalid {
		t.Fatalf("bad payload: %v", err)
	}
}

// A legal hold outranks a removal: the ticket fails, saying why, and nothing
// is destroyed; after the hold is released a retry carries it out.
func TestRemovalRefusedUnderLegalHold(t *testing.T) {
	ctx, db, store, tk := setup(t)
	h := &casefile.Hold{Name: "Inquiry", Reason: "moratorium", PersonIDs: []string{tk.PersonID}}
	if err := db.CreateHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	p := &Processor{Store: db, Blobs: destroyer{store}}
	if err := p.Handle(ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Ticket(ctx, tk.ID)
	if got.State != casefile.TicketFailed || !strings.Contains(got.Error, "under_legal_hold") {
		t.Fatalf("ticket under a hold = %s %q", got.State, got.Error)
	}
	if _, err := store.Stat(ctx, "documents/0190a0c0-0000-7000-8000-0000000000d1"); err != nil {
		t.Fatalf("object under a hold was touched: %v", err)
	}
	if _, err := db.ReleaseHold(ctx, h.ID, "inquiry over"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RetryTicket(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(ctx, payload(tk.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Ticket(ctx, tk.ID); got.State != casefile.TicketDone {
		t.Fatalf("after release and retry = %s %q", got.State, got.Error)
	}
}
