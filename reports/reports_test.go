package reports_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/reports"
)

const pasted = "From: Head Teacher <head@school.example.org>\nSent: 02 March 2026 09:00\nTo: Duty\nSubject: Attendance\n\nAmy Pond was absent again."

func TestLateNotes(t *testing.T) {
	f := newFixture(t)
	p1, p2 := f.person(), f.person()
	now := time.Now()
	seed := []struct {
		author string
		ago    time.Duration
		typ    string
	}{
		{"Jo Bloggs", time.Hour, "contact"},
		{"Jo Bloggs", 47*time.Hour + 50*time.Minute, "home_visit"}, // just inside two days
		{"Jo Bloggs", 48*time.Hour + 10*time.Minute, "contact"},    // just late
		{"Jo Bloggs", 10 * 24 * time.Hour, "cin_visit"},
		{"Sam Patel", 3 * 24 * time.Hour, "meeting"},
		{"Sam Patel", 5 * time.Minute, "telephone_call"},
		{"Sam Patel", 49 * time.Hour, "contact"},
		{"Kim Lee", 24 * time.Hour, "contact"},
		{"Kim Lee", 30 * 24 * time.Hour, "contact"},
		{"Lee Moss", 72 * time.Hour, "contact"},
	}
	type key struct{ teamID, team, authorID, author string }
	count := map[key][2]int{}
	var all, allLate, blueAll, blueLate int
	var first *casefile.Note
	for i, s := range seed {
		pid := p1
		if i%2 == 1 {
			pid = p2
		}
		n := f.note(s.author, pid, s.typ, now.Add(-s.ago))
		if first == nil {
			first = n
		}
		late := n.RecordedAt.Sub(n.OccurredAt) > 2*24*time.Hour
		b := 0
		if late {
			b = 1
		}
		all++
		allLate += b
		for _, tm := range f.teamsOf(s.author) {
			k := key{tm[0], tm[1], f.actors[s.author].ID, s.author}
			c := count[k]
			count[k] = [2]int{c[0] + 1, c[1] + b}
		}
		if slices.Contains(f.actors[s.author].Teams, f.teams[blue].ID) {
			blueAll++
			blueLate += b
		}
	}
	// A correction is late by nature and is not counted.
	if _, err := f.notes.Create(f.as("Jo Bloggs"), notes.NewNote{PersonID: p1, Type: "correction", OccurredAt: now.Add(-20 * 24 * time.Hour),
		Body: "The visit was on Tuesday, not Monday.", CorrectsNoteID: first.ID, CorrectionReason: "Wrong day given."}); err != nil {
		t.Fatal(err)
	}
	if allLate != 6 || all != 10 {
		t.Fatalf("fixture: %d of %d late (the boundaries moved?)", allLate, all)
	}
	var want, wantBlue []string
	for k, c := range count {
		row := fmt.Sprintf("team_id=%s team=%s author_id=%s author=%s notes=%d late=%d late_pct=%s", k.teamID, k.team, k.authorID, k.author,
			c[0], c[1], text(pct(c[1], c[0])))
		want = append(want, row)
		if k.team == blue {
			wantBlue = append(wantBlue, row)
		}
	}
	keys := []string{"team_id", "team", "author_id", "author", "notes", "late", "late_pct"}

	tb, err := f.build("Rob Ode", "late-notes", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "records officer", pick(tb.rows, keys...), want)
	wantTotal(t, tb, "notes", all)
	wantTotal(t, tb, "late", allLate)
	wantTotal(t, tb, "late_pct", pct(allLate, all))
	wantTotal(t, tb, "late_after_days", 2)

	// The manager of the Blue team sees the Blue team only; Sam's notes
	// count for Blue (and for Green, which she does not see), once each.
	tb, err = f.build("Mia Khan", "late-notes", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "manager", pick(tb.rows, keys...), wantBlue)
	wantTotal(t, tb, "notes", blueAll)
	wantTotal(t, tb, "late", blueLate)

	// A period that ends yesterday holds none of today's notes.
	tb, err = f.build("Aud Itor", "late-notes", today().AddDays(-29), today().AddDays(-1))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.rows) != 0 {
		t.Errorf("yesterday's period: %v", tb.rows)
	}
	wantTotal(t, tb, "notes", 0)

	// Another threshold changes what is late: five days.
	f.svc.LateNoteDays = 5
	tb, err = f.build("Rob Ode", "late-notes", today(), today())
	if err != nil {
		t.Fatal(err)
	}
	late5 := 0
	for _, s := range seed {
		if s.ago > 5*24*time.Hour {
			late5++
		}
	}
	wantTotal(t, tb, "late", late5)

	// Reading a report is audited, with no content.
	evs, _, err := f.db.AuditEvents(f.admin, casefile.AuditFilter{Action: "report.read"})
	if err != nil || len(evs) != 4 || evs[0].TargetID != "late-notes" || evs[0].PersonID != "" {
		t.Fatalf("report.read events: %v %v", evs, err)
	}
}

