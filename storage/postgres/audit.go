package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.AuditService = (*DB)(nil)

// auditChains is how many chains the log has. A transaction locks its
// chain's row in audit_heads at its first audit append and holds it to
// commit, so a chain's order is its commit order. Transactions on different
// chains commit in parallel (and share disk flushes).
const auditChains = 8

// genesisHash is the prev_hash of the first event of each chain.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// auditEntry is what the caller of appendAudit says; the rest is filled in.
type auditEntry struct {
	Actor      string // who; empty: the actor in the context
	ActorID    string // the user's or token's id, when Actor is given
	Action     string
	TargetType string
	TargetID   string
	PersonID   string
	Details    any // marshalled to JSON; never content
}

// chainTx is a transaction that remembers the audit chain it appends to, so
// that it never holds two chains' locks (which could deadlock).
type chainTx struct {
	pgx.Tx
	chain int
	// reads, when set, collects the audit events of a read for the group
	// commit instead of appending them in this transaction (readTx).
	reads *[]auditEntry
}

// appendAudit appends one event inside tx, as the actor in ctx.
func (db *DB) appendAudit(ctx context.Context, tx pgx.Tx, e auditEntry) error {
	return db.appendAudits(ctx, tx, []auditEntry{e})
}

// appendAudits appends events in order inside tx, each as its Actor or, when
// that is empty, the actor in ctx: two round trips however many there are.
func (db *DB) appendAudits(ctx context.Context, tx pgx.Tx, entries []auditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	chain := 0
	if ct, ok := tx.(*chainTx); ok && ct.reads != nil {
		deferAudits(ctx, ct, entries)
		return nil
	} else if ok {
		if ct.chain < 0 {
			ct.chain = chainOf(entries)
		}
		chain = ct.chain
	}
	head, err := lockAuditHead(ctx, tx, chain, len(entries))
	if err != nil {
		return err
	}
	var b pgx.Batch
	if err := db.queueAuditAppend(ctx, &b, chain, head.prev, head.seqs, entries); err != nil {
		return err
	}
	return tx.SendBatch(ctx, &b).Close()
}

// lockAuditHead locks the head of the audit chain and draws n sequence
// numbers from it, in a round trip of its own.
func lockAuditHead(ctx context.Context, q batchSender, chain, n int) (*auditHead, error) {
	var b pgx.Batch
	queueAuditHead(&b, chain, n)
	br := q.SendBatch(ctx, &b)
	prev, seqs, err := readAuditHead(br, chain)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return &auditHead{prev, seqs}, nil
}

// chainOf is the chain a transaction's events go to, chosen by its first
// event so that unrelated transactions spread over the chains.
func chainOf(entries []auditEntry) int {
	h := fnv.New32a()
	h.Write([]byte(entries[0].TargetID + entries[0].Action))
	return int(h.Sum32() % auditChains)
}

// queueAuditHead queues the lock of the chain's head, then the drawing of n
// sequence numbers: in that order (the statements run one after the other),
// so that sequence numbers rise along each chain.
func queueAuditHead(b *pgx.Batch, chain, n int) {
	b.Queue("SELECT hash FROM audit_heads WHERE chain = $1 FOR UPDATE", chain)
	b.Queue("SELECT nextval('audit_events_seq') FROM generate_series(1, $1)", n)
}

