package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.PersonService = (*DB)(nil)

// newID returns a time-ordered UUID, so that ordering by id is creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// validUUID reports whether s is a UUID; ids that are not cannot exist.
func validUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

const personColumns = `id, external_ref, coalesce(given_name, ''), coalesce(family_name, ''), date_of_birth, date_of_death,
	status, created_at, updated_at, coalesce(nhs_number, '')`

func scanPerson(row pgx.Row) (*casefile.Person, error) {
	var p casefile.Person
	var dob, dod casefile.Date
	var dobValid, dodValid *casefile.Date = &dob, &dod
	if err := row.Scan(&p.ID, &p.ExternalRef, &p.GivenName, &p.FamilyName, dobValid, dodValid,
		&p.Status, &p.CreatedAt, &p.UpdatedAt, &p.NHSNumber); err != nil {
		return nil, err
	}
	if !dob.IsZero() {
		p.DateOfBirth = &dob
	}
	if !dod.IsZero() {
		p.DateOfDeath = &dod
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.Involvements = []*casefile.Involvement{}
	return &p, nil
}

// CreatePerson stores p.
func (db *DB) CreatePerson(ctx context.Context, p *casefile.Person) error {
	p.ID = newID()
	p.Status = "active"
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO persons (id, external_ref, given_name, family_name, date_of_birth, date_of_death, nhs_number)
			VALUES ($1,$2,$3,$4,$5,$6,nullif($7, '')) RETURNING created_at, updated_at`,
			p.ID, p.ExternalRef, p.GivenName, p.FamilyName, p.DateOfBirth, p.DateOfDeath, p.NHSNumber).Scan(&p.CreatedAt, &p.UpdatedAt)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return casefile.Errorf(casefile.EConflict, "external_ref_taken",
					"A person with external reference %q is already on record; fetch them with GET /v1/persons?external_ref=.", p.ExternalRef)
			}
			return err
		}
		if err := db.onRetentionInput(ctx, tx, p.ID); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "person.create", TargetType: "person", TargetID: p.ID, PersonID: p.ID,
			Details: map[string]string{"external_ref": p.ExternalRef}})
	})
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.Involvements = []*casefile.Involvement{}
	return err
}

// Person returns the person with involvements, and audits the read.
func (db *DB) Person(ctx context.Context, id string) (*casefile.Person, error) {
	if !validUUID(id) {
		return nil, notFound("Person")
	}
	var p *casefile.Person
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = db.personTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Restricted, err = restricted(ctx, tx, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "person.read", TargetType: "person", TargetID: id, PersonID: id})
	})
	return p, err
}

// personTx reads a person and their involvements without auditing.
func (db *DB) personTx(ctx context.Context, tx pgx.Tx, id string) (*casefile.Person, error) {
	p, err := scanPerson(tx.QueryRow(ctx, "SELECT "+personColumns+" FROM persons WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, notFound("Person")
	}
	if err != nil {
		return nil, err
	}
	invs, err := involvementsOf(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	p.Involvements = invs
	return p, nil
}

// PersonExists reports whether a person exists, for other stores' checks.
func personExists(ctx context.Context, q pgx.Tx, id string) error {
	if !validUUID(id) {
		return notFound("Person")
	}
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM persons WHERE id = $1", id).Scan(&one)
	if err == pgx.ErrNoRows {
		return notFound("Person")
	}
	return err
}

// personWritable checks, in tx, that the person exists and their record may
// take writes (not destroyed), and holds a share lock on the person's row to
// the end of tx, so that a destruction cannot slip in between the check and
// the write.
func personWritable(ctx context.Context, tx pgx.Tx, id string) error {
	if !validUUID(id) {
		return notFound("Person")
	}
	var status string
	err := tx.QueryRow(ctx, "SELECT status FROM persons WHERE id = $1 FOR SHARE", id).Scan(&status)
	if err == pgx.ErrNoRows {
		return notFound("Person")
	}
	if err != nil {
		return err
	}
	return personActive(status)
}

func involvementsOf(ctx context.Context, tx pgx.Tx, personID string) ([]*casefile.Involvement, error) {
	rows, err := tx.Query(ctx, `SELECT id, person_id, kind, started_on, ended_on, coalesce(outcome, ''), created_at
		FROM involvements WHERE person_id = $1 ORDER BY started_on, id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*casefile.Involvement{}
	for rows.Next() {
		inv, err := scanInvolvement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

func scanInvolvement(row pgx.Row) (*casefile.Involvement, error) {
	var inv casefile.Involvement
	var ended casefile.Date
	if err := row.Scan(&inv.ID, &inv.PersonID, &inv.Kind, &inv.StartedOn, &ended, &inv.Outcome, &inv.CreatedAt); err != nil {
		return nil, err
	}
	if !ended.IsZero() {
		inv.EndedOn = &ended
	}
	inv.CreatedAt = inv.CreatedAt.UTC()
	return &inv, nil
}

// FindPersons lists persons in creation order. Each person listed is a read
// of their record and is audited.
func (db *DB) FindPersons(ctx context.Context, f casefile.PersonFilter) ([]*casefile.Person, string, error) {
	if strings.TrimSpace(f.Query) != "" {
		return db.searchPersons(ctx, f)
	}
	limit := clampLimit(f.Limit)
	if f.Cursor != "" && !validUUID(f.Cursor) {
		return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
	}
	var out []*casefile.Person
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		q := "SELECT " + personColumns + " FROM persons WHERE ($1 = '' OR id > $1::uuid) AND ($2 = '' OR external_ref = $2) ORDER BY id LIMIT $3"
		rows, err := tx.Query(ctx, q, f.Cursor, f.ExternalRef, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) })
		if err != nil {
			return err
		}
		if len(out) > limit {
			out = out[:limit+1]
		}
		return db.auditListed(ctx, tx, out[:min(len(out), limit)], func(*casefile.Person) bool { return true })
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[len(out)-1].ID
	}
	if out == nil {
		out = []*casefile.Person{}
	}
	return out, next, nil
}

