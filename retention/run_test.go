package retention_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/retention"
	"github.com/council/casefile/storage/s3"
)

// crashingObjects fails the batch delete after the first call, as a worker
// killed in the middle of a run would stop.
type crashingObjects struct {
	*s3.Store
	calls, crashAfter int
}

func (c *crashingObjects) DestroyObjects(ctx context.Context, objs []casefile.DueObject) (map[string]error, error) {
	c.calls++
	if c.crashAfter > 0 && c.calls > c.crashAfter {
		return nil, casefile.Unavailable("worker", errors.New("killed"))
	}
	return c.Store.DestroyObjects(ctx, objs)
}

// TestInterruptedRunResumes: a run that stops half-way resumes on the next
// delivery, destroys everything due exactly once, and certifies it once.
func TestInterruptedRunResumes(t *testing.T) {
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "records.officer", Role: casefile.RoleRecordsOfficer})
	db, store := testenv.Postgres(t), testenv.S3(t)
	db.SetRetentionPolicy(retention.Policy{S: retention.DefaultSchedule()})
	dob := casefile.DateOf(time.Now().UTC().AddDate(-31, 0, 0))
	p := &casefile.Person{ExternalRef: "RUN-1", GivenName: "A", FamilyName: "B", DateOfBirth: &dob}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	ended := casefile.Date{Year: 2001, Month: 1, Day: 1}
	if err := db.AddInvolvement(ctx, &casefile.Involvement{PersonID: p.ID, Kind: "early_help", StartedOn: casefile.Date{Year: 2000, Month: 1, Day: 1}, EndedOn: &ended}); err != nil {
		t.Fatal(err)
	}
	const n = 25
	for i := 0; i < n; i++ {
		body := []byte(fmt.Sprintf("document %d", i))
		sum := sha256.Sum256(body)
		id := fmt.Sprintf("0190a0c0-0000-7000-8000-%012d", i)
		key := "documents/" + id
		if _, err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "text/plain", time.Now().AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		d := &casefile.Document{ID: id, PersonID: p.ID, Kind: "file", Filename: "d.txt", Category: "other", ContentType: "text/plain",
			Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ObjectKey: key}
		if err := db.CreateDocument(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
	}
	run, err := db.CreateRun(ctx, false, casefile.Today())
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(retention.RunPayload{RunID: run.ID})
	objs := &crashingObjects{Store: store, crashAfter: 1}
	eng := &retention.Engine{Store: db, Objects: objs, Batch: 10}
	if err := eng.HandleRun(ctx, payload); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("interrupted run returned %v", err)
	}
	mid, _ := db.RetentionRun(ctx, run.ID)
	if mid.State != "running" || mid.Certificate != nil {
		t.Fatalf("after the interruption: %+v", mid)
	}
	objs.crashAfter = 0
	if err := eng.HandleRun(ctx, payload); err != nil {
		t.Fatal(err)
	}
	done, _ := db.RetentionRun(ctx, run.ID)
	if done.State != "done" || done.Destroyed != n+1 || done.Certificate == nil || len(done.Certificate.Items) != n+1 {
		t.Fatalf("after resuming: state %s, destroyed %d, certificate %+v", done.State, done.Destroyed, done.Certificate)
	}
	seen := map[string]bool{}
	for _, it := range done.Certificate.Items {
		if seen[it.ItemID] {
			t.Fatalf("%s certified twice", it.ItemID)
		}
		seen[it.ItemID] = true
	}
	for i := 0; i < n; i++ {
		if _, err := store.Stat(ctx, fmt.Sprintf("documents/0190a0c0-0000-7000-8000-%012d", i)); casefile.ErrorKind(err) != casefile.ENotFound {
			t.Fatalf("object %d survived: %v", i, err)
		}
	}
	// Delivered once more: nothing changes.
	if err := eng.HandleRun(ctx, payload); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: p.ID, Page: casefile.Page{Limit: 500}})
	destroys := 0
	for _, e := range evs {
		if e.Action == "retention.destroy" {
			destroys++
		}
	}
	if destroys != 1 {
		t.Fatalf("%d retention.destroy events", destroys)
	}
}
