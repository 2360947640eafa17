package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var (
	_ casefile.UserService    = (*DB)(nil)
	_ casefile.SessionService = (*DB)(nil)
)

const userColumns = "id, issuer, subject, name, email, role, disabled, created_at, last_seen_at"

func scanUser(row pgx.Row) (*casefile.User, error) {
	var u casefile.User
	var role string
	if err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Name, &u.Email, &role, &u.Disabled, &u.CreatedAt, &u.LastSeenAt); err != nil {
		return nil, err
	}
	u.Role = casefile.Role(role)
	u.CreatedAt, u.LastSeenAt = u.CreatedAt.UTC(), u.LastSeenAt.UTC()
	return &u, nil
}

// SignInUser finds or makes the user the identity provider vouches for.
func (db *DB) SignInUser(ctx context.Context, s casefile.SignIn) (*casefile.User, error) {
	if s.Issuer == "" || s.Subject == "" {
		return nil, casefile.Errorf(casefile.EInvalid, "invalid_identity", "The identity provider named no issuer or subject.")
	}
	if s.Role != nil && !casefile.ValidRole(*s.Role) {
		return nil, casefile.Errorf(casefile.EInvalid, "invalid_role", "Unknown role %q.", *s.Role)
	}
	role, setRole := "", s.Role != nil
	if setRole {
		role = string(*s.Role)
	}
	var u *casefile.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var prevRole string
		err := tx.QueryRow(ctx, "SELECT role FROM users WHERE issuer = $1 AND subject = $2 FOR UPDATE", s.Issuer, s.Subject).Scan(&prevRole)
		created := err == pgx.ErrNoRows
		if err != nil && !created {
			return err
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users (id, issuer, subject, name, email, role, created_at, last_seen_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7)
			ON CONFLICT (issuer, subject) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
				role = CASE WHEN $8 THEN EXCLUDED.role ELSE users.role END, last_seen_at = EXCLUDED.last_seen_at
			RETURNING `+userColumns, newID(), s.Issuer, s.Subject, strings.TrimSpace(s.Name), strings.TrimSpace(s.Email), role, now, setRole))
		if err != nil {
			return err
		}
		var entries []auditEntry
		if created {
			entries = append(entries, auditEntry{Action: "user.create", Details: map[string]string{
				"issuer": u.Issuer, "subject": u.Subject, "role": string(u.Role)}})
		} else if prevRole != string(u.Role) {
			entries = append(entries, auditEntry{Action: "user.role", Details: map[string]string{
				"from": prevRole, "to": string(u.Role), "by": "identity provider claim"}})
		}
		entries = append(entries, auditEntry{Action: "user.sign_in"})
		for i := range entries {
			entries[i].Actor, entries[i].ActorID = userActorName(u), u.ID
			entries[i].TargetType, entries[i].TargetID = "user", u.ID
		}
		return db.appendAudits(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// userActorName is how a user is named in the audit log.
func userActorName(u *casefile.User) string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	}
	return u.Subject
}

// User returns one user.
func (db *DB) User(ctx context.Context, id string) (*casefile.User, error) {
	if uuid.Validate(id) != nil {
		return nil, notFound("User")
	}
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, notFound("User")
	}
	return u, mapError(err)
}

// Users lists users in the order they were made; the cursor is the last id.
func (db *DB) Users(ctx context.Context, page casefile.Page) ([]*casefile.User, string, error) {
	limit := clampLimit(page.Limit)
	after := "00000000-0000-0000-0000-000000000000"
	if page.Cursor != "" {
		if uuid.Validate(page.Cursor) != nil {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		after = page.Cursor
	}
	rows, err := db.pool.Query(ctx, "SELECT "+userColumns+" FROM users WHERE id > $1 ORDER BY id LIMIT $2", after, limit+1)
	if err != nil {
		return nil, "", mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.User, error) { return scanUser(r) })
	if err != nil {
		return nil, "", mapError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// UpdateUser changes a user's role or disabled flag; disabling ends the
// user's sessions in the same transaction.
func (db *DB) UpdateUser(ctx context.Context, id string, upd casefile.UserUpdate) (*casefile.User, error) {
	if upd.Role != nil && *upd.Role != "" && !casefile.ValidRole(*upd.Role) {
		return nil, casefile.Errorf(casefile.EUnprocessable, "invalid_role",
			"Unknown role %q; use one of practitioner, manager, ict, records_officer, auditor, admin (or \"\" for none).", *upd.Role)
	}
	if uuid.Validate(id) != nil {
		return nil, notFound("User")
	}
	var u *casefile.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1 FOR UPDATE", id))
		if err == pgx.ErrNoRows {
			return notFound("User")
		}
		if err != nil {
			return err
		}
		u = before
		details := map[string]any{}
		if upd.Role != nil && *upd.Role != before.Role {
			details["role"] = map[string]string{"from": string(before.Role), "to": string(*upd.Role)}
			u.Role = *upd.Role
		}
		if upd.Disabled != nil && *upd.Disabled != before.Disabled {
			details["disabled"] = *upd.Disabled
			u.Disabled = *upd.Disabled
		}
		if len(details) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET role = $2, disabled = $3 WHERE id = $1", id, string(u.Role), u.Disabled); err != nil {
			return err
		}
		if u.Disabled {
			if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id); err != nil {
				return err
			}
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "user.update", TargetType: "user", TargetID: id, Details: details})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// sessionPrefix marks session secrets (the cookie's value).
const sessionPrefix = "cfs_"

// CreateSession stores a session and returns the cookie's secret. Sessions
// and sign-ins that ended over a day ago are cleared out on the way.
func (db *DB) CreateSession(ctx context.Context, s *casefile.Session) (string, error) {
	if (s.UserID == "") == (s.TokenID == "") {
		return "", casefile.Errorf(casefile.EInternal, "internal", "a session belongs to a user or a token")
	}
	secret, err := randomSecret(sessionPrefix)
	if err != nil {
		return "", err
	}
	if s.CSRFToken, err = randomSecret(""); err != nil {
		return "", err
	}
	s.ID = newID()
	s.CreatedAt = s.CreatedAt.UTC().Truncate(time.Microsecond)
	s.LastSeenAt, s.ExpiresAt = s.CreatedAt, s.ExpiresAt.UTC().Truncate(time.Microsecond)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue("DELETE FROM sessions WHERE expires_at < $1", s.CreatedAt.Add(-24*time.Hour))
		b.Queue("DELETE FROM login_requests WHERE expires_at < $1", s.CreatedAt.Add(-24*time.Hour))
		b.Queue(`INSERT INTO sessions (id, secret_hash, user_id, token_id, csrf_token, created_at, last_seen_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$6,$7)`, s.ID, hashSecret(secret), nullIfEmpty(s.UserID), nullIfEmpty(s.TokenID),
			s.CSRFToken, s.CreatedAt, s.ExpiresAt)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "session.start", TargetType: "session", TargetID: s.ID,
			Details: map[string]string{"expires_at": s.ExpiresAt.Format(time.RFC3339)}})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SessionBySecret finds the session whose cookie holds secret.
func (db *DB) SessionBySecret(ctx context.Context, secret string) (*casefile.Session, error) {
	if !strings.HasPrefix(secret, sessionPrefix) {
		return nil, notFound("Session")
	}
	var s casefile.Session
	var userID, tokenID *string
	err := db.pool.QueryRow(ctx, `SELECT id, user_id::text, token_id::text, csrf_token, created_at, last_seen_at, expires_at
		FROM sessions WHERE secret_hash = $1`, hashSecret(secret)).
		Scan(&s.ID, &userID, &tokenID, &s.CSRFToken, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if err == pgx.ErrNoRows {
		return nil, notFound("Session")
	}
	if err != nil {
		return nil, mapError(err)
	}
	if userID != nil {
		s.UserID = *userID
	}
	if tokenID != nil {
		s.TokenID = *tokenID
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// TouchSession records activity on a session.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.pool.Exec(ctx, "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2", id, at)
	return mapError(err)
}

// EndSession removes a session, audited with the reason.
func (db *DB) EndSession(ctx context.Context, id, reason string) error {
	if uuid.Validate(id) != nil {
		return nil
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = $1", id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "session.end", TargetType: "session", TargetID: id,
			Details: map[string]string{"reason": reason}})
	})
}

// SaveLoginRequest keeps a sign-in under way.
func (db *DB) SaveLoginRequest(ctx context.Context, lr *casefile.LoginRequest) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO login_requests (state_hash, browser_hash, nonce, code_verifier, next_path, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6)`, lr.StateHash, lr.BrowserHash, lr.Nonce, lr.CodeVerifier, lr.Next, lr.ExpiresAt)
	return mapError(err)
}

// TakeLoginRequest removes and returns the sign-in under way with the state.
func (db *DB) TakeLoginRequest(ctx context.Context, stateHash []byte) (*casefile.LoginRequest, error) {
	var lr casefile.LoginRequest
	err := db.pool.QueryRow(ctx, `DELETE FROM login_requests WHERE state_hash = $1
		RETURNING state_hash, browser_hash, nonce, code_verifier, next_path, expires_at`, stateHash).
		Scan(&lr.StateHash, &lr.BrowserHash, &lr.Nonce, &lr.CodeVerifier, &lr.Next, &lr.ExpiresAt)
	if err == pgx.ErrNoRows {
		return nil, notFound("Sign-in")
	}
	if err != nil {
		return nil, mapError(err)
	}
	if !db.now().Before(lr.ExpiresAt) {
		return nil, notFound("Sign-in")
	}
	return &lr, nil
}
