package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.AccessService = (*DB)(nil)

// visibleSQL is the restricted-record rule, the one place it is written: for
// each person id in $1, whether the actor ($2: user or token id, or NULL;
// $3: the actor's team ids) may see the record at time $4. Unrestricted and
// unknown persons are visible (an unknown one then reads as 404).
const visibleSQL = `SELECT p.id::text, coalesce(
	r.id IS NULL
	OR r.team_ids && $3::uuid[]
	OR ($2::uuid IS NOT NULL AND (
		$2::uuid = ANY(r.user_ids) OR r.owner_id = $2::uuid
		OR EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = $2::uuid AND m.team_id = ANY(r.team_ids))
		OR EXISTS (SELECT 1 FROM break_glass b WHERE b.person_id = p.id AND b.actor_id = $2::uuid AND b.expires_at > $4))), false)
	FROM unnest($1::uuid[]) AS p(id)
	LEFT JOIN restrictions r ON r.person_id = p.id AND r.ended_at IS NULL`

// visibleOneSQL is visibleSQL for one person, $1 a uuid rather than an
// array: PostgreSQL cannot tell the length of an array parameter, so it
// planned the array form afresh for every execution (half a millisecond of
// its CPU each time, more than the statement's own work), while this form it
// plans once per connection.
var visibleOneSQL = func() string {
	const many, one = "FROM unnest($1::uuid[]) AS p(id)", "FROM (VALUES ($1::uuid)) AS p(id)"
	if strings.Count(visibleSQL, many) != 1 {
		panic("visibleSQL no longer reads its persons from unnest($1::uuid[])")
	}
	return strings.Replace(visibleSQL, many, one, 1)
}()

// unrestricted reports whether the actor is work the service does itself,
// which restrictions do not stop (retention, ticket workers, the CLI).
func unrestricted(a casefile.Actor) bool {
	return a.Kind == casefile.ActorSystem || a.Kind == casefile.ActorCLI || a.Role == casefile.RoleSystem
}

// actorKey returns the actor's id as a UUID argument (nil when it has none)
// and its valid team ids.
func actorArgs(a casefile.Actor) (*string, []string) {
	var id *string
	if validUUID(a.ID) {
		id = &a.ID
	}
	teams := []string{}
	for _, t := range a.Teams {
		if validUUID(t) {
			teams = append(teams, t)
		}
	}
	return id, teams
}

// visibleTx applies the rule to ids inside tx (or on the pool: the rule is
// one statement).
func (db *DB) visibleTx(ctx context.Context, tx querier, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	a := casefile.ActorFrom(ctx)
	var valid []string
	for _, id := range ids {
		if unrestricted(a) || !validUUID(id) {
			out[id] = true
		} else {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return out, nil
	}
	actorID, teams := actorArgs(a)
	var rows pgx.Rows
	var err error
	if len(valid) == 1 {
		rows, err = tx.Query(ctx, visibleOneSQL, valid[0], actorID, teams, db.now())
	} else {
		rows, err = tx.Query(ctx, visibleSQL, valid, actorID, teams, db.now())
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ok bool
		if err := rows.Scan(&id, &ok); err != nil {
			return nil, err
		}
		out[id] = ok
	}
	return out, rows.Err()
}

// VisiblePersons returns which of ids the actor in ctx may see: one
// statement, so one round trip and no transaction.
func (db *DB) VisiblePersons(ctx context.Context, ids []string) (map[string]bool, error) {
	out, err := db.visibleTx(ctx, db.pool, ids)
	return out, mapError(err)
}

// CanAccessPerson refuses a restricted record to whoever may not see it, and
// records the refusal (access.denied) in a transaction of its own.
func (db *DB) CanAccessPerson(ctx context.Context, personID string) error {
	vis, err := db.VisiblePersons(ctx, []string{personID})
	if err != nil {
		return err
	}
	if vis[personID] {
		return nil
	}
	return db.denied(ctx, personID, nil)
}

// denied audits a refusal of a restricted record and returns the refusal.
func (db *DB) denied(ctx context.Context, personID string, details any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return db.appendAudit(ctx, tx, auditEntry{Action: "access.denied", TargetType: "person", TargetID: personID,
			PersonID: personID, Details: details})
	})
	if err != nil {
		return err
	}
	return casefile.ErrRestricted()
}