func TestPastedEmailRefusals(t *testing.T) {
	f := newFixture(t)
	p1 := f.person()
	visit := f.note("Jo Bloggs", p1, "cin_visit", time.Now().Add(-time.Hour))
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	seed := []struct {
		author, at, how string
	}{
		{"Jo Bloggs", "2025-12-29T10:00:00Z", "body"}, // Monday of ISO week 2026-W01
		{"Jo Bloggs", "2026-01-01T09:00:00Z", "body"},
		{"Jo Bloggs", "2026-01-05T08:00:00Z", "body"}, // W02
		{"Sam Patel", "2026-01-11T23:30:00Z", "body"}, // Sunday: still W02
		{"Sam Patel", "2026-01-12T00:30:00Z", "correction_reason"},
		{"Lee Moss", "2026-01-06T12:00:00Z", "body"},
		{"Ian Shaw", "2026-01-07T12:00:00Z", "amendment"},
		{"Jo Bloggs", "2026-02-20T12:00:00Z", "body"}, // after the period
	}
	from, to := casefile.Date{Year: 2025, Month: 12, Day: 29}, casefile.Date{Year: 2026, Month: 1, Day: 31}
	type key struct{ week, start, teamID, team, authorID, author string }
	count := map[key]int{}
	total, blueTotal := 0, 0
	for _, s := range seed {
		when := at(s.at)
		f.db.SetClock(func() time.Time { return when })
		var err error
		switch s.how {
		case "body":
			_, err = f.notes.Create(f.as(s.author), notes.NewNote{PersonID: p1, Type: "contact", OccurredAt: when.Add(-time.Hour), Body: pasted})
		case "correction_reason":
			_, err = f.notes.Create(f.as(s.author), notes.NewNote{PersonID: p1, Type: "correction", OccurredAt: when.Add(-time.Hour),
				Body: "The school rang, not emailed.", CorrectsNoteID: visit.ID, CorrectionReason: pasted})
		case "amendment":
			_, err = f.notes.Amend(f.as(s.author), visit.ID, "The visit went well.", pasted)
		}
		if casefile.ErrorCode(err) != "pasted_email" {
			t.Fatalf("%v: got %v, want pasted_email", s, err)
		}
		if when.Before(to.AddDays(1).Time()) {
			y, w := when.ISOWeek()
			monday := when.AddDate(0, 0, -((int(when.Weekday()) + 6) % 7))
			total++
			if slices.Contains(f.actors[s.author].Teams, f.teams[blue].ID) {
				blueTotal++
			}
			for _, tm := range f.teamsOf(s.author) {
				count[key{fmt.Sprintf("%04d-W%02d", y, w), casefile.DateOf(monday).String(), tm[0], tm[1], f.actors[s.author].ID, s.author}]++
			}
		}
	}
	f.db.SetClock(time.Now)

	// The events name the person, the author and their teams, never the text.
	evs, _, err := f.db.AuditEvents(f.admin, casefile.AuditFilter{Action: "note.refused_pasted_email"})
	if err != nil || len(evs) != len(seed) {
		t.Fatalf("events: %d %v", len(evs), err)
	}
	for _, e := range evs {
		d := string(e.Details)
		if e.PersonID != p1 || e.TargetType != "person" || e.TargetID != p1 || strings.Contains(d, "Amy") || strings.Contains(d, "Head Teacher") ||
			!strings.Contains(d, `"author_id":"`+e.ActorID+`"`) || e.ActorID == "" || !strings.Contains(d, `"team_ids":[`) {
			t.Errorf("event %s %s %s: %s", e.Actor, e.TargetType, e.PersonID, d)
		}
	}

	var want, wantBlue []string
	for k, n := range count {
		row := fmt.Sprintf("week=%s week_start=%s team_id=%s team=%s author_id=%s author=%s refusals=%d", k.week, k.start, k.teamID, k.team,
			k.authorID, k.author, n)
		want = append(want, row)
		if k.team == blue {
			wantBlue = append(wantBlue, row)
		}
	}
	keys := []string{"week", "week_start", "team_id", "team", "author_id", "author", "refusals"}
	tb, err := f.build("Aud Itor", "pasted-email-refusals", from, to)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "auditor", pick(tb.rows, keys...), want)
	wantTotal(t, tb, "refusals", total)
	if total != 7 || !slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "week=2026-W01 week_start=2025-12-29") }) {
		t.Fatalf("fixture: %d refusals, %v", total, want)
	}
	tb, err = f.build("Mia Khan", "pasted-email-refusals", from, to)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "manager", pick(tb.rows, keys...), wantBlue)
	wantTotal(t, tb, "refusals", blueTotal)

	// The chart has every week of the period in order, those without a
	// refusal too, summed over teams and authors.
	cd := tb.rep.ChartData()
	perWeek := map[string]float64{}
	for k, n := range count {
		if k.team == blue {
			perWeek[k.week] += float64(n)
		}
	}
	want = nil
	for _, w := range []string{"2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"} {
		want = append(want, fmt.Sprintf("%s=%v", w, perWeek[w]))
	}
	var got []string
	for i, l := range cd.Labels {
		got = append(got, fmt.Sprintf("%s=%v", l, cd.Values[i][0]))
	}
	if !slices.Equal(got, want) {
		t.Errorf("chart:\n got %v\nwant %v", got, want)
	}
}

