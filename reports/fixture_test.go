package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // london, wherever the tests run

	"github.com/google/go-cmp/cmp"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/reports"
	"github.com/council/casefile/storage/postgres"
)

// london is the council's zone in these tests: CASEFILE_TIMEZONE's default.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// fixture is a fresh database with two teams and the people of a council's
// children's services: practitioners in one team, both or none, a manager
// of the Blue team, an ICT officer, a records officer and an auditor. Each
// report's test seeds what it counts through the real services and works
// out the figures itself, in Go, from what it seeded.
type fixture struct {
	t      *testing.T
	db     *postgres.DB
	notes  *notes.Service
	svc    *reports.Service
	teams  map[string]*casefile.Team
	actors map[string]casefile.Actor
	admin  context.Context
}

const (
	blue  = "Blue team"
	green = "Green team"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testenv.Postgres(t)
	admin := casefile.WithActor(context.Background(), casefile.Actor{Name: "admin", Role: casefile.RoleAdmin, Kind: casefile.ActorUser,
		ID: "0190a0c0-0000-7000-8000-0000000000ad"})
	f := &fixture{t: t, db: db, notes: &notes.Service{Store: db, Audit: db, Refusals: db},
		svc: &reports.Service{Store: db, Audit: db, Zone: london}, teams: map[string]*casefile.Team{}, actors: map[string]casefile.Actor{}, admin: admin}
	for _, name := range []string{blue, green} {
		tm, err := db.CreateTeam(admin, name)
		if err != nil {
			t.Fatal(err)
		}
		f.teams[name] = tm
	}
	people := []struct {
		name  string
		role  casefile.Role
		teams []string
	}{
		{"Jo Bloggs", casefile.RolePractitioner, []string{blue}},
		{"Sam Patel", casefile.RolePractitioner, []string{blue, green}},
		{"Kim Lee", casefile.RolePractitioner, []string{green}},
		{"Lee Moss", casefile.RolePractitioner, nil},
		{"Mia Khan", casefile.RoleManager, []string{blue}},
		{"Ian Shaw", casefile.RoleICT, []string{green}},
		{"Rob Ode", casefile.RoleRecordsOfficer, nil},
		{"Aud Itor", casefile.RoleAuditor, nil},
	}
	for _, p := range people {
		u, err := db.SignInUser(admin, casefile.SignIn{Issuer: "https://idp.test", Subject: p.name, Name: p.name})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tn := range p.teams {
			ids = append(ids, f.teams[tn].ID)
		}
		if err := db.SetUserTeams(admin, u.ID, ids); err != nil {
			t.Fatal(err)
		}
		f.actors[p.name] = casefile.Actor{ID: u.ID, Kind: casefile.ActorUser, Name: p.name, Role: p.role, Teams: ids}
	}
	return f
}

func (f *fixture) as(name string) context.Context {
	a, ok := f.actors[name]
	if !ok {
		f.t.Fatalf("no actor %s", name)
	}
	return casefile.WithActor(context.Background(), a)
}

// teamsOf returns the (id, name) of each of the person's teams, or the one
// row of no team.
func (f *fixture) teamsOf(name string) [][2]string {
	var out [][2]string
	for _, id := range f.actors[name].Teams {
		for tn, tm := range f.teams {
			if tm.ID == id {
				out = append(out, [2]string{id, tn})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, [2]string{"", "No team"})
	}
	return out
}

var refs int

func (f *fixture) person() string {
	f.t.Helper()
	refs++
	dob := casefile.Date{Year: 2015, Month: 3, Day: 1}
	p := &casefile.Person{ExternalRef: fmt.Sprintf("LCS-%06d", refs), GivenName: "Child", FamilyName: strconv.Itoa(refs), DateOfBirth: &dob}
	if err := f.db.CreatePerson(f.admin, p); err != nil {
		f.t.Fatal(err)
	}
	return p.ID
}

func (f *fixture) note(author, personID, typ string, occurred time.Time) *casefile.Note {
	f.t.Helper()
	n, err := f.notes.Create(f.as(author), notes.NewNote{PersonID: personID, Type: typ, OccurredAt: occurred,
		Body: "Visited; the child was well and talked about school."})
	if err != nil {
		f.t.Fatalf("note by %s: %v", author, err)
	}
	return n
}

// table is a report as rows of text keyed by column, as JSON and as CSV
// give it, with the JSON's totals.
type table struct {
	rows   []map[string]string
	totals map[string]any
	rep    *reports.Report
}

// build builds a report as name would read it, and checks that its JSON and
// its CSV say the same.
func (f *fixture) build(as, name string, from, to casefile.Date) (*table, error) {
	f.t.Helper()
	rep, err := f.svc.Build(f.as(as), reports.Request{Name: name, From: from, To: to, Format: "json"})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		f.t.Fatal(err)
	}
	var doc struct {
		Name        string           `json:"name"`
		From        string           `json:"from"`
		To          string           `json:"to"`
		GeneratedAt time.Time        `json:"generated_at"`
		Rows        []map[string]any `json:"rows"`
		Totals      map[string]any   `json:"totals"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		f.t.Fatal(err)
	}
	if doc.Name != name || doc.From != from.String() || doc.GeneratedAt.IsZero() || doc.Rows == nil || doc.Totals == nil {
		f.t.Fatalf("%s JSON head: %s", name, b)
	}
	var jsonRows []map[string]string
	for _, r := range doc.Rows {
		m := map[string]string{}
		for k, v := range r {
			m[k] = text(v)
		}
		jsonRows = append(jsonRows, m)
	}
	recs, err := csv.NewReader(bytes.NewReader(rep.CSV())).ReadAll()
	if err != nil {
		f.t.Fatalf("%s CSV: %v", name, err)
	}
	var keys []string
	for _, c := range rep.Columns {
		keys = append(keys, c.Key)
	}
	if !slices.Equal(recs[0], keys) {
		f.t.Fatalf("%s CSV header %v, want %v", name, recs[0], keys)
	}
	var csvRows []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, k := range keys {
			m[k] = normal(rec[i])
		}
		csvRows = append(csvRows, m)
	}
	if d := cmp.Diff(jsonRows, csvRows); d != "" {
		f.t.Fatalf("%s: JSON and CSV differ (-json +csv):\n%s", name, d)
	}
	return &table{rows: jsonRows, totals: doc.Totals, rep: rep}, nil
}

// text writes a JSON value as the CSV does.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return normal(x)
	}
	return fmt.Sprint(v)
}

// normal writes a time to the second, as the CSV does.
func normal(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return s
}

// pick keeps the columns keys of each row, sorted, for comparison.
func pick(rows []map[string]string, keys ...string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+r[k])
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out
}

func sorted(xs []string) []string {
	sort.Strings(xs)
	return xs
}

func wantRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if d := cmp.Diff(sorted(want), got); d != "" {
		t.Errorf("%s rows (-want +got):\n%s", what, d)
	}
}

func wantTotal(t *testing.T, tb *table, key string, want any) {
	t.Helper()
	if got := text(tb.totals[key]); got != text(want) {
		t.Errorf("%s total %s = %q, want %q", tb.rep.Name, key, got, text(want))
	}
}

// pct is part of whole in per cent to one decimal place, as people count it.
func pct(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fmt.Sprintf("%.1f", float64(part)*100/float64(whole)), 64)
	return v
}

func today() casefile.Date { return casefile.Today() }