// PersonsOf returns the persons a thing is on.
func (db *DB) PersonsOf(ctx context.Context, targetType, id string) ([]string, error) {
	var q string
	switch targetType {
	case "person":
		q = "SELECT id::text FROM persons WHERE id = $1"
	case "note":
		q = "SELECT person_id::text FROM notes WHERE id = $1"
	case "document":
		q = "SELECT person_id::text FROM documents WHERE id = $1"
	case "export":
		q = "SELECT person_id::text FROM exports WHERE id = $1"
	case "disclosure":
		q = "SELECT person_id::text FROM disclosures WHERE id = $1"
	case "involvement":
		q = "SELECT person_id::text FROM involvements WHERE id = $1"
	case "ticket":
		q = "SELECT unnest(array_remove(ARRAY[person_id, to_person_id], NULL))::text FROM tickets WHERE id = $1"
	default:
		return nil, casefile.Errorf(casefile.EInternal, "internal", "PersonsOf: unknown target type %q", targetType)
	}
	what := strings.ToUpper(targetType[:1]) + targetType[1:]
	if !validUUID(id) {
		return nil, notFound(what)
	}
	rows, err := db.pool.Query(ctx, q, id)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapError(err)
	}
	if len(ids) == 0 {
		return nil, notFound(what)
	}
	return ids, nil
}

// reasonDigest is what the audit log keeps of a free-text reason: its length
// and hash, never the words (they stay on the restriction row).
func reasonDigest(reason string) map[string]any { return typedText(nil, "reason", reason) }

// mayManage says whether the actor may change or read the restriction of a
// record: admins always (they run access control, and cannot read the record
// through it), anyone else only when they may see the record.
func (db *DB) mayManage(ctx context.Context, tx pgx.Tx, personID string) error {
	a := casefile.ActorFrom(ctx)
	if a.Role == casefile.RoleAdmin || unrestricted(a) {
		return nil
	}
	vis, err := db.visibleTx(ctx, tx, []string{personID})
	if err != nil {
		return err
	}
	if !vis[personID] {
		return errRestrictedTx
	}
	return nil
}

// errRestrictedTx marks a refusal found inside a transaction; the caller
// audits it once the transaction has rolled back.
var errRestrictedTx = casefile.ErrRestricted()

// afterRestricted audits a refusal found inside a transaction.
func (db *DB) afterRestricted(ctx context.Context, personID string, err error) error {
	if err == errRestrictedTx {
		return db.denied(ctx, personID, nil)
	}
	return err
}

// liveRestriction reads a record's live restriction, locking it.
func liveRestriction(ctx context.Context, tx pgx.Tx, personID string) (*casefile.Restriction, string, error) {
	var r casefile.Restriction
	var id string
	var owner *string
	err := tx.QueryRow(ctx, `SELECT id::text, person_id::text, reason, team_ids::text[], user_ids::text[], owner_id::text, owner, created_at
		FROM restrictions WHERE person_id = $1 AND ended_at IS NULL FOR UPDATE`, personID).
		Scan(&id, &r.PersonID, &r.Reason, &r.TeamIDs, &r.UserIDs, &owner, &r.Owner, &r.CreatedAt)
	if err == pgx.ErrNoRows {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if owner != nil {
		r.OwnerID = *owner
	}
	r.CreatedAt = r.CreatedAt.UTC()
	r.BreakGlass = []*casefile.BreakGlass{}
	return &r, id, nil
}

func notRestricted() error {
	return casefile.Errorf(casefile.ENotFound, "not_restricted", "This record is not restricted.")
}

// checkTeams refuses team ids that name no team.
func checkTeams(ctx context.Context, tx pgx.Tx, ids []string) error {
	for _, id := range ids {
		if !validUUID(id) {
			return casefile.Errorf(casefile.EUnprocessable, "unknown_team", "There is no team %q; GET /v1/teams lists them.", id)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM teams WHERE id = ANY($1::uuid[])", ids).Scan(&n); err != nil {
		return err
	}
	if n != len(ids) {
		return casefile.Errorf(casefile.EUnprocessable, "unknown_team", "A team in team_ids does not exist; GET /v1/teams lists them.")
	}
	return nil
}

// checkUsers refuses user ids that name neither a user nor a token.
func checkUsers(ctx context.Context, tx pgx.Tx, ids []string) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM unnest($1::uuid[]) AS x(id)
		WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = x.id) OR EXISTS (SELECT 1 FROM tokens k WHERE k.id = x.id)`, ids).Scan(&n); err != nil {
		return err
	}
	if n != len(ids) {
		return casefile.Errorf(casefile.EUnprocessable, "unknown_user",
			"An id in user_ids is neither a user's nor a token's; GET /v1/users and GET /v1/tokens list them.")
	}
	return nil
}

func dedupeIDs(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Restrict restricts a record or replaces its restriction.
func (db *DB) Restrict(ctx context.Context, personID string, in casefile.RestrictionInput) (*casefile.Restriction, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	in.TeamIDs, in.UserIDs = dedupeIDs(in.TeamIDs), dedupeIDs(in.UserIDs)
	for _, id := range in.UserIDs {
		if !validUUID(id) {
			return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_user_id", "user_ids holds %q, which is not a user's or token's id.", id)
		}
	}
	a := casefile.ActorFrom(ctx)
	r := &casefile.Restriction{PersonID: personID, Reason: in.Reason, TeamIDs: in.TeamIDs, UserIDs: in.UserIDs,
		Owner: a.String(), BreakGlass: []*casefile.BreakGlass{}}
	var ownerID *string
	if validUUID(a.ID) {
		ownerID, r.OwnerID = &a.ID, a.ID
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM persons WHERE id = $1 FOR UPDATE", personID); err != nil {
			return err
		}
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		if err := db.mayManage(ctx, tx, personID); err != nil {
			return err
		}
		if err := checkTeams(ctx, tx, in.TeamIDs); err != nil {
			return err
		}
		if err := checkUsers(ctx, tx, in.UserIDs); err != nil {
			return err
		}
		_, oldID, err := liveRestriction(ctx, tx, personID)
		if err != nil {
			return err
		}
		id := newID()
		if oldID != "" {
			if _, err := tx.Exec(ctx, `UPDATE restrictions SET ended_at = $2, ended_by = $3 WHERE id = $1`, oldID, db.now(), a.String()); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO restrictions (id, person_id, reason, team_ids, user_ids, owner_id, owner, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING created_at`, id, personID, in.Reason, in.TeamIDs, in.UserIDs, ownerID, r.Owner, db.now()).
			Scan(&r.CreatedAt); err != nil {
			return err
		}
		if oldID != "" {
			if _, err := tx.Exec(ctx, `UPDATE restrictions SET replaced_by = $2 WHERE id = $1`, oldID, id); err != nil {
				return err
			}
		}
		r.CreatedAt = r.CreatedAt.UTC()
		d := reasonDigest(in.Reason)
		d["team_ids"], d["user_ids"] = in.TeamIDs, in.UserIDs
		if oldID != "" {
			d["replaces"] = oldID
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "access.restrict", TargetType: "restriction", TargetID: id,
			PersonID: personID, Details: d})
	})
	if err != nil {
		return nil, db.afterRestricted(ctx, personID, err)
	}
	return r, nil
}

