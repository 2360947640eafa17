package retention

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/council/casefile"
)

func d(s string) *casefile.Date {
	x, err := casefile.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return &x
}

func inv(kind, start, end string) *casefile.Involvement {
	i := &casefile.Involvement{Kind: kind, StartedOn: *d(start)}
	if end != "" {
		i.EndedOn = d(end)
	}
	return i
}

func TestAssessAgainstTheSchedule(t *testing.T) {
	s := DefaultSchedule()
	cases := []struct {
		name     string
		dob, dod string
		invs     []*casefile.Involvement
		class    string
		trigger  string
		due      string // "" = none
		open     bool
	}{
		{"looked after: 75th birthday", "2010-05-01", "", []*casefile.Involvement{inv("looked_after", "2015-01-01", "2028-05-01")},
			"looked_after", "date_of_birth", "2085-05-01", false},
		{"looked after, died before 18: 15 years from death", "2010-05-01", "2020-03-03", []*casefile.Involvement{inv("looked_after", "2015-01-01", "2020-03-03")},
			"looked_after", "date_of_death", "2035-03-03", false},
		{"looked after, died at 18: 75th birthday", "2000-05-01", "2018-05-01", []*casefile.Involvement{inv("looked_after", "2015-01-01", "2018-05-01")},
			"looked_after", "date_of_birth", "2075-05-01", false},
		{"care leaver: 75 years from birth", "2001-02-03", "", []*casefile.Involvement{inv("care_leaver", "2019-02-03", "2025-02-03")},
			"care_leaver", "date_of_birth", "2076-02-03", false},
		{"adoption: 100 years from the order", "2015-01-01", "", []*casefile.Involvement{inv("adoption", "2016-01-01", "2017-06-30")},
			"adoption", "adoption_order", "2117-06-30", false},
		{"adoption with no order yet: no date", "2015-01-01", "", []*casefile.Involvement{inv("adoption", "2016-01-01", "")},
			"adoption", "adoption_order", "", true},
		{"adoption_no_order, never looked after: at closure", "2015-01-01", "", []*casefile.Involvement{inv("adoption_no_order", "2016-01-01", "2017-01-01")},
			"adoption_no_order", "closure", "2017-01-01", false},
		{"adoption_no_order, looked after: the looked-after rule", "2015-01-01", "", []*casefile.Involvement{
			inv("adoption_no_order", "2016-01-01", "2017-01-01"), inv("looked_after", "2016-01-01", "2016-06-01")},
			"looked_after", "date_of_birth", "2090-01-01", false},
		{"child protection: 35 years after the last closure", "2010-01-01", "", []*casefile.Involvement{
			inv("child_protection", "2012-01-01", "2013-01-01"), inv("child_protection", "2014-01-01", "2015-03-31")},
			"child_protection", "closure", "2050-03-31", false},
		{"child protection, looked after: the looked-after rule", "2010-01-01", "", []*casefile.Involvement{
			inv("child_protection", "2012-01-01", "2013-01-01"), inv("looked_after", "2013-01-01", "2014-01-01")},
			"looked_after", "date_of_birth", "2085-01-01", false},
		{"child in need: until 30", "2010-01-01", "", []*casefile.Involvement{inv("child_in_need", "2012-01-01", "2013-01-01")},
			"child_in_need", "date_of_birth", "2040-01-01", false},
		{"child in need, died: 6 years from death if earlier", "2010-01-01", "2016-01-01", []*casefile.Involvement{inv("child_in_need", "2012-01-01", "2013-01-01")},
			"child_in_need", "date_of_death", "2022-01-01", false},
		{"child in need, died at 28: age 30 is earlier", "1990-01-01", "2018-01-01", []*casefile.Involvement{inv("child_in_need", "2000-01-01", "2001-01-01")},
			"child_in_need", "date_of_birth", "2020-01-01", false},
		{"early help: until 30", "2010-01-01", "", []*casefile.Involvement{inv("early_help", "2012-01-01", "2013-01-01")},
			"early_help", "date_of_birth", "2040-01-01", false},
		{"lado: 100 years from birth", "1980-01-01", "", []*casefile.Involvement{{Kind: "lado", StartedOn: *d("2020-01-01"), EndedOn: d("2020-06-01"), Outcome: "substantiated"}},
			"lado", "date_of_birth", "2080-01-01", false},
		{"lado unfounded: 10 years from closure", "1980-01-01", "", []*casefile.Involvement{{Kind: "lado", StartedOn: *d("2020-01-01"), EndedOn: d("2020-06-01"), Outcome: "unfounded"}},
			"lado", "closure", "2030-06-01", false},
		{"leap day birth: 30th birthday is 1 March", "2008-02-29", "", []*casefile.Involvement{inv("early_help", "2010-01-01", "2011-01-01")},
			"early_help", "date_of_birth", "2038-03-01", false},
		{"leap day birth into a leap year", "2008-02-29", "", []*casefile.Involvement{inv("care_leaver", "2026-01-01", "2026-02-01")},
			"care_leaver", "date_of_birth", "2083-03-01", false},
		{"longest outcome wins", "2010-01-01", "", []*casefile.Involvement{
			inv("early_help", "2011-01-01", "2012-01-01"), inv("child_protection", "2013-01-01", "2014-01-01"), inv("child_in_need", "2012-01-01", "2013-01-01")},
			"child_protection", "closure", "2049-01-01", false},
		{"open involvement: date known, nothing due", "2010-01-01", "", []*casefile.Involvement{inv("early_help", "2011-01-01", "2012-01-01"), inv("child_in_need", "2020-01-01", "")},
			"child_in_need", "date_of_birth", "2040-01-01", true},
		{"open child protection: no date yet", "2010-01-01", "", []*casefile.Involvement{inv("early_help", "2011-01-01", "2012-01-01"), inv("child_protection", "2020-01-01", "")},
			"child_protection", "closure", "", true},
		{"no involvements: unclassified", "2010-01-01", "", nil, "", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &casefile.Person{DateOfBirth: d(c.dob), Involvements: c.invs}
			if c.dod != "" {
				p.DateOfDeath = d(c.dod)
			}
			r := s.Assess(p)
			due := ""
			if r.DisposalDueOn != nil {
				due = r.DisposalDueOn.String()
			}
			if r.RecordClass != c.class || r.Trigger != c.trigger || due != c.due || r.Open != c.open {
				t.Fatalf("Assess = class %q trigger %q due %q open %v (%s); want %q %q %q %v",
					r.RecordClass, r.Trigger, due, r.Open, r.Reason, c.class, c.trigger, c.due, c.open)
			}
			if r.Reason == "" {
				t.Fatal("no reason given")
			}
		})
	}
}

