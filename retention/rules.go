package retention

import (
	"fmt"
	"strings"

	"github.com/council/casefile"
)

// outcome is one involvement kind's result under its rule.
type outcome struct {
	class, trigger string
	triggerDate    *casefile.Date
	due            *casefile.Date
	rank           int
	action         string
	why            string
}

// Assess computes where a person's record stands: the class of the
// involvement with the longest outcome, its trigger and disposal date, and
// whether any involvement is still open (then nothing may be destroyed).
func (s *Schedule) Assess(p *casefile.Person) casefile.PersonRetention {
	r := casefile.PersonRetention{PersonID: p.ID, Action: ActionDestroy, Holds: []*casefile.Hold{}}
	if len(p.Involvements) == 0 {
		r.Reason = "No involvements are recorded, so no retention rule applies yet; nothing will be destroyed."
		return r
	}
	everLAC := false
	kinds := map[string][]*casefile.Involvement{}
	for _, inv := range p.Involvements {
		kinds[inv.Kind] = append(kinds[inv.Kind], inv)
		if inv.Kind == casefile.InvolvementLookedAfter {
			everLAC = true
		}
		if inv.EndedOn == nil {
			r.Open = true
		}
	}
	var best, pending *outcome
	for _, kind := range casefile.InvolvementKinds {
		invs, ok := kinds[kind]
		if !ok {
			continue
		}
		o := s.outcomeOf(kind, invs, p, everLAC)
		switch {
		case o.due == nil:
			if pending == nil || o.rank > pending.rank {
				pending = o
			}
		case best == nil, o.due.After(*best.due), *o.due == *best.due && o.rank > best.rank:
			best = o
		}
	}
	if pending != nil {
		// A class whose date cannot be known yet (an open case counted from
		// closure, an adoption with no order date) holds the whole record.
		r.RecordClass, r.Trigger, r.TriggerDate, r.Action, r.Reason = pending.class, pending.trigger, pending.triggerDate, pending.action, pending.why
		return r
	}
	r.RecordClass, r.Trigger, r.TriggerDate, r.DisposalDueOn, r.Action, r.Reason = best.class, best.trigger, best.triggerDate, best.due, best.action, best.why
	if r.Action == ActionReview {
		r.Reason += " The schedule says review for this class: at the date a records officer decides; a run never destroys it."
	}
	if r.Open {
		r.Reason += " An involvement is still open, so nothing is destroyed; past the date the record is reported for review."
	}
	return r
}

// outcomeOf applies the rule of one involvement kind.
func (s *Schedule) outcomeOf(kind string, invs []*casefile.Involvement, p *casefile.Person, everLAC bool) *outcome {
	rule := s.byName[kind]
	class := kind
	if rule.LookedAfterRule && everLAC {
		// Becoming looked after moves the record onto the looked-after rule.
		rule = s.byName[casefile.InvolvementLookedAfter]
	}
	o := &outcome{class: class, rank: s.byName[kind].Rank, trigger: rule.Trigger, action: rule.Action}
	lastClosure, open := lastEnded(invs)
	dateOf := func(trigger string) (*casefile.Date, string) {
		switch trigger {
		case TriggerBirth:
			if p.DateOfBirth == nil {
				return nil, "The date of birth is not recorded."
			}
			return p.DateOfBirth, ""
		case TriggerDeath:
			if p.DateOfDeath == nil {
				return nil, "The date of death is not recorded."
			}
			return p.DateOfDeath, ""
		case TriggerClosure, TriggerAdoptionOrder:
			if open {
				return nil, fmt.Sprintf("The %s involvement is open; its disposal date is counted from its closure.", kind)
			}
			return lastClosure, ""
		}
		return nil, "unknown trigger"
	}
	period, trigger := rule.period, rule.Trigger
	for _, a := range rule.Alternatives {
		applies := false
		switch a.When {
		case "died_before_18":
			applies = p.DateOfDeath != nil && p.DateOfBirth != nil && (Period{Years: 18}).After(*p.DateOfBirth).After(*p.DateOfDeath)
		case "died":
			applies = p.DateOfDeath != nil
		case "unfounded":
			applies = allUnfounded(invs)
		}
		if !applies {
			continue
		}
		switch a.Use {
		case "instead":
			period, trigger = a.period, a.Trigger
		case "if_earlier":
			base, _ := dateOf(trigger)
			alt, _ := dateOf(a.Trigger)
			if base != nil && alt != nil && a.period.After(*alt).Before(period.After(*base)) {
				period, trigger = a.period, a.Trigger
			}
		}
	}
	td, why := dateOf(trigger)
	o.trigger, o.triggerDate = trigger, td
	if td == nil {
		o.why = why + " No disposal date can be set yet."
		return o
	}
	due := period.After(*td)
	o.due = &due
	rulename := class
	if rule.RecordClass != class {
		rulename = fmt.Sprintf("%s (on the %s rule, as the person was looked after)", class, rule.RecordClass)
	}
	o.why = fmt.Sprintf("%s: %s from %s (%s), so disposal is due on %s. Source: %s.", rulename, period, trigger, td, due, strings.TrimSuffix(rule.Source, "."))
	return o
}

func lastEnded(invs []*casefile.Involvement) (*casefile.Date, bool) {
	var last *casefile.Date
	open := false
	for _, inv := range invs {
		if inv.EndedOn == nil {
			open = true
			continue
		}
		if last == nil || inv.EndedOn.After(*last) {
			e := *inv.EndedOn
			last = &e
		}
	}
	return last, open
}

func allUnfounded(invs []*casefile.Involvement) bool {
	for _, inv := range invs {
		if inv.Outcome != "unfounded" {
			return false
		}
	}
	return len(invs) > 0
}

// Due reports whether a record may be destroyed on asOf (holds aside).
func Due(r casefile.PersonRetention, asOf casefile.Date) bool {
	return r.DisposalDueOn != nil && !r.Open && !asOf.Before(*r.DisposalDueOn)
}

// Policy adapts a Schedule to casefile.RetentionPolicy.
type Policy struct{ S *Schedule }

var _ casefile.RetentionPolicy = Policy{}

// Assess computes the person's retention position.
func (p Policy) Assess(person *casefile.Person) casefile.PersonRetention { return p.S.Assess(person) }

// Schedule lists the rules in force.
func (p Policy) Schedule() []casefile.RetentionRule {
	var out []casefile.RetentionRule
	for _, r := range p.S.Rules {
		period := r.period.String()
		for _, a := range r.Alternatives {
			period += fmt.Sprintf("; %s from %s when %s (%s)", a.period, a.Trigger, a.When, a.Use)
		}
		if r.LookedAfterRule {
			period += "; the looked_after rule if the person was ever looked after"
		}
		out = append(out, casefile.RetentionRule{RecordClass: r.RecordClass, Period: period, Trigger: r.Trigger, Action: r.Action, Source: r.Source})
	}
	return out
}