func TestTickets(t *testing.T) {
	f := newFixture(t)
	p1, p2 := f.person(), f.person()
	now := time.Now()
	f.svc.Now = func() time.Time { return now }
	const day = 24 * time.Hour
	type seedT struct {
		kind, state, by string
		raised, done    time.Duration // ago; done 0: not done
		decided         time.Duration // rejected: ago
	}
	seed := []seedT{
		{"removal", "open", "Jo Bloggs", 2 * time.Hour, 0, 0},
		{"removal", "approved", "Sam Patel", 3 * day, 0, 0},
		{"removal", "failed", "Kim Lee", 10 * day, 0, 0},
		{"removal", "done", "Jo Bloggs", 5 * day, 4 * day, 0},
		{"removal", "done", "Kim Lee", 3 * day, 3*day - 2*time.Hour, 0},
		{"removal", "done", "Jo Bloggs", 3 * day, 3*day - 6*time.Hour, 0},
		{"removal", "done", "Jo Bloggs", 60 * day, 50 * day, 0}, // done before the period
		{"removal", "rejected", "Sam Patel", 2 * day, 0, day},
		{"reindex", "open", "Lee Moss", 40 * day, 0, 0},
		{"reindex", "done", "Sam Patel", 2 * day, day, 0},
		{"reopen", "done", "Kim Lee", 6 * day, 6*day - 30*time.Minute, 0},
	}
	for _, s := range seed {
		typ := "contact"
		if s.kind == "reopen" {
			typ = "cin_visit"
		}
		n := f.note("Jo Bloggs", p1, typ, now.Add(-time.Hour))
		tk := &casefile.Ticket{Kind: s.kind, TargetType: "note", TargetID: n.ID, Reason: "wrong record"}
		if s.kind == "reindex" {
			tk.ToPersonID = &p2
		}
		if err := f.db.CreateTicket(f.as(s.by), tk); err != nil {
			t.Fatal(err)
		}
		var completed, decided any
		if s.done != 0 {
			completed = now.Add(-s.done)
		}
		if s.decided != 0 {
			decided = now.Add(-s.decided)
		}
		if _, err := f.db.Pool().Exec(context.Background(), `UPDATE tickets SET state = $2, raised_at = $3, completed_at = $4, decided_at = $5
			WHERE id = $1`, tk.ID, s.state, now.Add(-s.raised), completed, decided); err != nil {
			t.Fatal(err)
		}
	}
	from, to := today().AddDays(-29), today()
	start := from.Time()
	nearestRank := func(xs []float64, p float64) string {
		if len(xs) == 0 {
			return ""
		}
		slices.Sort(xs)
		return text(math.Round(xs[int(math.Ceil(p*float64(len(xs))))-1]*10) / 10)
	}
	expect := func(in func(seedT) bool) (rows []string, outstanding int) {
		for _, kind := range []string{"removal", "reindex", "reopen"} {
			var out, raised, done, rejected int
			bands := [4]int{}
			oldest := ""
			var hours []float64
			for _, s := range seed {
				if s.kind != kind || !in(s) {
					continue
				}
				if !now.Add(-s.raised).Before(start) {
					raised++
				}
				switch s.state {
				case "open", "approved", "failed":
					out++
					switch d := s.raised; {
					case d < day:
						bands[0]++
					case d < 7*day:
						bands[1]++
					case d < 30*day:
						bands[2]++
					default:
						bands[3]++
					}
					if o := text(float64(int(s.raised / day))); oldest == "" || int(s.raised/day) > mustAtoi(oldest) {
						oldest = o
					}
				case "done":
					if !now.Add(-s.done).Before(start) {
						done++
						hours = append(hours, (s.raised - s.done).Hours())
					}
				case "rejected":
					rejected++
				}
			}
			outstanding += out
			rows = append(rows, fmt.Sprintf("kind=%s outstanding=%d age_under_1d=%d age_1_7d=%d age_7_30d=%d age_over_30d=%d oldest_days=%s raised=%d done=%d rejected=%d median_hours=%s p90_hours=%s",
				kind, out, bands[0], bands[1], bands[2], bands[3], oldest, raised, done, rejected, nearestRank(hours, 0.5), nearestRank(hours, 0.9)))
		}
		return rows, outstanding
	}
	keys := []string{"kind", "outstanding", "age_under_1d", "age_1_7d", "age_7_30d", "age_over_30d", "oldest_days", "raised", "done", "rejected",
		"median_hours", "p90_hours"}
	tb, err := f.build("Rob Ode", "tickets", from, to)
	if err != nil {
		t.Fatal(err)
	}
	want, outstanding := expect(func(seedT) bool { return true })
	wantRows(t, "records officer", pick(tb.rows, keys...), want)
	wantTotal(t, tb, "outstanding", outstanding)
	var allHours []float64
	for _, s := range seed {
		if s.state == "done" && s.done < 30*day {
			allHours = append(allHours, (s.raised - s.done).Hours())
		}
	}
	wantTotal(t, tb, "median_hours", nearestRank(allHours, 0.5))
	wantTotal(t, tb, "p90_hours", nearestRank(allHours, 0.9))

	// A manager of the Blue team: the tickets Jo and Sam raised.
	tb, err = f.build("Mia Khan", "tickets", from, to)
	if err != nil {
		t.Fatal(err)
	}
	want, outstanding = expect(func(s seedT) bool { return s.by == "Jo Bloggs" || s.by == "Sam Patel" })
	wantRows(t, "manager", pick(tb.rows, keys...), want)
	wantTotal(t, tb, "outstanding", outstanding)
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n) //nolint:errcheck
	return n
}

