package retention_test

import (
	"testing"

	"github.com/council/casefile"
)

// An object filed on two records (a sibling link) follows both: a hold on
// the sibling's record puts the S3 legal hold on it; the first record's
// destruction destroys that record's document but keeps the object, whose
// legal hold stays on; once the sibling's record is due too (with the first
// record's copy in the same batch or before), the object goes, its hold
// lifted, exactly once.
func TestLinkedObjectGoesWithTheLastRecord(t *testing.T) {
	e := newEnv(t)
	amy := e.person("AMY", casefile.Today().AddDays(-1))
	rory := e.person("RORY", casefile.Today().AddDays(10))
	d := e.document(amy, "School letter about Amy and Rory")
	link, _, err := e.db.LinkDocument(e.ctx, d.ID, rory.ID)
	if err != nil {
		t.Fatal(err)
	}
	hold := &casefile.Hold{Name: "Proceedings", Reason: "court", PersonIDs: []string{rory.ID}}
	if err := e.db.CreateHold(e.ctx, hold); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sweep.SyncHolds(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !legalHold(t, e, d.Key) {
		t.Fatal("no S3 legal hold on the object although the sibling's record is held")
	}

	run := e.run(false, casefile.Today())
	if st, _, _ := e.docState(d.ID); st != casefile.StatusDestroyed || run.Destroyed < 1 {
		t.Fatalf("Amy's copy after her run: %s (destroyed %d)", st, run.Destroyed)
	}
	if st, text, _ := e.docState(link.ID); st != casefile.StatusActive || text == nil {
		t.Fatalf("Rory's copy after Amy's destruction: %s, text %v", st, text)
	}
	if e.versions(d.Key) != 1 || !legalHold(t, e, d.Key) {
		t.Fatalf("the object after the first record let it go: %d versions, legal hold %v; want kept, held", e.versions(d.Key), legalHold(t, e, d.Key))
	}

	// Rory's record comes due; his hold is released: the object goes.
	if _, err := e.db.ReleaseHold(e.ctx, hold.ID, "proceedings over"); err != nil {
		t.Fatal(err)
	}
	run = e.run(false, casefile.Today().AddDays(10))
	if st, _, _ := e.docState(link.ID); st != casefile.StatusDestroyed {
		t.Fatalf("Rory's copy after his run: %s", st)
	}
	if n := e.versions(d.Key); n != 0 {
		t.Fatalf("the object after the last record let it go: %d versions", n)
	}
}

// Two records' copies due in one batch: both are destroyed and the object
// once.
func TestLinkedCopiesDueTogetherDestroyTheObjectOnce(t *testing.T) {
	e := newEnv(t)
	due := casefile.Today().AddDays(-1)
	amy, rory := e.person("AMY2", due), e.person("RORY2", due)
	d := e.document(amy, "Letter about both")
	link, _, err := e.db.LinkDocument(e.ctx, d.ID, rory.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.run(false, casefile.Today())
	for _, id := range []string{d.ID, link.ID} {
		if st, _, _ := e.docState(id); st != casefile.StatusDestroyed {
			t.Fatalf("%s: %s, want destroyed", id, st)
		}
	}
	if n := e.versions(d.Key); n != 0 {
		t.Fatalf("the object: %d versions left", n)
	}
}