// auditListed fills in the involvements of the listed persons the caller may
// see and audits each read; a restricted record the caller may not see is
// cut to its id when shown is true for it (looked up by its reference), and
// marked for leaving out (nil) otherwise. Refusals are audited too.
func (db *DB) auditListed(ctx context.Context, tx pgx.Tx, page []*casefile.Person, shown func(*casefile.Person) bool) error {
	vis, err := db.visibleTx(ctx, tx, personIDs(page))
	if err != nil {
		return err
	}
	for i, p := range page {
		if !vis[p.ID] {
			if shown(p) {
				page[i] = &casefile.Person{ID: p.ID, Restricted: true} // that a restricted record exists: its id only
			} else {
				page[i] = nil
			}
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "access.denied", TargetType: "person", TargetID: p.ID,
				PersonID: p.ID, Details: map[string]string{"via": "list"}}); err != nil {
				return err
			}
			continue
		}
		if p.Involvements, err = involvementsOf(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, auditEntry{Action: "person.read", TargetType: "person", TargetID: p.ID,
			PersonID: p.ID, Details: map[string]string{"via": "list"}}); err != nil {
			return err
		}
	}
	return nil
}

func personIDs(ps []*casefile.Person) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// AddInvolvement stores an involvement and recomputes the person's retention.
func (db *DB) AddInvolvement(ctx context.Context, inv *casefile.Involvement) error {
	inv.ID = newID()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personWritable(ctx, tx, inv.PersonID); err != nil {
			return err
		}
		var outcome *string
		if inv.Outcome != "" {
			outcome = &inv.Outcome
		}
		if err := tx.QueryRow(ctx, `INSERT INTO involvements (id, person_id, kind, started_on, ended_on, outcome)
			VALUES ($1,$2,$3,$4,$5,$6) RETURNING created_at`,
			inv.ID, inv.PersonID, inv.Kind, inv.StartedOn, inv.EndedOn, outcome).Scan(&inv.CreatedAt); err != nil {
			return err
		}
		inv.CreatedAt = inv.CreatedAt.UTC()
		if err := db.onRetentionChange(ctx, tx, inv.PersonID); err != nil {
			return err
		}
		if inv.Kind == casefile.InvolvementAdoption {
			if err := db.restrictToAdoptionTeam(ctx, tx, inv.PersonID); err != nil {
				return err
			}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "involvement.create", TargetType: "involvement", TargetID: inv.ID,
			PersonID: inv.PersonID, Details: map[string]any{"kind": inv.Kind, "started_on": inv.StartedOn, "ended_on": inv.EndedOn}})
	})
}

