package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.RelationshipService = (*DB)(nil)

// AddRelationship records that toID is personID's kind, audited on both
// records.
func (db *DB) AddRelationship(ctx context.Context, personID, toID, kind string) (*casefile.Relationship, error) {
	if !casefile.ValidRelationshipKind(kind) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_kind",
			"kind must be parent, child, carer, cared_for, sibling, other_relative or other.")
	}
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	if !validUUID(toID) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "to_person_not_found", "to_person_id names no person.")
	}
	if personID == toID {
		return nil, casefile.Errorf(casefile.EUnprocessable, "same_person", "A person cannot be related to their own record.")
	}
	r := &casefile.Relationship{ID: newID(), PersonID: personID, Kind: kind, CreatedBy: casefile.ActorFrom(ctx).String()}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personWritable(ctx, tx, personID); err != nil {
			return err
		}
		if err := personWritable(ctx, tx, toID); casefile.ErrorKind(err) == casefile.ENotFound {
			return casefile.Errorf(casefile.EUnprocessable, "to_person_not_found", "to_person_id names no person.")
		} else if err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO relationships (id, person_id, related_id, kind, created_by) VALUES ($1,$2,$3,$4,$5)
			RETURNING created_at`, r.ID, personID, toID, kind, r.CreatedBy).Scan(&r.CreatedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "relationship_exists",
				"These two records are already related; see the relationships on either record.")
		}
		if err != nil {
			return err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		p, err := scanPerson(tx.QueryRow(ctx, "SELECT "+personColumns+" FROM persons WHERE id = $1", toID))
		if err != nil {
			return err
		}
		r.Person = p
		return db.appendAudits(ctx, tx, []auditEntry{
			{Action: "relationship.create", TargetType: "relationship", TargetID: r.ID, PersonID: personID,
				Details: map[string]string{"kind": kind, "to_person_id": toID}},
			{Action: "relationship.create", TargetType: "relationship", TargetID: r.ID, PersonID: toID,
				Details: map[string]string{"kind": casefile.InverseRelationship(kind), "to_person_id": personID}},
		})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Relationships lists a person's relationships from their side, the other
// persons cut to their ids where the caller may not see them.
func (db *DB) Relationships(ctx context.Context, personID string) ([]*casefile.Relationship, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	out := []*casefile.Relationship{}
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, kind, person_id = $1, created_at, created_by,
			CASE WHEN person_id = $1 THEN related_id ELSE person_id END
			FROM relationships WHERE person_id = $1 OR related_id = $1 ORDER BY created_at, id`, personID)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var r casefile.Relationship
			var mine bool
			var other string
			if err := rows.Scan(&r.ID, &r.Kind, &mine, &r.CreatedAt, &r.CreatedBy, &other); err != nil {
				rows.Close()
				return err
			}
			if !mine {
				r.Kind = casefile.InverseRelationship(r.Kind)
			}
			r.PersonID, r.Person, r.CreatedAt = personID, &casefile.Person{ID: other}, r.CreatedAt.UTC()
			out = append(out, &r)
			ids = append(ids, other)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		prows, err := tx.Query(ctx, "SELECT "+personColumns+" FROM persons WHERE id = ANY($1)", ids)
		if err != nil {
			return err
		}
		others, err := pgx.CollectRows(prows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) })
		if err != nil {
			return err
		}
		byID := map[string]*casefile.Person{}
		for _, p := range others {
			byID[p.ID] = p
		}
		vis, err := db.visibleTx(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, r := range out {
			if vis[r.Person.ID] && byID[r.Person.ID] != nil {
				r.Person = byID[r.Person.ID]
			} else {
				r.Person.Restricted = true
			}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "relationship.list", TargetType: "person", TargetID: personID,
			PersonID: personID, Details: map[string]any{"count": len(out)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
