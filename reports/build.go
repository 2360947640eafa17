package reports

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/council/casefile"
)

// noTeam names the rows of people in no team.
const noTeam = "No team"

func teamName(id, name string) string {
	if id == "" {
		return noTeam
	}
	return name
}

func (s *Service) lateNotes(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	days := s.lateNoteDays()
	rows, notes, late, err := s.Store.LateNotes(ctx, rng, rep.Scope, time.Duration(days)*24*time.Hour)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"team_id", "Team id", false}, {"team", "Team", false}, {"author_id", "Author id", false},
		{"author", "Author", false}, {"notes", "Notes recorded", true}, {"late", "Late notes", true}, {"late_pct", "Late (%)", true}}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, []any{r.TeamID, teamName(r.TeamID, r.Team), r.AuthorID, r.Author, r.Notes, r.Late, pct(r.Late, r.Notes)})
	}
	rep.Totals = map[string]any{"notes": notes, "late": late, "late_pct": pct(late, notes), "late_after_days": days}
	rep.Chart = &ChartSpec{Title: "Notes and late notes by team", LabelKey: "team", Series: []string{"notes", "late"}}
	return nil
}

func (s *Service) refusals(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	rows, total, err := s.Store.PastedEmailRefusals(ctx, rng, rep.Scope)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"week", "ISO week", false}, {"week_start", "Week starting", false}, {"team_id", "Team id", false},
		{"team", "Team", false}, {"author_id", "Author id", false}, {"author", "Author", false}, {"refusals", "Refusals", true}}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, []any{r.Week, r.WeekStart, r.TeamID, teamName(r.TeamID, r.Team), r.AuthorID, r.Author, r.Refusals})
	}
	rep.Totals = map[string]any{"refusals": total}
	rep.Chart = &ChartSpec{Title: "Pasted-email refusals by ISO week", LabelKey: "week", Series: []string{"refusals"}}
	// The chart has every week of the period, those without a refusal too
	// (up to a year of weeks; a longer period charts the weeks with some).
	perWeek := map[string]int{}
	for _, r := range rows {
		perWeek[r.Week] += r.Refusals
	}
	monday := rep.From.Time().AddDate(0, 0, -((int(rep.From.Time().Weekday()) + 6) % 7))
	if rep.To.Time().Sub(monday) <= 53*7*24*time.Hour {
		rep.chartColumns = []Column{{"week", "ISO week", false}, {"refusals", "Refusals", true}}
		rep.chartRows = [][]any{}
		for w := monday; !w.After(rep.To.Time()); w = w.AddDate(0, 0, 7) {
			y, n := w.ISOWeek()
			week := fmt.Sprintf("%04d-W%02d", y, n)
			rep.chartRows = append(rep.chartRows, []any{week, perWeek[week]})
		}
	}
	return nil
}

// Ticket ageing bands: how long an outstanding ticket has waited since it
// was raised, at the time the report is made.
var ageBands = []struct {
	key, label string
	below      time.Duration // the band holds ages under this (0: no limit)
}{
	{"age_under_1d", "Waiting under 1 day", 24 * time.Hour},
	{"age_1_7d", "1 to 7 days", 7 * 24 * time.Hour},
	{"age_7_30d", "7 to 30 days", 30 * 24 * time.Hour},
	{"age_over_30d", "Over 30 days", 0},
}

