package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.ThirdPartyStore = (*DB)(nil)

// PersonsVersion is the newest change to any person (persons are never
// deleted; an addition, a change of name and a destruction all set
// updated_at).
func (db *DB) PersonsVersion(ctx context.Context) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, "SELECT coalesce(max(updated_at)::text, '') FROM persons").Scan(&v)
	return v, mapError(err)
}

// CheckablePersons lists every active person.
func (db *DB) CheckablePersons(ctx context.Context) ([]*casefile.Person, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+personColumns+" FROM persons WHERE status = 'active'")
	if err != nil {
		return nil, mapError(err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) })
	return ps, mapError(err)
}

// RelatedPersons returns the person and those related to them.
func (db *DB) RelatedPersons(ctx context.Context, personID string) ([]*casefile.Person, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	rows, err := db.pool.Query(ctx, "SELECT "+personColumns+` FROM persons WHERE id = $1 OR id IN (
		SELECT related_id FROM relationships WHERE person_id = $1 UNION SELECT person_id FROM relationships WHERE related_id = $1)`, personID)
	if err != nil {
		return nil, mapError(err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) })
	if err == nil && len(ps) == 0 {
		return nil, notFound("Person")
	}
	return ps, mapError(err)
}

// Relations maps each related person to the others, both ways round.
func (db *DB) Relations(ctx context.Context) (map[string][]string, error) {
	rows, err := db.pool.Query(ctx, "SELECT person_id::text, related_id::text FROM relationships")
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, mapError(err)
		}
		out[a], out[b] = append(out[a], b), append(out[b], a)
	}
	return out, mapError(rows.Err())
}
