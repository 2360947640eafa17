package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

func TestPersonFinder(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := actorCtx()
	add := func(ref, given, family string, dob casefile.Date) *casefile.Person {
		p := &casefile.Person{ExternalRef: ref, GivenName: given, FamilyName: family, DateOfBirth: &dob}
		if err := db.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zoe := add("LCS-100200", "Zoë", "Łukasiewicz", casefile.Date{Year: 2014, Month: 2, Day: 28})
	amy := add("LCS-100201", "Amy", "Pond", casefile.Date{Year: 2012, Month: 7, Day: 1})
	rory := add("EHM-5521", "Rory", "Williams-Pond", casefile.Date{Year: 2010, Month: 3, Day: 9})
	add("LCS-300300", "Percy", "Underscore_Name", casefile.Date{Year: 2009, Month: 1, Day: 1})

	find := func(q string) []string {
		t.Helper()
		ps, _, err := db.FindPersons(ctx, casefile.PersonFilter{Query: q})
		if err != nil {
			t.Fatalf("find %q: %v", q, err)
		}
		var refs []string
		for _, p := range ps {
			refs = append(refs, p.ExternalRef)
		}
		return refs
	}
	for q, want := range map[string][]string{
		"zoe":         {zoe.ExternalRef}, // accent-insensitive
		"LUKASIEW":    {zoe.ExternalRef}, // in part, case-insensitive, Ł folded
		"pond":        {amy.ExternalRef, rory.ExternalRef},
		"amy pond":    {amy.ExternalRef},                  // every word
		"pond amy":    {amy.ExternalRef},                  // in any order
		"lcs-1002":    {zoe.ExternalRef, amy.ExternalRef}, // the beginning of a reference
		"ehm-5521":    {rory.ExternalRef},
		"28/02/2014":  {zoe.ExternalRef}, // date of birth as people write it
		"2010-03-09":  {rory.ExternalRef},
		"%":           nil, // LIKE characters match themselves
		"_":           {"LCS-300300"},
		"nobody here": nil,
	} {
		got := find(q)
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("find %q = %v, want %v", q, got, w)
		}
	}

	// Paged in name order.
	ps, next, err := db.FindPersons(ctx, casefile.PersonFilter{Query: "pond", Page: casefile.Page{Limit: 1}})
	if err != nil || len(ps) != 1 || ps[0].ID != amy.ID || next == "" {
		t.Fatalf("first page: %v %q %v", ps, next, err)
	}
	ps, next, err = db.FindPersons(ctx, casefile.PersonFilter{Query: "pond", Page: casefile.Page{Limit: 1, Cursor: next}})
	if err != nil || len(ps) != 1 || ps[0].ID != rory.ID || next != "" {
		t.Fatalf("second page: %v %q %v", ps, next, err)
	}
	if _, _, err := db.FindPersons(ctx, casefile.PersonFilter{Query: "pond", Page: casefile.Page{Cursor: "x"}}); casefile.ErrorKind(err) != casefile.EInvalid {
		t.Fatalf("bad cursor: %v", err)
	}

	// The search is audited without what was typed.
	evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Action: "person.search", Page: casefile.Page{Limit: 500}})
	if err != nil || len(evs) == 0 {
		t.Fatalf("person.search events: %d, %v", len(evs), err)
	}
	for _, ev := range evs {
		for _, typed := range []string{"zoe", "LUKASIEW", "amy", "pond"} {
			if containsFold(string(ev.Details), typed) {
				t.Fatalf("search event keeps what was typed: %s", ev.Details)
			}
		}
	}

	// A restricted record the caller may not see: left out of a search by
	// name, shown as its id alone when looked up by its reference.
	tk, _, err := db.CreateToken(ctx, "a manager's token", casefile.RoleManager, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	manager := casefile.WithActor(context.Background(), casefile.Actor{ID: tk.ID, Kind: casefile.ActorToken, Name: tk.Name, Role: casefile.RoleManager})
	outsider := as(uid(), casefile.RolePractitioner)
	if _, err := db.Restrict(manager, amy.ID, casefile.RestrictionInput{Reason: "a staff member's relative",
		UserIDs: []string{casefile.ActorFrom(manager).ID}}); err != nil {
		t.Fatal(err)
	}
	ps, _, err = db.FindPersons(outsider, casefile.PersonFilter{Query: "pond"})
	if err != nil || len(ps) != 1 || ps[0].ID != rory.ID {
		t.Fatalf("outsider's search for pond: %+v, %v", ps, err)
	}
	ps, _, err = db.FindPersons(outsider, casefile.PersonFilter{Query: "lcs-100201"})
	if err != nil || len(ps) != 1 || ps[0].ID != amy.ID || !ps[0].Restricted || ps[0].GivenName != "" || ps[0].DateOfBirth != nil {
		t.Fatalf("outsider's look-up by reference: %+v, %v", ps, err)
	}
	if ps, _, err = db.FindPersons(manager, casefile.PersonFilter{Query: "amy"}); err != nil || len(ps) != 1 || ps[0].Restricted {
		t.Fatalf("the restriction's owner finds the record: %+v, %v", ps, err)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