func (s *Service) tickets(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	facts, err := s.Store.TicketFacts(ctx, rng, rep.Scope)
	if err != nil {
		return err
	}
	now := s.now()
	rep.Columns = []Column{{"kind", "Kind", false}, {"outstanding", "Outstanding now", true}}
	for _, b := range ageBands {
		rep.Columns = append(rep.Columns, Column{b.key, b.label, true})
	}
	rep.Columns = append(rep.Columns, Column{"oldest_days", "Oldest (days)", true}, Column{"raised", "Raised in period", true},
		Column{"done", "Done in period", true}, Column{"rejected", "Rejected in period", true},
		Column{"median_hours", "Median hours to done", true}, Column{"p90_hours", "90th percentile hours to done", true})
	var allHours []float64
	totals := map[string]int{}
	for _, kind := range []string{casefile.TicketRemoval, casefile.TicketReindex, casefile.TicketReopen} {
		bands := make([]int, len(ageBands))
		var outstanding, raised, done, rejected int
		var oldest *float64
		var hours []float64
		for _, f := range facts {
			if f.Kind != kind {
				continue
			}
			if !f.RaisedAt.Before(rng.From) && f.RaisedAt.Before(rng.To) {
				raised++
			}
			switch f.State {
			case casefile.TicketOpen, casefile.TicketApproved, casefile.TicketFailed:
				outstanding++
				age := now.Sub(f.RaisedAt)
				for i, b := range ageBands {
					if b.below == 0 || age < b.below {
						bands[i]++
						break
					}
				}
				if d := float64(int(age.Hours() / 24)); oldest == nil || d > *oldest {
					oldest = &d
				}
			case casefile.TicketDone:
				if f.CompletedAt != nil && !f.CompletedAt.Before(rng.From) && f.CompletedAt.Before(rng.To) {
					done++
					hours = append(hours, f.CompletedAt.Sub(f.RaisedAt).Hours())
				}
			case casefile.TicketRejected:
				if f.DecidedAt != nil && !f.DecidedAt.Before(rng.From) && f.DecidedAt.Before(rng.To) {
					rejected++
				}
			}
		}
		row := []any{kind, outstanding}
		for _, n := range bands {
			row = append(row, n)
		}
		row = append(row, oldest, raised, done, rejected, percentile(hours, 0.5), percentile(hours, 0.9))
		rep.Rows = append(rep.Rows, row)
		allHours = append(allHours, hours...)
		totals["outstanding"] += outstanding
		totals["raised"] += raised
		totals["done"] += done
		totals["rejected"] += rejected
	}
	rep.Totals = map[string]any{"outstanding": totals["outstanding"], "raised": totals["raised"], "done": totals["done"],
		"rejected": totals["rejected"], "median_hours": percentile(allHours, 0.5), "p90_hours": percentile(allHours, 0.9)}
	rep.Chart = &ChartSpec{Title: "Outstanding tickets by kind and how long they have waited", LabelKey: "kind",
		Series: []string{"age_under_1d", "age_1_7d", "age_7_30d", "age_over_30d"}}
	return nil
}

func (s *Service) access(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	rows, glass, reads, err := s.Store.AccessUses(ctx, rng, rep.Scope)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"team_id", "Team id", false}, {"team", "Team", false}, {"actor_id", "Person id", false},
		{"actor", "Person", false}, {"break_glass", "Break-glass uses", true}, {"restricted_reads", "Reads of restricted records", true},
		{"records", "Restricted records", true}}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, []any{r.TeamID, teamName(r.TeamID, r.Team), r.ActorID, r.Actor, r.BreakGlass, r.RestrictedReads, r.Records})
	}
	rep.Totals = map[string]any{"break_glass": glass, "restricted_reads": reads}
	rep.Chart = &ChartSpec{Title: "Break-glass uses and reads of restricted records by person", LabelKey: "actor",
		Series: []string{"break_glass", "restricted_reads"}}
	return nil
}

func (s *Service) disposalsDue(ctx context.Context, rep *Report) error {
	rows, err := s.Store.DisposalsDue(ctx, rep.To)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"record_class", "Record class", false}, {"overdue", "Past their date", true},
		{"due_30_days", "Due within 30 days", true}, {"due_90_days", "Due within 90 days", true},
		{"due_365_days", "Due within 365 days", true}, {"held", "Under a hold", true}}
	t := map[string]int{}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, []any{r.RecordClass, r.Overdue, r.In30, r.In90, r.In365, r.Held})
		t["overdue"] += r.Overdue
		t["due_30_days"] += r.In30
		t["due_90_days"] += r.In90
		t["due_365_days"] += r.In365
		t["held"] += r.Held
	}
	rep.Totals = map[string]any{"as_of": rep.To}
	for k, v := range t {
		rep.Totals[k] = v
	}
	rep.Chart = &ChartSpec{Title: "Records due for disposal by record class", LabelKey: "record_class",
		Series: []string{"overdue", "due_30_days", "due_90_days", "due_365_days"}}
	return nil
}