// LiftRestriction ends the live restriction of a record.
func (db *DB) LiftRestriction(ctx context.Context, personID, reason string) error {
	if !validUUID(personID) {
		return notFound("Person")
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		_, id, err := liveRestriction(ctx, tx, personID)
		if err != nil {
			return err
		}
		if id == "" {
			return notRestricted()
		}
		if err := db.mayManage(ctx, tx, personID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE restrictions SET ended_at = $2, ended_by = $3, end_reason = $4 WHERE id = $1`,
			id, db.now(), casefile.ActorFrom(ctx).String(), reason); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "access.lift", TargetType: "restriction", TargetID: id,
			PersonID: personID, Details: reasonDigest(reason)})
	})
	return db.afterRestricted(ctx, personID, err)
}

// Restriction returns the live restriction with the break-glass uses of the
// last 90 days. Reading it is audited (access.restriction_read).
func (db *DB) Restriction(ctx context.Context, personID string) (*casefile.Restriction, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	var r *casefile.Restriction
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		var id string
		var err error
		if r, id, err = liveRestriction(ctx, tx, personID); err != nil {
			return err
		}
		if r == nil {
			return notRestricted()
		}
		if err := db.mayManage(ctx, tx, personID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id::text, person_id::text, actor_id::text, actor, reason, opened_at, expires_at
			FROM break_glass WHERE person_id = $1 AND opened_at > $2 ORDER BY opened_at DESC, id DESC`,
			personID, db.now().Add(-90*24*casefile.BreakGlassFor))
		if err != nil {
			return err
		}
		r.BreakGlass, err = pgx.CollectRows(rows, scanBreakGlass)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "access.restriction_read", TargetType: "restriction", TargetID: id, PersonID: personID})
	})
	if err != nil {
		return nil, db.afterRestricted(ctx, personID, err)
	}
	return r, nil
}

func scanBreakGlass(row pgx.CollectableRow) (*casefile.BreakGlass, error) {
	var b casefile.BreakGlass
	if err := row.Scan(&b.ID, &b.PersonID, &b.ActorID, &b.Actor, &b.Reason, &b.OpenedAt, &b.ExpiresAt); err != nil {
		return nil, err
	}
	b.OpenedAt, b.ExpiresAt = b.OpenedAt.UTC(), b.ExpiresAt.UTC()
	return &b, nil
}

