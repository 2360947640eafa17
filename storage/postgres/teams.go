package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/council/casefile"
)

var _ casefile.TeamService = (*DB)(nil)

// CreateTeam stores a team.
func (db *DB) CreateTeam(ctx context.Context, name string) (*casefile.Team, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, casefile.Errorf(casefile.EInvalid, "invalid_name", "A team needs a name.")
	}
	t := &casefile.Team{ID: newID(), Name: name}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "INSERT INTO teams (id, name) VALUES ($1, $2) RETURNING created_at", t.ID, t.Name).Scan(&t.CreatedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return casefile.Errorf(casefile.EConflict, "team_exists", "There is already a team called %q.", name)
		}
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "team.create", TargetType: "team", TargetID: t.ID,
			Details: map[string]string{"name": t.Name}})
	})
	if err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// Teams lists every team by name.
func (db *DB) Teams(ctx context.Context) ([]*casefile.Team, error) {
	rows, err := db.pool.Query(ctx, "SELECT id::text, name, created_at FROM teams ORDER BY lower(name), id")
	if err != nil {
		return nil, mapError(err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Team, error) {
		var t casefile.Team
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt)
		t.CreatedAt = t.CreatedAt.UTC()
		return &t, err
	})
	return ts, mapError(err)
}

// SetUserTeams replaces the user's teams.
func (db *DB) SetUserTeams(ctx context.Context, userID string, teamIDs []string) error {
	if !validUUID(userID) {
		return notFound("User")
	}
	teamIDs = dedupeIDs(teamIDs)
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkTeams(ctx, tx, teamIDs); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = $1", userID).Scan(&one); err == pgx.ErrNoRows {
			return notFound("User")
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM team_members WHERE user_id = $1 AND NOT team_id = ANY($2::uuid[])", userID, teamIDs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO team_members (team_id, user_id) SELECT t, $1 FROM unnest($2::uuid[]) AS t
			ON CONFLICT DO NOTHING`, userID, teamIDs); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "user.teams", TargetType: "user", TargetID: userID,
			Details: map[string]any{"team_ids": teamIDs}})
	})
}

// UserTeams returns the ids of the user's teams.
func (db *DB) UserTeams(ctx context.Context, userID string) ([]string, error) {
	if !validUUID(userID) {
		return []string{}, nil
	}
	rows, err := db.pool.Query(ctx, "SELECT team_id::text FROM team_members WHERE user_id = $1 ORDER BY team_id", userID)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil {
		ids = []string{}
	}
	return ids, mapError(err)
}