func (s *Service) holds(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	rows, err := s.Store.HoldCoverage(ctx, rng)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"hold_id", "Hold id", false}, {"name", "Hold", false}, {"placed_by", "Placed by", false},
		{"placed_at", "Placed", false}, {"released_at", "Released", false}, {"all_records", "Covers every record", false},
		{"records", "Records", true}, {"notes", "Notes", true}, {"documents", "Documents", true}}
	live := 0
	for _, r := range rows {
		rep.Rows = append(rep.Rows, []any{r.ID, r.Name, r.PlacedBy, r.PlacedAt, r.ReleasedAt, r.AllRecords, r.Persons, r.Notes, r.Documents})
		if r.ReleasedAt == nil {
			live++
		}
	}
	rep.Totals = map[string]any{"holds": len(rows), "standing": live}
	rep.Chart = &ChartSpec{Title: "Records each hold covers", LabelKey: "name", Series: []string{"records"}}
	return nil
}

func (s *Service) auditIntegrity(ctx context.Context, rep *Report, rng casefile.ReportRange) error {
	ac, err := s.Store.AuditChecks(ctx, rng)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"at", "When", false}, {"kind", "Check", false}, {"ok", "Passed", false}, {"actor", "By", false},
		{"events", "Events", true}, {"first_bad_seq", "First bad event", true}, {"anchored_at", "Anchor time", false},
		{"anchors", "Anchors checked", true}, {"anchor_key", "Anchor", false}, {"problem", "Problem", false}}
	failures := map[string]int{"verify": 0, "anchor": 0}
	passes := map[string]int{"verify": 0, "anchor": 0}
	for _, c := range ac.Checks {
		rep.Rows = append(rep.Rows, []any{c.At, c.Kind, c.OK, c.Actor, c.Events, c.FirstBadSeq, c.AnchoredAt, c.Anchors, c.AnchorKey, c.Problem})
		if c.OK {
			passes[c.Kind]++
		} else {
			failures[c.Kind]++
		}
	}
	rep.Totals = map[string]any{"verifications": passes["verify"] + failures["verify"], "anchors": passes["anchor"] + failures["anchor"],
		"failures": failures["verify"] + failures["anchor"], "last_verification_at": nil, "last_verification_ok": nil,
		"last_anchor_at": nil, "last_anchor_ok": nil}
	if c := ac.LastVerify; c != nil {
		rep.Totals["last_verification_at"], rep.Totals["last_verification_ok"] = c.At, c.OK
	}
	if c := ac.LastAnchor; c != nil {
		rep.Totals["last_anchor_at"], rep.Totals["last_anchor_ok"] = c.At, c.OK
	}
	// A chart of passes and failures by kind of check.
	rep.chartRows = [][]any{{"Verifications", passes["verify"], failures["verify"]}, {"Anchors", passes["anchor"], failures["anchor"]}}
	rep.Chart = &ChartSpec{Title: "Checks passed and failed", LabelKey: "check", Series: []string{"passed", "failed"}}
	rep.chartColumns = []Column{{"check", "Check", false}, {"passed", "Passed", true}, {"failed", "Failed", true}}
	return nil
}

func (s *Service) disclosuresOverdue(ctx context.Context, rep *Report) error {
	ds, err := s.Disclosures.OverdueDisclosures(ctx, rep.To)
	if err != nil {
		return err
	}
	rep.Columns = []Column{{"disclosure_id", "Disclosure id", false}, {"purpose", "Purpose", false}, {"state", "State", false},
		{"received_on", "Received", false}, {"due_on", "Due", false}, {"days_overdue", "Days overdue", true},
		{"opened_by", "Opened by", false}}
	slices.SortStableFunc(ds, func(a, b *casefile.Disclosure) int { return a.DueOn.Time().Compare(b.DueOn.Time()) })
	for _, d := range ds {
		days := int(rep.To.Time().Sub(d.DueOn.Time()).Hours() / 24)
		rep.Rows = append(rep.Rows, []any{d.ID, d.Purpose, d.State, d.ReceivedOn, d.DueOn, days, d.CreatedBy})
	}
	rep.Totals = map[string]any{"overdue": len(ds), "as_of": rep.To}
	rep.Chart = &ChartSpec{Title: "Overdue disclosures by state", LabelKey: "state", Series: []string{"overdue"}}
	rep.chartColumns = []Column{{"state", "State", false}, {"overdue", "Overdue", true}}
	counts := map[string]int{}
	var states []string
	for _, d := range ds {
		if counts[d.State] == 0 {
			states = append(states, d.State)
		}
		counts[d.State]++
	}
	for _, st := range states {
		rep.chartRows = append(rep.chartRows, []any{st, counts[st]})
	}
	return nil
}
