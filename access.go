package casefile

import (
	"context"
	"sync/atomic"
	"time"
)

// Team is a group of users that a restricted record can be opened to.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TeamService stores teams and which users belong to them.
type TeamService interface {
	// CreateTeam stores a team. EInvalid for an empty name, EConflict
	// (team_exists) for a name in use (names compare case-insensitively).
	CreateTeam(ctx context.Context, name string) (*Team, error)
	// Teams lists every team by name.
	Teams(ctx context.Context) ([]*Team, error)
	// SetUserTeams makes teamIDs the teams of the user (replacing what they
	// were), audited as user.teams. ENotFound (unknown_team) for a team that
	// does not exist.
	SetUserTeams(ctx context.Context, userID string, teamIDs []string) error
	// UserTeams returns the ids of the user's teams (for Actor.Teams).
	UserTeams(ctx context.Context, userID string) ([]string, error)
}

// BreakGlassFor is how long break-glass access to a restricted record lasts.
const BreakGlassFor = time.Hour

// Restriction closes a person's record to everyone but the named teams and
// users (user ids may also be token ids), its owner (who restricted it) and
// whoever has used break-glass on it within the hour. Reason is kept here,
// not in the audit log (the log keeps free text out).
type Restriction struct {
	PersonID  string    `json:"person_id"`
	Reason    string    `json:"reason"`
	TeamIDs   []string  `json:"team_ids"`
	UserIDs   []string  `json:"user_ids"`
	OwnerID   string    `json:"owner_id,omitempty"` // empty when the service restricted it (adoption)
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
	// BreakGlass lists the break-glass uses of the last 90 days, newest first.
	BreakGlass []*BreakGlass `json:"break_glass"`
}

// BreakGlass is one use of break-glass access to a restricted record.
type BreakGlass struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	ActorID   string    `json:"actor_id"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	OpenedAt  time.Time `json:"opened_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RestrictionInput is what a manager or admin says when restricting a record.
type RestrictionInput struct {
	Reason  string
	TeamIDs []string
	UserIDs []string
}

// AccessService decides who may see which person's record. It is the one
// place the rule lives: the API and the web pages call it before anything of
// a person's record is read or changed, and lists are filtered by it.
//
// The rule: a person's record with no restriction is open to every role the
// permission matrix lets in. A restricted record is open only to the
// restriction's named users (or tokens), members of its named teams, its
// owner, and anyone who opened it by break-glass within the last hour.
// Admins and auditors have no silent bypass. Work the service does itself
// (system and cli actors) is not restricted.
type AccessService interface {
	// CanAccessPerson returns nil when the actor in ctx may see the person's
	// record (or there is no such person: the read then answers 404), and
	// otherwise EForbidden restricted_record, audited as access.denied.
	CanAccessPerson(ctx context.Context, personID string) error
	// VisiblePersons returns which of ids the actor may see (ids that are
	// not restricted, or unknown, are visible). It audits nothing: lists
	// leave out or stand in for what is hidden.
	VisiblePersons(ctx context.Context, ids []string) (map[string]bool, error)
	// PersonsOf returns the persons a note, document, ticket, export,
	// involvement or hold is on (a re-index ticket is on two). ENotFound.
	PersonsOf(ctx context.Context, targetType, id string) ([]string, error)

	// Restrict restricts the record, or replaces its restriction; audited
	// access.restrict. A manager must be able to see the record; an admin
	// manages any restriction (without seeing the record).
	Restrict(ctx context.Context, personID string, in RestrictionInput) (*Restriction, error)
	// LiftRestriction lifts it; audited access.lift. ENotFound
	// (not_restricted) when there is none.
	LiftRestriction(ctx context.Context, personID, reason string) error
	// Restriction returns the record's restriction and its recent break-glass
	// uses, for the restriction's owners (those who may see the record, and
	// admins). ENotFound (not_restricted).
	Restriction(ctx context.Context, personID string) (*Restriction, error)
	// BreakGlass opens a restricted record to the actor in ctx for
	// BreakGlassFor; audited access.break_glass. EConflict (not_restricted).
	BreakGlass(ctx context.Context, personID, reason string) (*BreakGlass, error)
}

// ErrRestricted is the refusal of a restricted record, in the policy's words.
func ErrRestricted() *Error {
	return Errorf(EForbidden, "restricted_record",
		"This record is restricted to named teams and people. If you need it for your work, ask its owner to add you, "+
			"or open it for one hour with POST /v1/persons/{id}/access and a reason (break-glass; your use is recorded and shown to the record's owners).")
}

// AccessCheck is CanAccessPerson left to the storage, so that it costs no
// round trip of its own: an edge about to read a person's record puts one in
// the request's context (WithAccessCheck) instead of calling CanAccessPerson,
// and the storage makes it in the same round trip as the read's first
// statement, which runs only when the record is open to the actor. A refusal
// is the same as CanAccessPerson's (ErrRestricted, audited access.denied).
// Only reads that are known to go through the storage may leave their check
// to it; Made tells the edge whether it was made.
type AccessCheck struct {
	PersonID string
	made     atomic.Bool
}

type accessCheckKey struct{}

// WithAccessCheck returns ctx carrying a check of the actor's access to the
// person's record, to be made by the storage.
func WithAccessCheck(ctx context.Context, personID string) (context.Context, *AccessCheck) {
	c := &AccessCheck{PersonID: personID}
	return context.WithValue(ctx, accessCheckKey{}, c), c
}

// TakeAccessCheck returns the check ctx carries that nobody has made yet,
// and marks it made: whoever takes it must make it before reading anything.
// Nil when there is none.
func TakeAccessCheck(ctx context.Context) *AccessCheck {
	c, _ := ctx.Value(accessCheckKey{}).(*AccessCheck)
	if c == nil || !c.made.CompareAndSwap(false, true) {
		return nil
	}
	return c
}

// Made says whether the storage took the check.
func (c *AccessCheck) Made() bool { return c.made.Load() }