func TestDisposalsDue(t *testing.T) {
	f := newFixture(t)
	asOf := today()
	seed := []struct {
		class     string
		due       int // days from asOf
		destroyed bool
		held      bool
	}{
		{"child_in_need", -5, false, false},
		{"child_in_need", 0, false, true}, // due today: past its date
		{"child_in_need", 10, false, false},
		{"child_in_need", 30, false, false},
		{"child_in_need", 31, false, true},
		{"looked_after", 90, false, false},
		{"looked_after", 91, false, false},
		{"looked_after", 365, false, false},
		{"looked_after", 366, false, true}, // beyond a year
		{"looked_after", -1, true, false},  // destroyed already
		{"adoption", 200, false, false},
	}
	var held []string
	type counts struct{ overdue, d30, d90, d365, held int }
	want := map[string]*counts{}
	for _, s := range seed {
		id := f.person()
		due := asOf.AddDays(s.due)
		if _, err := f.db.Pool().Exec(context.Background(), `INSERT INTO person_retention (person_id, record_class, disposal_due_on)
			VALUES ($1, $2, $3)`, id, s.class, due.Time()); err != nil {
			t.Fatal(err)
		}
		if s.destroyed {
			if _, err := f.db.Pool().Exec(context.Background(), `UPDATE persons SET status = 'destroyed' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if s.held {
			held = append(held, id)
		}
		if s.due > 365 {
			continue
		}
		c := want[s.class]
		if c == nil {
			c = &counts{}
			want[s.class] = c
		}
		switch {
		case s.due <= 0:
			c.overdue++
		default:
			if s.due <= 30 {
				c.d30++
			}
			if s.due <= 90 {
				c.d90++
			}
			c.d365++
		}
		if s.held {
			c.held++
		}
	}
	if err := f.db.CreateHold(f.as("Rob Ode"), &casefile.Hold{Name: "Inquiry", Reason: "Public inquiry", PersonIDs: held}); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for class, c := range want {
		rows = append(rows, fmt.Sprintf("record_class=%s overdue=%d due_30_days=%d due_90_days=%d due_365_days=%d held=%d", class, c.overdue, c.d30, c.d90, c.d365, c.held))
	}
	tb, err := f.build("Rob Ode", "disposals-due", asOf.AddDays(-29), asOf)
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "records officer", pick(tb.rows, "record_class", "overdue", "due_30_days", "due_90_days", "due_365_days", "held"), rows)
	wantTotal(t, tb, "overdue", 2)
	wantTotal(t, tb, "as_of", asOf.String())

	// Managers do not see it; practitioners see no report.
	if _, err := f.build("Mia Khan", "disposals-due", asOf, asOf); casefile.ErrorCode(err) != "report_not_for_managers" {
		t.Errorf("manager: %v", err)
	}
	if _, err := f.build("Jo Bloggs", "late-notes", asOf, asOf); casefile.ErrorKind(err) != casefile.EForbidden {
		t.Errorf("practitioner: %v", err)
	}
}

func TestHolds(t *testing.T) {
	f := newFixture(t)
	p1, p2, p3 := f.person(), f.person(), f.person()
	notesOf := map[string]int{}
	for i, p := range []string{p1, p1, p2, p3, p3, p3} {
		f.note("Jo Bloggs", p, "contact", time.Now().Add(-time.Duration(i)*time.Hour))
		notesOf[p]++
	}
	ro := f.as("Rob Ode")
	named := &casefile.Hold{Name: "Litigation Smith", Reason: "Claim", PersonIDs: []string{p1, p2}}
	all := &casefile.Hold{Name: "Inquiry", Reason: "Public inquiry", All: true}
	old := &casefile.Hold{Name: "Old claim", Reason: "Settled", PersonIDs: []string{p3}}
	released := &casefile.Hold{Name: "Short hold", Reason: "Query", PersonIDs: []string{p3}}
	for _, h := range []*casefile.Hold{named, all, old, released} {
		if err := f.db.CreateHold(ro, h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.ReleaseHold(ro, released.ID, "Answered"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ReleaseHold(ro, old.ID, "Settled"); err != nil {
		t.Fatal(err)
	}
	// The old hold stood from 90 to 60 days ago: before the period.
	if _, err := f.db.Pool().Exec(context.Background(), `UPDATE holds SET created_at = now() - interval '90 days',
		released_at = now() - interval '60 days' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("name=Litigation Smith all_records=false records=2 notes=%d documents=0 released=false", notesOf[p1]+notesOf[p2]),
		fmt.Sprintf("name=Inquiry all_records=true records=3 notes=%d documents=0 released=false", notesOf[p1]+notesOf[p2]+notesOf[p3]),
		fmt.Sprintf("name=Short hold all_records=false records=1 notes=%d documents=0 released=true", notesOf[p3]),
	}
	tb, err := f.build("Aud Itor", "holds", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tb.rows {
		got = append(got, fmt.Sprintf("name=%s all_records=%s records=%s notes=%s documents=%s released=%t", r["name"], r["all_records"], r["records"],
			r["notes"], r["documents"], r["released_at"] != ""))
		if r["placed_by"] != "Rob Ode" || r["hold_id"] == "" {
			t.Errorf("row %v", r)
		}
	}
	wantRows(t, "auditor", sorted(got), want)
	wantTotal(t, tb, "holds", 3)
	wantTotal(t, tb, "standing", 2)
}

func TestAccess(t *testing.T) {
	f := newFixture(t)
	p1, p2, p3 := f.person(), f.person(), f.person()
	pause := func() { time.Sleep(20 * time.Millisecond) }
	read := func(who, pid string) {
		t.Helper()
		if _, err := f.db.Person(f.as(who), pid); err != nil {
			t.Fatal(err)
		}
		pause()
	}
	// Sam reads p2 before it is restricted (not counted), while it is
	// (counted), and after it is lifted (not counted).
	read("Sam Patel", p2)
	if _, err := f.db.Restrict(f.admin, p2, casefile.RestrictionInput{Reason: "Staff relative", TeamIDs: []string{f.teams[green].ID}}); err != nil {
		t.Fatal(err)
	}
	pause()
	read("Sam Patel", p2)
	read("Sam Patel", p2)
	if err := f.db.LiftRestriction(f.admin, p2, "No longer needed"); err != nil {
		t.Fatal(err)
	}
	pause()
	read("Sam Patel", p2)
	// p3 restricted to Green: Kim (Green) reads it; Jo (Blue) uses
	// break-glass, then reads it; Lee reads p1, which is not restricted.
	if _, err := f.db.Restrict(f.admin, p3, casefile.RestrictionInput{Reason: "High profile", TeamIDs: []string{f.teams[green].ID}}); err != nil {
		t.Fatal(err)
	}
	pause()
	read("Kim Lee", p3)
	if _, err := f.db.BreakGlass(f.as("Jo Bloggs"), p3, "Duty call about the child tonight"); err != nil {
		t.Fatal(err)
	}
	read("Jo Bloggs", p3)
	read("Lee Moss", p1)

	type use struct {
		who          string
		glass, reads int
		records      int
	}
	uses := []use{{"Sam Patel", 0, 2, 1}, {"Kim Lee", 0, 1, 1}, {"Jo Bloggs", 1, 1, 1}}
	var want, wantBlue []string
	for _, u := range uses {
		for _, tm := range f.teamsOf(u.who) {
			row := fmt.Sprintf("team_id=%s team=%s actor_id=%s actor=%s break_glass=%d restricted_reads=%d records=%d", tm[0], tm[1], f.actors[u.who].ID,
				u.who, u.glass, u.reads, u.records)
			want = append(want, row)
			if tm[1] == blue {
				wantBlue = append(wantBlue, row)
			}
		}
	}
	keys := []string{"team_id", "team", "actor_id", "actor", "break_glass", "restricted_reads", "records"}
	tb, err := f.build("Aud Itor", "access", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "auditor", pick(tb.rows, keys...), want)
	wantTotal(t, tb, "break_glass", 1)
	wantTotal(t, tb, "restricted_reads", 4)
	tb, err = f.build("Mia Khan", "access", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "manager", pick(tb.rows, keys...), wantBlue)
	wantTotal(t, tb, "break_glass", 1)
	wantTotal(t, tb, "restricted_reads", 3)
}

func TestAuditIntegrity(t *testing.T) {
	f := newFixture(t)
	ctx := f.as("Aud Itor")
	day := today().Time()
	i64 := func(v int64) *int64 { return &v }
	seed := []*casefile.AuditCheck{
		{Kind: "verify", At: day.AddDate(0, 0, -40), OK: true, Events: i64(10)}, // before the period
		{Kind: "anchor", At: day.AddDate(0, 0, -3).Add(time.Hour), OK: true, AnchorKey: "audit-anchors/a1.json"},
		{Kind: "verify", At: day.AddDate(0, 0, -2).Add(time.Hour), OK: false, Events: i64(120), FirstBadSeq: i64(77), Problem: "event 77's hash does not match"},
		{Kind: "anchor", At: day.AddDate(0, 0, -1).Add(time.Hour), OK: false, Problem: "S3 unavailable"},
		{Kind: "verify", At: day.Add(time.Hour), OK: true, Events: i64(130)},
	}
	for _, c := range seed {
		if err := f.db.RecordAuditCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A failed check cannot be hidden: the table refuses changes.
	for _, sql := range []string{"DELETE FROM audit_checks WHERE NOT ok", "UPDATE audit_checks SET ok = true", "TRUNCATE audit_checks"} {
		if _, err := f.db.Pool().Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	tb, err := f.build("Aud Itor", "audit-integrity", today().AddDays(-29), today())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	failures := 0
	for i := len(seed) - 1; i >= 1; i-- { // newest first, the period's only
		c := seed[i]
		bad := ""
		if c.FirstBadSeq != nil {
			bad = fmt.Sprint(*c.FirstBadSeq)
		}
		want = append(want, fmt.Sprintf("at=%s kind=%s ok=%t first_bad_seq=%s problem=%s anchor_key=%s", c.At.UTC().Format(time.RFC3339), c.Kind, c.OK,
			bad, c.Problem, c.AnchorKey))
		if !c.OK {
			failures++
		}
	}
	var got []string
	for _, r := range tb.rows {
		got = append(got, fmt.Sprintf("at=%s kind=%s ok=%s first_bad_seq=%s problem=%s anchor_key=%s", r["at"], r["kind"], r["ok"], r["first_bad_seq"],
			r["problem"], r["anchor_key"]))
		if r["actor"] != "Aud Itor" {
			t.Errorf("actor %q", r["actor"])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n got %v\nwant %v", got, want)
	}
	wantTotal(t, tb, "failures", failures)
	wantTotal(t, tb, "last_verification_at", seed[4].At.UTC().Format(time.RFC3339))
	wantTotal(t, tb, "last_verification_ok", true)
	wantTotal(t, tb, "last_anchor_ok", false)
	// A period with no check still shows the latest of each.
	tb, err = f.build("Rob Ode", "audit-integrity", today().AddDays(-60), today().AddDays(-50))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.rows) != 0 {
		t.Errorf("old period rows %v", tb.rows)
	}
	wantTotal(t, tb, "last_anchor_at", seed[3].At.UTC().Format(time.RFC3339))
}

func TestParseRequest(t *testing.T) {
	d := casefile.Date{Year: 2026, Month: 3, Day: 10}
	r, err := reports.ParseRequest("late-notes", "", "", "", d)
	if err != nil || r.To != d || r.From != d.AddDays(-29) || r.Format != "json" {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	for _, c := range []struct{ from, to, format, code string }{
		{"2026-02-30", "", "", "invalid_from"},
		{"", "10/03/2026", "", "invalid_to"},
		{"2026-03-11", "2026-03-10", "", "invalid_range"},
		{"2000-01-01", "2026-03-10", "", "invalid_range"},
		{"", "", "xlsx", "invalid_format"},
	} {
		_, err := reports.ParseRequest("late-notes", c.from, c.to, c.format, d)
		if casefile.ErrorCode(err) != c.code || casefile.ErrorKind(err) != casefile.EInvalid {
			t.Errorf("%+v: %v", c, err)
		}
	}
	s := &reports.Service{}
	if _, err := s.Lookup("nonsense"); casefile.ErrorCode(err) != "unknown_report" || !strings.Contains(casefile.ErrorMessage(err), "late-notes") {
		t.Errorf("unknown: %v", err)
	}
	if _, err := s.Lookup("disclosures-overdue"); casefile.ErrorCode(err) != "unknown_report" {
		t.Errorf("disclosures-overdue without disclosures: %v", err)
	}
}

func TestCell(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 500, time.UTC)
	var none *float64
	for _, c := range []struct {
		v    any
		want string
	}{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"}, {"+1", "'+1"}, {"-team", "'-team"}, {"@a", "'@a"},
		{"Blue team", "Blue team"}, {"", ""}, {3, "3"}, {66.7, "66.7"}, {none, ""}, {true, "true"}, {at, "2026-03-02T10:00:00Z"},
		{&at, "2026-03-02T10:00:00Z"}, {casefile.Date{Year: 2026, Month: 1, Day: 5}, "2026-01-05"},
	} {
		if got := reports.Cell(c.v); got != c.want {
			t.Errorf("Cell(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestDisclosuresOverdue(t *testing.T) {
	f := newFixture(t)
	amy, bob := f.person(), f.person()
	ro := f.as("Rob Ode")
	asOf := today()
	seed := []struct {
		person   string
		received int // days from asOf
		due      int
		state    string
	}{
		{amy, -40, -10, ""},         // a draft ten days late
		{bob, -33, -3, "withdrawn"}, // withdrawn: not counted
		{amy, -20, 2, ""},           // not yet due
		{bob, -31, -1, "failed"},    // its build failed: still owed
		{amy, -60, -30, "ready"},    // delivered
		{bob, -30, 0, ""},           // due today: not late yet
	}
	type row struct {
		id   string
		due  casefile.Date
		recv casefile.Date
		st   string
	}
	var want []row
	for _, sd := range seed {
		d, err := f.db.CreateDisclosure(ro, sd.person, casefile.DisclosureInput{Purpose: "subject_access", Requester: "The family's solicitor",
			ReceivedOn: asOf.AddDays(sd.received), DueOn: asOf.AddDays(sd.due)})
		if err != nil {
			t.Fatal(err)
		}
		st := casefile.DisclosureDraft
		if sd.state != "" {
			st = sd.state
			if _, err := f.db.Pool().Exec(context.Background(), "UPDATE disclosures SET state = $2 WHERE id = $1", d.ID, st); err != nil {
				t.Fatal(err)
			}
		}
		if sd.due < 0 && st != "ready" && st != "withdrawn" {
			want = append(want, row{d.ID, asOf.AddDays(sd.due), asOf.AddDays(sd.received), st})
		}
	}
	slices.SortStableFunc(want, func(a, b row) int { return a.due.Time().Compare(b.due.Time()) })
	var lines []string
	lines = append(lines, "disclosure_id,purpose,state,received_on,due_on,days_overdue,opened_by")
	for _, w := range want {
		lines = append(lines, fmt.Sprintf("%s,subject_access,%s,%s,%s,%d,Rob Ode", w.id, w.st, w.recv, w.due,
			int(asOf.Time().Sub(w.due.Time()).Hours()/24)))
	}
	f.svc.Disclosures = f.db
	tb, err := f.build("Rob Ode", "disclosures-overdue", asOf, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(tb.rep.CSV())); got != strings.Join(lines, "\n") {
		t.Errorf("CSV:\n%s\nwant\n%s", got, strings.Join(lines, "\n"))
	}
	wantTotal(t, tb, "overdue", len(want))
	if _, err := f.build("Mia Khan", "disclosures-overdue", asOf, asOf); casefile.ErrorCode(err) != "report_not_for_managers" {
		t.Errorf("manager: %v", err)
	}
}

// The council's days and weeks are UK days and weeks: in British Summer Time
// a refusal at 23:30 UTC on a Sunday was made at 00:30 on Monday, in the next
// week; one at 23:30 UTC on the last day of the period was made the day
// after it, and one at 23:30 UTC the day before the period, on its first day.
func TestReportDaysAndWeeksAreUKTime(t *testing.T) {
	f := newFixture(t)
	p1 := f.person()
	for _, s := range []string{"2026-05-31T23:30:00Z", "2026-06-14T23:30:00Z", "2026-06-30T23:30:00Z"} {
		when, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		f.db.SetClock(func() time.Time { return when })
		_, err = f.notes.Create(f.as("Jo Bloggs"), notes.NewNote{PersonID: p1, Type: "contact", OccurredAt: when.Add(-time.Hour), Body: pasted})
		if casefile.ErrorCode(err) != "pasted_email" {
			t.Fatalf("%s: got %v, want pasted_email", s, err)
		}
	}
	f.db.SetClock(time.Now)
	tb, err := f.build("Aud Itor", "pasted-email-refusals", casefile.Date{Year: 2026, Month: 6, Day: 1}, casefile.Date{Year: 2026, Month: 6, Day: 30})
	if err != nil {
		t.Fatal(err)
	}
	got := pick(tb.rows, "week", "week_start", "refusals")
	slices.Sort(got)
	want := []string{"week=2026-W23 week_start=2026-06-01 refusals=1", "week=2026-W25 week_start=2026-06-15 refusals=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows:\n got %v\nwant %v", got, want)
	}
	wantTotal(t, tb, "refusals", 2)
}