// readAuditHead reads what queueAuditHead queued: the chain's last hash and
// the sequence numbers, in order.
func readAuditHead(br pgx.BatchResults, chain int) (string, []int64, error) {
	var prev string
	err := br.QueryRow().Scan(&prev)
	if err == pgx.ErrNoRows {
		err = fmt.Errorf("audit chain %d has no head row (migration 0012 creates them)", chain)
	}
	if err != nil {
		return "", nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return "", nil, err
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	slices.Sort(seqs)
	return prev, seqs, err
}

// queueAuditAppend queues the events, chained from prev and numbered seqs,
// as one INSERT, and the move of the chain's head to the last of them.
func (db *DB) queueAuditAppend(ctx context.Context, b *pgx.Batch, chain int, prev string, seqs []int64, entries []auditEntry) error {
	if len(seqs) != len(entries) {
		return fmt.Errorf("audit: %d sequence numbers for %d events", len(seqs), len(entries))
	}
	at := db.now().UTC().Truncate(time.Microsecond)
	n := len(entries)
	var (
		ats                                                       = make([]time.Time, n)
		actors, actorIDs, actions, types, targets, details, prevs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hashes                                                    = make([]string, n)
		persons                                                   = make([]*string, n)
		chains                                                    = make([]int16, n)
	)
	var ev casefile.AuditEvent
	for i, e := range entries {
		d := []byte("{}")
		if e.Details != nil {
			var err error
			if d, err = json.Marshal(e.Details); err != nil {
				return fmt.Errorf("audit details: %w", err)
			}
		}
		actor, actorID := e.Actor, e.ActorID
		if actor == "" {
			a := casefile.ActorFrom(ctx)
			actor, actorID = a.String(), a.ID
		}
		ev = casefile.AuditEvent{Seq: seqs[i], At: at, Actor: actor, ActorID: actorID, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, PersonID: e.PersonID, Details: d, PrevHash: prev}
		ev.Hash = eventHash(&ev, chain)
		prev = ev.Hash
		ats[i], actors[i], actorIDs[i], actions[i], types[i], targets[i] = at, actor, actorID, e.Action, e.TargetType, e.TargetID
		details[i], prevs[i], hashes[i], chains[i] = string(d), ev.PrevHash, ev.Hash, int16(chain)
		if pid := e.PersonID; pid != "" {
			persons[i] = &pid
		}
	}
	b.Queue(`INSERT INTO audit_events (seq, at, actor, actor_id, action, target_type, target_id, person_id, details, prev_hash, hash, chain)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[],
			$9::text[], $10::text[], $11::text[], $12::smallint[])`,
		seqs, ats, actors, actorIDs, actions, types, targets, persons, details, prevs, hashes, chains)
	b.Queue("UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain = $1", chain, ev.Seq, ev.Hash)
	return nil
}

// eventHash is sha256 over the event's canonical form: its fields in a fixed
// order, including the previous event's hash and (for chains other than the
// first) its chain. The actor's id is included when the event has one: events
// recorded before ids were kept have none and hash as they did then, while an
// id added to, removed from or changed in a later event breaks its hash.
func eventHash(ev *casefile.AuditEvent, chain int) string {
	canon := struct {
		Seq        int64           `json:"seq"`
		At         string          `json:"at"`
		Actor      string          `json:"actor"`
		ActorID    string          `json:"actor_id,omitempty"`
		Action     string          `json:"action"`
		TargetType string          `json:"target_type"`
		TargetID   string          `json:"target_id"`
		PersonID   string          `json:"person_id"`
		Details    json.RawMessage `json:"details"`
		PrevHash   string          `json:"prev_hash"`
		Chain      int             `json:"chain,omitempty"`
	}{ev.Seq, ev.At.UTC().Format(time.RFC3339Nano), ev.Actor, ev.ActorID, ev.Action, ev.TargetType, ev.TargetID, ev.PersonID,
		ev.Details, ev.PrevHash, chain}
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
		return db.appendAudit(ctx, tx, auditEntry{Action: ev.Action, TargetType: ev.TargetType, TargetID: ev.TargetID, PersonID: ev.PersonID, Details: details})
	})
}

const auditColumns = "seq, at, actor, actor_id, action, target_type, target_id, coalesce(person_id::text, ''), details, prev_hash, hash, chain"

