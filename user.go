package casefile

import (
	"context"
	"time"
)

// User is a person who signs in through the identity provider. Users are
// made on their first sign-in, known by the provider's issuer and subject;
// name and email follow the provider at each sign-in. Role is empty until
// the provider's role claim or an admin gives one: a user without a role can
// do nothing.
type User struct {
	ID         string    `json:"id"`
	Issuer     string    `json:"issuer"`
	Subject    string    `json:"subject"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Role       Role      `json:"role"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// SignIn is what the identity provider says about a user signing in.
type SignIn struct {
	Issuer, Subject, Name, Email string
	// Role is the role mapped from the provider's role claim; nil when the
	// claim is absent or names no casefile role, so that the role an admin
	// gave stays.
	Role *Role
}

// UserUpdate is an admin's change to a user; nil fields stay as they are.
type UserUpdate struct {
	Role     *Role
	Disabled *bool
}

// UserService keeps the users who sign in.
type UserService interface {
	// SignInUser finds the user by issuer and subject, creating them on the
	// first sign-in, and updates name, email, role (when given) and
	// LastSeenAt. Audited (user.create, user.sign_in).
	SignInUser(ctx context.Context, s SignIn) (*User, error)
	// User returns one user; ENotFound if there is none.
	User(ctx context.Context, id string) (*User, error)
	// Users lists users by name.
	Users(ctx context.Context, page Page) ([]*User, string, error)
	// UpdateUser changes a user's role or disabled flag (audited). Disabling
	// a user ends their sessions at once.
	UpdateUser(ctx context.Context, id string, u UserUpdate) (*User, error)
}

// Session is a signed-in browser, kept server-side. The browser holds only a
// random secret (the cookie) whose hash finds the session. A session belongs
// to a user (single sign-on) or, when it was made by entering an API token
// on the sign-in form, to that token.
type Session struct {
	ID         string
	UserID     string // empty for a session made from a token
	TokenID    string // empty for a user's session
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute end, however active the session is
}

// LoginRequest is a sign-in under way: kept server-side from the redirect to
// the identity provider until the callback, which takes it once.
type LoginRequest struct {
	StateHash    []byte // sha256 of the state parameter
	BrowserHash  []byte // sha256 of the login cookie that binds it to the browser
	Nonce        string
	CodeVerifier string // PKCE
	Next         string // the local path to return to
	ExpiresAt    time.Time
}

// SessionService keeps browser sessions and sign-ins under way.
type SessionService interface {
	// CreateSession stores a session; the returned secret goes in the cookie
	// and is not kept. Audited (session.start).
	CreateSession(ctx context.Context, s *Session) (secret string, err error)
	// SessionBySecret finds the session whose cookie is secret; ENotFound
	// (or EUnauthorized) when there is none. It does not judge expiry.
	SessionBySecret(ctx context.Context, secret string) (*Session, error)
	// TouchSession records activity at at (callers do so at most about once
	// a minute per session).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// EndSession removes a session (sign-out, expiry), audited as
	// session.end with the reason; ending one that is gone already is not an
	// error and records nothing.
	EndSession(ctx context.Context, id, reason string) error
	// SaveLoginRequest keeps a sign-in under way.
	SaveLoginRequest(ctx context.Context, lr *LoginRequest) error
	// TakeLoginRequest removes and returns the sign-in whose state hashes to
	// stateHash: a state is good once. ENotFound when there is none or it
	// has expired.
	TakeLoginRequest(ctx context.Context, stateHash []byte) (*LoginRequest, error)
}