func TestDueOnTheDayNotBefore(t *testing.T) {
	r := DefaultSchedule().Assess(&casefile.Person{DateOfBirth: d("2000-06-15"), Involvements: []*casefile.Involvement{inv("early_help", "2005-01-01", "2006-01-01")}})
	if Due(r, *d("2030-06-14")) {
		t.Fatal("due the day before")
	}
	if !Due(r, *d("2030-06-15")) || !Due(r, *d("2031-01-01")) {
		t.Fatal("not due on the day or after")
	}
	r.Open = true
	if Due(r, *d("2031-01-01")) {
		t.Fatal("due while an involvement is open")
	}
}

func TestLoadSchedule(t *testing.T) {
	dir := t.TempDir()
	good := strings.Replace(string(defaultSchedule), "period: 30y\n    trigger: date_of_birth\n    rank: 30", "period: 25y\n    trigger: date_of_birth\n    rank: 30", 1)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	s, err := LoadSchedule(write("good.yaml", good))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Rule("early_help").Period; got != "25y" {
		t.Fatalf("override period = %s", got)
	}
	json := `{"rules": [`
	for i, k := range casefile.InvolvementKinds {
		if i > 0 {
			json += ","
		}
		json += `{"record_class": "` + k + `", "period": "10y", "trigger": "date_of_birth", "source": "test"}`
	}
	json += `]}`
	if _, err := LoadSchedule(write("s.json", json)); err != nil {
		t.Fatalf("JSON schedule: %v", err)
	}
	for name, body := range map[string]string{
		"unknown class":  strings.Replace(good, "record_class: lado", "record_class: pirates", 1),
		"bad period":     strings.Replace(good, "period: 35y", "period: 35 years", 1),
		"bad trigger":    strings.Replace(good, "trigger: closure\n    rank: 60", "trigger: whenever\n    rank: 60", 1),
		"missing source": strings.Replace(good, `source: "Council policy (North Somerset): until age 30"`, `source: ""`, 1),
		"missing class":  strings.Replace(good, "record_class: lado", "record_class: early_help", 1),
		"unknown field":  strings.Replace(good, "rank: 90", "rank: 90\n    colour: red", 1),
	} {
		if _, err := LoadSchedule(write("bad.yaml", body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Where the source says review (adoption_no_order when never looked after),
// the position says review, not destroy; once the child was looked after
// the looked-after rule (destroy at the date) applies.
func TestReviewClassComesFromTheSchedule(t *testing.T) {
	s := DefaultSchedule()
	never := s.Assess(&casefile.Person{DateOfBirth: d("2015-01-01"),
		Involvements: []*casefile.Involvement{inv("adoption_no_order", "2016-01-01", "2017-01-01")}})
	if never.Action != ActionReview || never.DisposalDueOn == nil || !strings.Contains(never.Reason, "review") {
		t.Fatalf("adoption_no_order, never looked after: %+v", never)
	}
	lac := s.Assess(&casefile.Person{DateOfBirth: d("2015-01-01"), Involvements: []*casefile.Involvement{
		inv("adoption_no_order", "2016-01-01", "2017-01-01"), inv("looked_after", "2016-01-01", "2016-06-01")}})
	if lac.Action != ActionDestroy {
		t.Fatalf("adoption_no_order, looked after: %+v", lac)
	}
	eh := s.Assess(&casefile.Person{DateOfBirth: d("1990-01-01"), Involvements: []*casefile.Involvement{inv("early_help", "1995-01-01", "1996-01-01")}})
	if eh.Action != ActionDestroy {
		t.Fatalf("early help: %+v", eh)
	}
	var rules = map[string]string{}
	for _, r := range (Policy{S: s}).Schedule() {
		rules[r.RecordClass] = r.Action
	}
	if rules["adoption_no_order"] != "review" || rules["looked_after"] != "destroy" {
		t.Fatalf("schedule actions: %v", rules)
	}
	if _, err := ParseSchedule([]byte(strings.Replace(string(defaultSchedule), "action: review", "action: shred", 1)), "x.yaml"); err == nil ||
		!strings.Contains(err.Error(), `action "shred"`) {
		t.Fatalf("bad action: %v", err)
	}
	if len(s.SHA256()) != 64 {
		t.Fatalf("schedule sha256 %q", s.SHA256())
	}
}
