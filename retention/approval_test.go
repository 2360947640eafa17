package retention_test

import (
	"testing"

	"github.com/council/casefile"
)

// A real run stops with its disposal list before anything is destroyed.
func TestRealRunStopsForApprovalAndDestroysNothing(t *testing.T) {
	e := newEnv(t)
	a := e.person("A", casefile.Today().AddDays(-3))
	d := e.document(a, "letter about A")
	r, err := e.db.CreateRun(e.ctx, false, casefile.Today())
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.runner.Execute(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "awaiting_approval" || got.Destroyed != 0 || got.Due != 2 || got.Certificate != nil {
		t.Fatalf("real run before approval: state %s due %d destroyed %d certificate %v", got.State, got.Due, got.Destroyed, got.Certificate)
	}
	if st, text, _ := e.docState(d.ID); st != "active" || text == nil || e.versions(d.Key) != 1 {
		t.Fatalf("a document was destroyed without approval: %s", st)
	}
}
