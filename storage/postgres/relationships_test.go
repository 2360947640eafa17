package postgres_test

import (
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

func TestRelationshipsShowBothWays(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	mum, amy, rory := mustPerson(t, db, "REL-MUM"), mustPerson(t, db, "REL-AMY"), mustPerson(t, db, "REL-RORY")

	r, err := db.AddRelationship(ctx, amy.ID, mum.ID, "parent")
	if err != nil || r.Kind != "parent" || r.Person.ID != mum.ID || r.Person.ExternalRef != "REL-MUM" {
		t.Fatalf("add: %+v, %v", r, err)
	}
	if _, err := db.AddRelationship(ctx, rory.ID, amy.ID, "sibling"); err != nil {
		t.Fatal(err)
	}
	kinds := func(id string) map[string]string {
		t.Helper()
		rs, err := db.Relationships(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rs {
			out[r.Person.ExternalRef] = r.Kind
		}
		return out
	}
	if got := kinds(amy.ID); got["REL-MUM"] != "parent" || got["REL-RORY"] != "sibling" || len(got) != 2 {
		t.Errorf("Amy's relationships: %v", got)
	}
	if got := kinds(mum.ID); got["REL-AMY"] != "child" || len(got) != 1 {
		t.Errorf("Mum's relationships (the other way round): %v", got)
	}
	if got := kinds(rory.ID); got["REL-AMY"] != "sibling" || len(got) != 1 {
		t.Errorf("Rory's relationships: %v", got)
	}

	for name, c := range map[string]struct {
		from, to, kind, code string
	}{
		"recorded again the other way": {mum.ID, amy.ID, "child", "relationship_exists"},
		"to oneself":                   {amy.ID, amy.ID, "sibling", "same_person"},
		"an unknown kind":              {amy.ID, rory.ID, "neighbour", "invalid_kind"},
		"an unknown person":            {amy.ID, "0190a0c0-0000-7000-8000-000000000999", "other", "to_person_not_found"},
	} {
		if _, err := db.AddRelationship(ctx, c.from, c.to, c.kind); casefile.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{PersonID: mum.ID, Action: "relationship.create"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("the relationship is audited on the other record too: %d events, %v", len(evs), err)
	}
}
