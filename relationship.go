package casefile

import (
	"context"
	"time"
)

// Relationship kinds, as recorded from the person whose record it is on: the
// other person is this person's parent, carer, sibling... Each is shown on the
// other record the other way round (parent ↔ child, carer ↔ cared_for).
var relationshipInverse = map[string]string{
	"parent":         "child",
	"child":          "parent",
	"carer":          "cared_for",
	"cared_for":      "carer",
	"sibling":        "sibling",
	"other_relative": "other_relative",
	"other":          "other",
}

// ValidRelationshipKind reports whether kind can be recorded.
func ValidRelationshipKind(kind string) bool {
	_, ok := relationshipInverse[kind]
	return ok
}

// InverseRelationship is kind seen from the other person's record.
func InverseRelationship(kind string) string { return relationshipInverse[kind] }

// Relationship links two persons' records: Person is PersonID's Kind (for
// example, their sibling). Person is the other record, cut to its id and
// Restricted when the caller may not see it.
type Relationship struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	Kind      string    `json:"kind"`
	Person    *Person   `json:"person"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// RelationshipService records and lists relationships between persons.
type RelationshipService interface {
	// AddRelationship records that toID is personID's kind. Returns
	// ENotFound, EUnprocessable (unknown kind, the same person), EConflict
	// (already recorded, either way round; a destroyed person).
	AddRelationship(ctx context.Context, personID, toID, kind string) (*Relationship, error)
	// Relationships lists a person's relationships, from their side.
	Relationships(ctx context.Context, personID string) ([]*Relationship, error)
}
