// Package casefile holds the domain of the casefile records service: persons,
// their documents and case notes, ICT tickets, retention and the audit log,
// together with the interfaces between the packages that implement them.
//
// It imports nothing of ours. storage implements the interfaces on PostgreSQL
// and S3; ingest and retention hold the business rules; httpapi and workers
// are thin edges; cmd/casefile wires them together.
package casefile

import (
	"context"
	"strings"
	"time"
)

// Role is what a token may do. The permission matrix lives in httpapi.
type Role string

const (
	RolePractitioner   Role = "practitioner"
	RoleManager        Role = "manager"
	RoleICT            Role = "ict"
	RoleRecordsOfficer Role = "records_officer"
	RoleAuditor        Role = "auditor"
	RoleAdmin          Role = "admin"
	// RoleSystem is the role of work the service does by itself (scheduled
	// sweeps, ticket workers); no token carries it.
	RoleSystem Role = "system"
)

// Roles lists the roles a token may be given.
var Roles = []Role{RolePractitioner, RoleManager, RoleICT, RoleRecordsOfficer, RoleAuditor, RoleAdmin}

// ValidRole reports whether r can be given to a token.
func ValidRole(r Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Actor kinds: who an Actor is.
const (
	ActorUser   = "user"   // a person signed in through the identity provider
	ActorToken  = "token"  // an API token
	ActorSystem = "system" // work the service does by itself
	ActorCLI    = "cli"    // an operator at the command line
)

// Actor is who is doing something: a signed-in user, a token's holder, or
// the system. ID is the user's or token's id (empty for system work), so that
// two people with the same name are told apart; Teams are the ids of the
// teams a user belongs to (restricted records are opened to teams).
type Actor struct {
	ID    string
	Kind  string
	Name  string
	Role  Role
	Teams []string
	// TokenID is the token the actor authenticated with, if any.
	TokenID string
}

// String is the actor as written in audit events and created_by fields.
func (a Actor) String() string {
	if a.Name == "" {
		return "unknown"
	}
	return a.Name
}

// SystemActor is the actor of scheduled and background work.
func SystemActor(job string) Actor {
	return Actor{Kind: ActorSystem, Name: "system:" + job, Role: RoleSystem}
}

type actorKey struct{}

// WithActor returns ctx carrying the actor that storage writes into the audit log.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, or an unknown actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// Page asks for one page of a list. Cursor is opaque to callers.
type Page struct {
	Limit  int
	Cursor string
}

const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Token is an API token. Its secret is shown once and stored only as a hash.
// Every token ends: at ExpiresAt, or when it is revoked.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// DefaultTokenLifetime is how long a token lasts unless told otherwise.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// ReservedName reports whether name is one the service keeps for its own
// actors (system work and the command line), which no token may take.
func ReservedName(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return strings.HasPrefix(n, "system:") || strings.HasPrefix(n, "cli:")
}

// TokenService creates, checks, lists and revokes API tokens.
type TokenService interface {
	// CreateToken returns the token and its secret, which is not kept. The
	// token ends at expiresAt. Returns EInvalid for an unknown role or empty
	// name, EUnprocessable for a reserved name or an expiry in the past.
	CreateToken(ctx context.Context, name string, role Role, expiresAt time.Time) (*Token, string, error)
	// Authenticate returns the actor holding secret. Returns EUnauthorized if
	// the secret is unknown, revoked or expired. It records when the token
	// was last used (at most about once a minute).
	Authenticate(ctx context.Context, secret string) (Actor, error)
	// TokenActor is Authenticate by the token's id, for a browser session
	// made from a token: the same checks, so revoking the token ends it.
	TokenActor(ctx context.Context, id string) (Actor, error)
	// Tokens lists every token, newest first (never their secrets).
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken ends a token now; revoking it again changes nothing.
	RevokeToken(ctx context.Context, id string) (*Token, error)
	// CountTokens counts tokens ever created (first-start bootstrap).
	CountTokens(ctx context.Context) (int, error)
}

// Pinger is a backing service that can say whether it is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}