// CloseInvolvement sets an involvement's end date.
func (db *DB) CloseInvolvement(ctx context.Context, id string, endedOn casefile.Date) (*casefile.Involvement, error) {
	if !validUUID(id) {
		return nil, notFound("Involvement")
	}
	var inv *casefile.Involvement
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inv, err = scanInvolvement(tx.QueryRow(ctx, `SELECT id, person_id, kind, started_on, ended_on, coalesce(outcome, ''), created_at
			FROM involvements WHERE id = $1 FOR UPDATE`, id))
		if err == pgx.ErrNoRows {
			return notFound("Involvement")
		}
		if err != nil {
			return err
		}
		if err := personWritable(ctx, tx, inv.PersonID); err != nil {
			return err
		}
		if inv.EndedOn != nil {
			return casefile.Errorf(casefile.EConflict, "already_closed", "This involvement was already closed on %s.", inv.EndedOn)
		}
		if endedOn.Before(inv.StartedOn) {
			return casefile.Errorf(casefile.EUnprocessable, "ended_before_started",
				"ended_on %s is before the involvement started on %s.", endedOn, inv.StartedOn)
		}
		if _, err := tx.Exec(ctx, "UPDATE involvements SET ended_on = $2 WHERE id = $1", id, endedOn); err != nil {
			return err
		}
		inv.EndedOn = &endedOn
		if err := db.onRetentionChange(ctx, tx, inv.PersonID); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "involvement.close", TargetType: "involvement", TargetID: id,
			PersonID: inv.PersonID, Details: map[string]any{"kind": inv.Kind, "ended_on": map[string]any{"old": nil, "new": endedOn}}})
	})
	return inv, err
}

// UpdatePerson changes identifying details or the date of death, and
// recomputes retention (both dates are retention inputs).
func (db *DB) UpdatePerson(ctx context.Context, id string, u casefile.PersonUpdate) (*casefile.Person, error) {
	if !validUUID(id) {
		return nil, notFound("Person")
	}
	var p *casefile.Person
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if _, err = tx.Exec(ctx, "SELECT 1 FROM persons WHERE id = $1 FOR UPDATE", id); err != nil {
			return err
		}
		p, err = db.personTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := personActive(p.Status); err != nil {
			return err
		}
		var changed []string
		// Dates decide retention: their old and new values go in the audit
		// log (dates are not free text), so a wrong date can be traced and
		// put right even after the record is destroyed.
		dates := map[string]any{}
		dateChange := func(field string, old, new *casefile.Date) {
			if (old == nil) != (new == nil) || (old != nil && *old != *new) {
				dates[field] = map[string]any{"old": old, "new": new}
			}
		}
		if u.DateOfBirth != nil {
			dateChange("date_of_birth", p.DateOfBirth, u.DateOfBirth)
		}
		if u.DateOfDeath != nil {
			dateChange("date_of_death", p.DateOfDeath, u.DateOfDeath)
		}
		if u.NHSNumber != nil {
			p.NHSNumber, changed = *u.NHSNumber, append(changed, "nhs_number")
		}
		if u.GivenName != nil {
			p.GivenName, changed = *u.GivenName, append(changed, "given_name")
		}
		if u.FamilyName != nil {
			p.FamilyName, changed = *u.FamilyName, append(changed, "family_name")
		}
		if u.DateOfBirth != nil {
			p.DateOfBirth, changed = u.DateOfBirth, append(changed, "date_of_birth")
		}
		if u.DateOfDeath != nil {
			p.DateOfDeath, changed = u.DateOfDeath, append(changed, "date_of_death")
		}
		if p.DateOfBirth != nil && p.DateOfDeath != nil && p.DateOfDeath.Before(*p.DateOfBirth) {
			return casefile.Errorf(casefile.EUnprocessable, "death_before_birth", "date_of_death %s is before date_of_birth %s.", p.DateOfDeath, p.DateOfBirth)
		}
		if err := tx.QueryRow(ctx, `UPDATE persons SET given_name = $2, family_name = $3, date_of_birth = $4, date_of_death = $5,
			nhs_number = nullif($6, ''), updated_at = now() WHERE id = $1 RETURNING updated_at`,
			id, p.GivenName, p.FamilyName, p.DateOfBirth, p.DateOfDeath, p.NHSNumber).Scan(&p.UpdatedAt); err != nil {
			return err
		}
		p.UpdatedAt = p.UpdatedAt.UTC()
		assess := db.onRetentionInput
		if len(dates) > 0 {
			assess = db.onRetentionChange
		}
		if err := assess(ctx, tx, id); err != nil {
			return err
		}
		details := map[string]any{"fields": changed}
		for k, v := range dates {
			details[k] = v
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "person.update", TargetType: "person", TargetID: id, PersonID: id,
			Details: details})
	})
	return p, err
}