// BreakGlass opens a restricted record to the actor for an hour.
func (db *DB) BreakGlass(ctx context.Context, personID, reason string) (*casefile.BreakGlass, error) {
	if !validUUID(personID) {
		return nil, notFound("Person")
	}
	a := casefile.ActorFrom(ctx)
	if !validUUID(a.ID) {
		return nil, casefile.Errorf(casefile.EForbidden, "no_identity", "Break-glass is for a signed-in user or a token: this caller has no id to record it against.")
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	b := &casefile.BreakGlass{ID: newID(), PersonID: personID, ActorID: a.ID, Actor: a.String(), Reason: reason,
		OpenedAt: now, ExpiresAt: now.Add(casefile.BreakGlassFor)}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		_, rid, err := liveRestriction(ctx, tx, personID)
		if err != nil {
			return err
		}
		if rid == "" {
			return casefile.Errorf(casefile.EConflict, "not_restricted", "This record is not restricted: read it as usual, without break-glass.")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO break_glass (id, person_id, restriction_id, actor_id, actor, reason, opened_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, b.ID, personID, rid, a.ID, b.Actor, reason, b.OpenedAt, b.ExpiresAt); err != nil {
			return err
		}
		d := reasonDigest(reason)
		d["expires_at"] = b.ExpiresAt
		d["restriction_id"] = rid
		return db.appendAudit(ctx, tx, auditEntry{Action: "access.break_glass", TargetType: "person", TargetID: personID,
			PersonID: personID, Details: d})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// SetAdoptionTeam names the team (by name or id) that recording an adoption
// involvement restricts a record to (CASEFILE_ADOPTION_TEAM); empty: none.
func (db *DB) SetAdoptionTeam(nameOrID string) { db.adoptionTeam = strings.TrimSpace(nameOrID) }

// adoptionReason is the reason kept on a restriction the service places.
const adoptionReason = "An adoption involvement was recorded: adoption records are restricted to the adoption team (CASEFILE_ADOPTION_TEAM)."

// restrictToAdoptionTeam restricts the record to the adoption team, when one
// is configured and exists, inside the transaction recording the adoption.
// A record already restricted has the team added to its teams.
func (db *DB) restrictToAdoptionTeam(ctx context.Context, tx pgx.Tx, personID string) error {
	if db.adoptionTeam == "" {
		return nil
	}
	var teamID string
	err := tx.QueryRow(ctx, "SELECT id::text FROM teams WHERE id::text = lower($1) OR lower(name) = lower($1) ORDER BY id LIMIT 1",
		db.adoptionTeam).Scan(&teamID)
	if err == pgx.ErrNoRows {
		db.log.Warn("CASEFILE_ADOPTION_TEAM names no team: the adoption record is not restricted", "team", db.adoptionTeam, "person_id", personID)
		return nil
	}
	if err != nil {
		return err
	}
	r, oldID, err := liveRestriction(ctx, tx, personID)
	if err != nil {
		return err
	}
	if r != nil && slices.Contains(r.TeamIDs, teamID) {
		return nil
	}
	id := newID()
	reason, teams, users := adoptionReason, []string{teamID}, []string{}
	var ownerID *string
	owner := "system:adoption"
	if r != nil {
		// Keep what the restriction said, adding the team.
		reason, teams, users, owner = r.Reason, append(r.TeamIDs, teamID), r.UserIDs, r.Owner
		if r.OwnerID != "" {
			ownerID = &r.OwnerID
		}
		if _, err := tx.Exec(ctx, "UPDATE restrictions SET ended_at = $2, ended_by = 'system:adoption' WHERE id = $1", oldID, db.now()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO restrictions (id, person_id, reason, team_ids, user_ids, owner_id, owner, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, id, personID, reason, teams, users, ownerID, owner, db.now()); err != nil {
		return err
	}
	d := reasonDigest(reason)
	d["team_ids"], d["user_ids"], d["via"] = teams, users, "adoption"
	if oldID != "" {
		d["replaces"] = oldID
		if _, err := tx.Exec(ctx, "UPDATE restrictions SET replaced_by = $2 WHERE id = $1", oldID, id); err != nil {
			return err
		}
	}
	return db.appendAudit(ctx, tx, auditEntry{Action: "access.restrict", TargetType: "restriction", TargetID: id,
		PersonID: personID, Details: d})
}

// restricted reports whether the record has a live restriction (shown to
// those who may see it, so that they know to take care).
func restricted(ctx context.Context, tx pgx.Tx, personID string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM restrictions WHERE person_id = $1 AND ended_at IS NULL)", personID).Scan(&ok)
	return ok, err
}
