// Package retention holds the retention schedule and its rules: which record
// class a person's record falls in, when it may be destroyed, and the runs
// that destroy exactly what is due.
//
// The rules are pure functions of a person's dates and involvements, so that
// they can be tested against the schedule line by line; the schedule itself
// is data, shipped as schedule.yaml and replaceable by a records officer.
package retention

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/council/casefile"
)

//go:embed schedule.yaml
var defaultSchedule []byte

// Period is a length of time in calendar units.
type Period struct{ Years, Months, Days int }

var periodRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?$`)

// ParsePeriod reads "75y", "1y6m", "0d".
func ParsePeriod(s string) (Period, error) {
	m := periodRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(s) == "" {
		return Period{}, fmt.Errorf("period %q is not of the form 75y, 1y6m or 0d", s)
	}
	var p Period
	for i, dst := range []*int{&p.Years, &p.Months, &p.Days} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil || n > 1000 {
				return Period{}, fmt.Errorf("period %q is out of range", s)
			}
			*dst = n
		}
	}
	return p, nil
}

// After returns d moved forward by p. A 29 February plus whole years lands
// on 1 March in a common year: the later of the two candidate dates, which is
// the conservative choice for retention (and how English law counts the age
// of someone born on 29 February, Family Law Reform Act 1969 s9).
func (p Period) After(d casefile.Date) casefile.Date {
	return casefile.DateOf(d.Time().AddDate(p.Years, p.Months, p.Days))
}

func (p Period) String() string {
	var b strings.Builder
	if p.Years > 0 {
		fmt.Fprintf(&b, "%dy", p.Years)
	}
	if p.Months > 0 {
		fmt.Fprintf(&b, "%dm", p.Months)
	}
	if p.Days > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dd", p.Days)
	}
	return b.String()
}

// Triggers a rule can count from.
const (
	TriggerBirth         = "date_of_birth"
	TriggerDeath         = "date_of_death"
	TriggerClosure       = "closure"
	TriggerAdoptionOrder = "adoption_order"
)

// Alternative is a variant of a rule that applies in a circumstance.
type Alternative struct {
	When    string `yaml:"when" json:"when"` // died_before_18, died, unfounded
	Period  string `yaml:"period" json:"period"`
	Trigger string `yaml:"trigger" json:"trigger"`
	Use     string `yaml:"use" json:"use"` // instead, if_earlier
	period  Period
}

// Rule is one record class's rule.
type Rule struct {
	RecordClass     string `yaml:"record_class" json:"record_class"`
	Period          string `yaml:"period" json:"period"`
	Trigger         string `yaml:"trigger" json:"trigger"`
	Rank            int    `yaml:"rank" json:"rank"`
	LookedAfterRule bool   `yaml:"looked_after_rule" json:"looked_after_rule"`
	Source          string `yaml:"source" json:"source"`
	// Action is what happens at the date: destroy (the default), or review,
	// where the source says a person decides (the record goes to the review
	// queue and is never destroyed by a run).
	Action       string        `yaml:"action" json:"action"`
	Alternatives []Alternative `yaml:"alternatives" json:"alternatives"`
	period       Period
}

// Schedule is the set of rules in force, one per record class.
type Schedule struct {
	Rules  []*Rule `yaml:"rules" json:"rules"`
	byName map[string]*Rule
	sha256 string
}

// Actions a rule can take at its date.
const (
	ActionDestroy = "destroy"
	ActionReview  = "review"
)

// SHA256 is the hash of the schedule's file: what
// CASEFILE_RETENTION_SCHEDULE_CONFIRM names to accept a change.
func (s *Schedule) SHA256() string { return s.sha256 }

// DefaultSchedule is the schedule that ships with casefile.
func DefaultSchedule() *Schedule {
	s, err := ParseSchedule(defaultSchedule, "schedule.yaml")
	if err != nil {
		panic("the embedded retention schedule is invalid: " + err.Error())
	}
	return s
}

// LoadSchedule reads a replacement schedule from a YAML or JSON file.
func LoadSchedule(path string) (*Schedule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSchedule(b, filepath.Base(path))
}

// ParseSchedule parses and validates a schedule (JSON is valid YAML).
func ParseSchedule(b []byte, name string) (*Schedule, error) {
	var s Schedule
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.byName = map[string]*Rule{}
	sum := sha256.Sum256(b)
	s.sha256 = hex.EncodeToString(sum[:])
	for i, r := range s.Rules {
		where := fmt.Sprintf("%s: rule %d (%s)", name, i+1, r.RecordClass)
		if !casefile.ValidInvolvementKind(r.RecordClass) {
			return nil, fmt.Errorf("%s: record_class %q is not an involvement kind (%s)", where, r.RecordClass, strings.Join(casefile.InvolvementKinds, ", "))
		}
		if s.byName[r.RecordClass] != nil {
			return nil, fmt.Errorf("%s: record_class appears twice", where)
		}
		p, err := ParsePeriod(r.Period)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		r.period = p
		if !validTrigger(r.Trigger) {
			return nil, fmt.Errorf("%s: trigger %q is not one of date_of_birth, date_of_death, closure, adoption_order", where, r.Trigger)
		}
		switch r.Action {
		case "":
			r.Action = ActionDestroy
		case ActionDestroy, ActionReview:
		default:
			return nil, fmt.Errorf("%s: action %q is not destroy or review", where, r.Action)
		}
		if strings.TrimSpace(r.Source) == "" {
			return nil, fmt.Errorf("%s: source is required: say which statute or policy sets the period", where)
		}
		for j := range r.Alternatives {
			a := &r.Alternatives[j]
			if a.When != "died_before_18" && a.When != "died" && a.When != "unfounded" {
				return nil, fmt.Errorf("%s: alternative %d: when %q is not died_before_18, died or unfounded", where, j+1, a.When)
			}
			if a.Use != "instead" && a.Use != "if_earlier" {
				return nil, fmt.Errorf("%s: alternative %d: use %q is not instead or if_earlier", where, j+1, a.Use)
			}
			if a.period, err = ParsePeriod(a.Period); err != nil {
				return nil, fmt.Errorf("%s: alternative %d: %w", where, j+1, err)
			}
			if !validTrigger(a.Trigger) {
				return nil, fmt.Errorf("%s: alternative %d: trigger %q is not valid", where, j+1, a.Trigger)
			}
		}
		s.byName[r.RecordClass] = r
	}
	for _, k := range casefile.InvolvementKinds {
		if s.byName[k] == nil {
			return nil, fmt.Errorf("%s: no rule for record class %s: every involvement kind needs one", name, k)
		}
	}
	sort.SliceStable(s.Rules, func(i, j int) bool { return s.Rules[i].Rank > s.Rules[j].Rank })
	return &s, nil
}

func validTrigger(t string) bool {
	switch t {
	case TriggerBirth, TriggerDeath, TriggerClosure, TriggerAdoptionOrder:
		return true
	}
	return false
}

// Rule returns the rule of a record class.
func (s *Schedule) Rule(class string) *Rule { return s.byName[class] }
