package retention

import (
	"context"
	"fmt"

	"github.com/council/casefile"
)

// ScheduleStore is what the schedule-change guard needs from storage.
type ScheduleStore interface {
	// CurrentSchedule is the sha256 of the schedule last started with ("" for none).
	CurrentSchedule(ctx context.Context) (string, error)
	// CountNewlyDue counts active persons, and those whom policy would make
	// due for destruction on today that their stored position does not.
	CountNewlyDue(ctx context.Context, policy casefile.RetentionPolicy, today casefile.Date) (persons, newlyDue int, err error)
	// RecordSchedule records the schedule started with.
	RecordSchedule(ctx context.Context, sha string, persons, newlyDue int, confirmed bool) error
}

// MaxNewlyDuePercent is how much of the record a changed schedule may make
// due at once without a person confirming it.
const MaxNewlyDuePercent = 1

// ScheduleRefused is the refusal of a changed schedule that would make too
// many records due at once.
type ScheduleRefused struct {
	SHA256            string
	Persons, NewlyDue int
}

func (e *ScheduleRefused) Error() string {
	return fmt.Sprintf("this schedule (sha256 %s) would make %d of %d records (%.1f%%, more than %d%%) due for disposal at once; "+
		"check it, then start with CASEFILE_RETENTION_SCHEDULE_CONFIRM=%s to accept it",
		e.SHA256, e.NewlyDue, e.Persons, 100*float64(e.NewlyDue)/float64(e.Persons), MaxNewlyDuePercent, e.SHA256)
}

// GuardScheduleChange is checked at start: a schedule other than the one
// last started with, that would make more than MaxNewlyDuePercent of the
// active records due at once, is refused unless confirm is its sha256. An
// accepted schedule is recorded (and audited); records it brings forward
// are held for review for the settle period by the next reassessment.
func GuardScheduleChange(ctx context.Context, store ScheduleStore, s *Schedule, confirm string, today casefile.Date) error {
	cur, err := store.CurrentSchedule(ctx)
	if err != nil {
		return err
	}
	if cur == s.SHA256() {
		return nil
	}
	persons, newly, err := store.CountNewlyDue(ctx, Policy{S: s}, today)
	if err != nil {
		return err
	}
	confirmed := confirm != "" && confirm == s.SHA256()
	if newly*100 > persons*MaxNewlyDuePercent && !confirmed {
		return &ScheduleRefused{SHA256: s.SHA256(), Persons: persons, NewlyDue: newly}
	}
	return store.RecordSchedule(ctx, s.SHA256(), persons, newly, confirmed)
}
