package casefile

import (
	"context"
	"strings"
	"time"
)

// Involvement kinds: the kinds of involvement children's social care has with
// a person. They drive the person's retention record class.
const (
	InvolvementEarlyHelp       = "early_help"
	InvolvementChildInNeed     = "child_in_need"
	InvolvementChildProtection = "child_protection"
	InvolvementLookedAfter     = "looked_after"
	InvolvementCareLeaver      = "care_leaver"
	InvolvementAdoption        = "adoption"
	InvolvementAdoptionNoOrder = "adoption_no_order"
	InvolvementLADO            = "lado"
)

// InvolvementKinds lists every valid involvement kind.
var InvolvementKinds = []string{
	InvolvementEarlyHelp, InvolvementChildInNeed, InvolvementChildProtection, InvolvementLookedAfter,
	InvolvementCareLeaver, InvolvementAdoption, InvolvementAdoptionNoOrder, InvolvementLADO,
}

// ValidInvolvementKind reports whether k is a known involvement kind.
func ValidInvolvementKind(k string) bool {
	for _, x := range InvolvementKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Person is the subject of a record. Once retention has destroyed everything
// on their record, the identifying fields are destroyed too and Status says so.
type Person struct {
	ID          string `json:"id"`
	ExternalRef string `json:"external_ref"`
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	DateOfBirth *Date  `json:"date_of_birth"`
	DateOfDeath *Date  `json:"date_of_death,omitempty"`
	// NHSNumber is ten digits, when known.
	NHSNumber    string         `json:"nhs_number,omitempty"`
	Status       string         `json:"status"` // "active" or "destroyed"
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Involvements []*Involvement `json:"involvements"`
	// Restricted says the record is restricted (see AccessService): set on
	// a read by someone it is open to; in a list, a record the caller may not
	// see stands as its id and this alone.
	Restricted bool `json:"restricted,omitempty"`
}

// Involvement is one period of a kind of involvement with a person.
type Involvement struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	Kind      string    `json:"kind"`
	StartedOn Date      `json:"started_on"`
	EndedOn   *Date     `json:"ended_on"`
	Outcome   string    `json:"outcome,omitempty"` // lado only: substantiated, unsubstantiated, unfounded
	CreatedAt time.Time `json:"created_at"`
}

// PersonFilter selects persons in a list.
type PersonFilter struct {
	ExternalRef string
	// Query finds persons by name (every word, in part, whatever the case
	// and accents), by reference (its beginning) or by date of birth
	// (YYYY-MM-DD or DD/MM/YYYY). A restricted record the caller may not see
	// is left out, unless the query is its reference.
	Query string
	Page
}

// PersonUpdate is a change to a person; nil fields stay as they are.
type PersonUpdate struct {
	NHSNumber   *string // "" clears it
	GivenName   *string
	FamilyName  *string
	DateOfBirth *Date
	DateOfDeath *Date
}

// NHSNumber returns an NHS number as ten digits: written together, or
// spaced 3-3-4 by spaces or hyphens, with a valid Modulus 11 check digit
// (the first nine digits weighted 10 down to 2; 11 less the remainder by 11
// is the check digit, 11 counting as 0 and 10 never valid).
func NHSNumber(s string) (string, bool) {
	d := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	if len(d) != 10 || strings.Trim(d, "0123456789") != "" {
		return "", false
	}
	sum := 0
	for k := 0; k < 9; k++ {
		sum += int(d[k]-'0') * (10 - k)
	}
	check := (11 - sum%11) % 11
	return d, check != 10 && int(d[9]-'0') == check
}

// PersonService stores persons and their involvements. Every read and change
// is audited under the actor carried by ctx.
type PersonService interface {
	// CreatePerson stores p, filling ID and times. Returns EConflict
	// (external_ref_taken) if the external reference is in use.
	CreatePerson(ctx context.Context, p *Person) error
	// Person returns a person with involvements. Returns ENotFound.
	Person(ctx context.Context, id string) (*Person, error)
	// FindPersons lists persons, oldest first, and the next cursor.
	FindPersons(ctx context.Context, f PersonFilter) ([]*Person, string, error)
	// UpdatePerson changes identifying details or records a date of death.
	// Returns ENotFound, EUnprocessable for impossible dates.
	UpdatePerson(ctx context.Context, id string, u PersonUpdate) (*Person, error)
	// AddInvolvement stores inv on its person. Returns ENotFound.
	AddInvolvement(ctx context.Context, inv *Involvement) error
	// CloseInvolvement sets ended_on. Returns ENotFound, EConflict if already
	// closed, EUnprocessable if endedOn is before it started.
	CloseInvolvement(ctx context.Context, id string, endedOn Date) (*Involvement, error)
}
