package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.AuditService = (*DB)(nil)

// auditLockKey serialises appends so that every event chains onto the one
// before it. A transaction takes it only for its audit append and holds it to
// commit, so the chain's order is the commit order.
const auditLockKey = 0x61756469 // "audi"

// genesisHash is the prev_hash of the first event.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// auditEntry is what the caller of appendAudit says; the rest is filled in.
type auditEntry struct {
	Action     string
	TargetType string
	TargetID   string
	PersonID   string
	Details    any // marshalled to JSON; never content
}

// appendAudit appends one event to the chain inside tx, as the actor in ctx.
func (db *DB) appendAudit(ctx context.Context, tx pgx.Tx, e auditEntry) error {
	details := []byte("{}")
	if e.Details != nil {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit details: %w", err)
		}
		details = b
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
		return err
	}
	var seq int64
	prev := genesisHash
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && err != pgx.ErrNoRows {
		return err
	}
	ev := casefile.AuditEvent{
		Seq:        seq + 1,
		At:         db.now().UTC().Truncate(time.Microsecond),
		Actor:      casefile.ActorFrom(ctx).String(),
		Action:     e.Action,
		TargetType: e.TargetType,
		TargetID:   e.TargetID,
		PersonID:   e.PersonID,
		Details:    details,
		PrevHash:   prev,
	}
	ev.Hash = eventHash(&ev)
	var personID *string
	if ev.PersonID != "" {
		personID = &ev.PersonID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (seq, at, actor, action, target_type, target_id, person_id, details, prev_hash, hash)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		ev.Seq, ev.At, ev.Actor, ev.Action, ev.TargetType, ev.TargetID, personID, string(ev.Details), ev.PrevHash, ev.Hash)
	return err
}

// eventHash is sha256 over the event's canonical form: its fields in a fixed
// order, including the previous event's hash.
func eventHash(ev *casefile.AuditEvent) string {
	canon := struct {
		Seq        int64           `json:"seq"`
		At         string          `json:"at"`
		Actor      string          `json:"actor"`
		Action     string          `json:"action"`
		TargetType string          `json:"target_type"`
		TargetID   string          `json:"target_id"`
		PersonID   string          `json:"person_id"`
		Details    json.RawMessage `json:"details"`
		PrevHash   string          `json:"prev_hash"`
	}{ev.Seq, ev.At.UTC().Format(time.RFC3339Nano), ev.Actor, ev.Action, ev.TargetType, ev.TargetID, ev.PersonID,
		ev.Details, ev.PrevHash}
	b, _ := json.Marshal(canon) // cannot fail: all fields are plain values and valid JSON
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RecordEvent appends a stand-alone event.
func (db *DB) RecordEvent(ctx context.Context, ev *casefile.AuditEvent) error {
	var details any
	if len(ev.Details) > 0 {
		details = ev.Details
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		return db.appendAudit(ctx, tx, auditEntry{ev.Action, ev.TargetType, ev.TargetID, ev.PersonID, details})
	})
}

const auditColumns = "seq, at, actor, action, target_type, target_id, coalesce(person_id::text, ''), details, prev_hash, hash"

func scanEvent(row pgx.Row) (*casefile.AuditEvent, error) {
	var ev casefile.AuditEvent
	var details string
	if err := row.Scan(&ev.Seq, &ev.At, &ev.Actor, &ev.Action, &ev.TargetType, &ev.TargetID, &ev.PersonID,
		&details, &ev.PrevHash, &ev.Hash); err != nil {
		return nil, err
	}
	ev.At = ev.At.UTC()
	ev.Details = json.RawMessage(details)
	return &ev, nil
}

// AuditEvents lists events in sequence order; the cursor is the last seq seen.
func (db *DB) AuditEvents(ctx context.Context, f casefile.AuditFilter) ([]*casefile.AuditEvent, string, error) {
	limit := clampLimit(f.Limit)
	var after int64
	if f.Cursor != "" {
		v, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || v < 0 {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		after = v
	}
	q := "SELECT " + auditColumns + " FROM audit_events WHERE seq > $1"
	args := []any{after}
	if f.PersonID != "" {
		args = append(args, f.PersonID)
		q += fmt.Sprintf(" AND person_id = $%d", len(args))
	}
	if f.Since != nil {
		args = append(args, *f.Since)
		q += fmt.Sprintf(" AND at >= $%d", len(args))
	}
	if f.Until != nil {
		args = append(args, *f.Until)
		q += fmt.Sprintf(" AND at < $%d", len(args))
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(" ORDER BY seq LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", mapError(err)
	}
	defer rows.Close()
	var out []*casefile.AuditEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, "", mapError(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[len(out)-1].Seq, 10)
	}
	return out, next, nil
}

// VerifyAudit walks the whole chain in order, recomputing each hash and
// checking each link and that no sequence number is missing.
func (db *DB) VerifyAudit(ctx context.Context) (*casefile.AuditVerification, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+auditColumns+" FROM audit_events ORDER BY seq")
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	res := &casefile.AuditVerification{OK: true}
	prev := genesisHash
	var want int64 = 1
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, mapError(err)
		}
		res.Events++
		if !res.OK {
			continue
		}
		bad := func(problem string) {
			res.OK = false
			seq := ev.Seq
			res.FirstBadSeq = &seq
			res.Problem = problem
		}
		switch {
		case ev.Seq != want:
			bad(fmt.Sprintf("event %d is missing: the chain jumps from %d to %d", want, want-1, ev.Seq))
		case ev.PrevHash != prev:
			bad(fmt.Sprintf("event %d does not follow event %d: its prev_hash does not match", ev.Seq, ev.Seq-1))
		case eventHash(ev) != ev.Hash:
			bad(fmt.Sprintf("event %d was altered: its hash does not match its content", ev.Seq))
		}
		prev = ev.Hash
		want = ev.Seq + 1
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return res, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return casefile.DefaultPageLimit
	case n > casefile.MaxPageLimit:
		return casefile.MaxPageLimit
	}
	return n
}
