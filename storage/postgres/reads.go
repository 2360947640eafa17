package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// auditShown appends, in tx, one read event per person whose data a read
// showed, in first-shown order, with count[person] as the number of things
// (tickets, holds, items) shown of theirs. Reads the service makes for its
// own work (workers, sweeps: system actors) are not reads of a record by a
// person and are not audited; what they change is.
func (db *DB) auditShown(ctx context.Context, tx pgx.Tx, action string, details map[string]any, order []string, count map[string]int) error {
	if casefile.ActorFrom(ctx).Kind == casefile.ActorSystem || len(order) == 0 {
		return nil
	}
	entries := make([]auditEntry, 0, len(order))
	for _, pid := range order {
		d := map[string]any{"shown": count[pid]}
		for k, v := range details {
			d[k] = v
		}
		entries = append(entries, auditEntry{Action: action, TargetType: "person", TargetID: pid, PersonID: pid, Details: d})
	}
	return db.appendAudits(ctx, tx, entries)
}

// shown counts, in first-seen order, the persons a read shows.
type shown struct {
	order []string
	count map[string]int
}

func (s *shown) add(ids ...string) {
	if s.count == nil {
		s.count = map[string]int{}
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if s.count[id] == 0 {
			s.order = append(s.order, id)
		}
		s.count[id]++
	}
}

// genericPlans queues, when generic is set, what queue queues between
// setting plan_cache_mode to force_generic_plan and resetting it, so that
// those statements run on the plan PostgreSQL keeps for each. Left to
// itself, PostgreSQL plans a statement afresh on every run when the plan made
// for the values given looks cheaper than the kept one, even when it is the
// same plan: a record's first page of notes was planned on 3 runs in 4, and
// planning took as long as running it. Use it only for statements whose
// plan does not depend on the values (no optional conditions, no words
// searched for). A batch runs in one implicit transaction, so a failure in
// it takes back the SET too: the connection goes back to the pool as it was.
// The caller reads one result more before and after queue's.
func genericPlans(b *pgx.Batch, queue func(), generic bool) {
	if !generic {
		queue()
		return
	}
	b.Queue("SET plan_cache_mode = force_generic_plan")
	queue()
	b.Queue("RESET plan_cache_mode")
}