func scanEvent(row pgx.Row) (*casefile.AuditEvent, int, error) {
	var ev casefile.AuditEvent
	var details string
	var chain int
	if err := row.Scan(&ev.Seq, &ev.At, &ev.Actor, &ev.ActorID, &ev.Action, &ev.TargetType, &ev.TargetID, &ev.PersonID,
		&details, &ev.PrevHash, &ev.Hash, &chain); err != nil {
		return nil, 0, err
	}
	ev.At = ev.At.UTC()
	ev.Details = json.RawMessage(details)
	return &ev, chain, nil
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
	if f.Newest {
		q = "SELECT " + auditColumns + " FROM audit_events WHERE seq < $1"
		if f.Cursor == "" {
			after = math.MaxInt64
		}
	}
	args := []any{after}
	if f.PersonID != "" {
		args = append(args, f.PersonID)
		q += fmt.Sprintf(" AND person_id = $%d", len(args))
	}
	if family, ok := strings.CutSuffix(f.Action, ".*"); ok {
		args = append(args, strings.ReplaceAll(family, "_", `\_`)+".%")
		q += fmt.Sprintf(" AND action LIKE $%d", len(args))
	} else if f.Action != "" {
		args = append(args, f.Action)
		q += fmt.Sprintf(" AND action = $%d", len(args))
	}
	if f.TargetID != "" {
		args = append(args, f.TargetID)
		q += fmt.Sprintf(" AND target_id = $%d", len(args))
	}
	if f.Actor != "" {
		args = append(args, f.Actor)
		q += fmt.Sprintf(" AND (actor = $%d OR actor_id = $%[1]d)", len(args))
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
	order := "seq"
	if f.Newest {
		order = "seq DESC"
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT $%d", order, len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", mapError(err)
	}
	defer rows.Close()
	var out []*casefile.AuditEvent
	for rows.Next() {
		ev, _, err := scanEvent(rows)
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

// VerifyAudit walks the whole log in order, recomputing each event's hash,
// checking each link within its chain, and that each chain ends at the head
// recorded for it (so that deleting a chain's newest events is seen too).
func (db *DB) VerifyAudit(ctx context.Context) (*casefile.AuditVerification, error) {
	heads, err := db.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, "SELECT "+auditColumns+" FROM audit_events ORDER BY seq")
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	res := &casefile.AuditVerification{OK: true}
	prev := map[int]string{}
	last := map[int]int64{}
	for rows.Next() {
		ev, chain, err := scanEvent(rows)
		if err != nil {
			return nil, mapError(err)
		}
		res.Events++
		p, ok := prev[chain]
		if !ok {
			p = genesisHash
		}
		switch {
		case ev.PrevHash != p:
			res.Fail(ev.Seq, fmt.Sprintf("event %d does not follow the event before it in its chain: an event was removed or moved", ev.Seq))
		case eventHash(ev, chain) != ev.Hash:
			res.Fail(ev.Seq, fmt.Sprintf("event %d was altered: its hash does not match its content", ev.Seq))
		}
		prev[chain], last[chain] = ev.Hash, ev.Seq
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	for _, h := range heads {
		if h.Seq == 0 && last[h.Chain] == 0 {
			continue // a chain nothing was appended to yet
		}
		if last[h.Chain] != h.Seq || prev[h.Chain] != h.Hash {
			res.Fail(h.Seq, fmt.Sprintf("event %d, the newest of chain %d, is missing or altered", h.Seq, h.Chain))
		}
	}
	return res, nil
}

// limitClause is " LIMIT n", written into the statement rather than passed
// as a parameter: PostgreSQL cannot cost a parameter's LIMIT, so it would
// plan a prepared list statement anew on every run (a custom plan, much
// cheaper on paper than the generic one) instead of reusing its plan. There
// are at most MaxPageLimit+1 such statements per query in the cache.
func limitClause(n int) string { return " LIMIT " + strconv.Itoa(n) }

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return casefile.DefaultPageLimit
	case n > casefile.MaxPageLimit:
		return casefile.MaxPageLimit
	}
	return n
}

// AuditHeads returns each chain's newest event, in chain order.
func (db *DB) AuditHeads(ctx context.Context) ([]casefile.AuditHead, error) {
	rows, err := db.pool.Query(ctx, "SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
	if err != nil {
		return nil, mapError(err)
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.AuditHead, error) {
		var h casefile.AuditHead
		return h, r.Scan(&h.Chain, &h.Seq, &h.Hash)
	})
	return heads, mapError(err)
}

// AuditEventHashes returns the chain and hash of each of the events seqs
// that exists; missing ones are left out.
func (db *DB) AuditEventHashes(ctx context.Context, seqs []int64) (map[int64]casefile.AuditHead, error) {
	out := make(map[int64]casefile.AuditHead, len(seqs))
	const batch = 10000
	for len(seqs) > 0 {
		n := min(batch, len(seqs))
		rows, err := db.pool.Query(ctx, "SELECT seq, chain, hash FROM audit_events WHERE seq = ANY($1)", seqs[:n])
		if err != nil {
			return nil, mapError(err)
		}
		heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.AuditHead, error) {
			var h casefile.AuditHead
			return h, r.Scan(&h.Seq, &h.Chain, &h.Hash)
		})
		if err != nil {
			return nil, mapError(err)
		}
		for _, h := range heads {
			out[h.Seq] = h
		}
		seqs = seqs[n:]
	}
	return out, nil
}
