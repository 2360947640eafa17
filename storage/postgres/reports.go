package postgres

import (
	"cmp"
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// The compliance reports' queries (package reports holds what they mean).
// They read staff names, ids, dates and counts, never a person's record, so
// they are not audited here: the report as a whole is, as report.read.

var _ casefile.ReportStore = (*DB)(nil)

// teamIDs is the scope's teams for a uuid[] parameter (never nil).
func teamIDs(s casefile.ReportScope) []string {
	ids := []string{}
	for _, id := range s.TeamIDs {
		if validUUID(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// LateNotes counts per team (at the time of writing) and author.
func (db *DB) LateNotes(ctx context.Context, r casefile.ReportRange, s casefile.ReportScope, lateAfter time.Duration) (
	[]casefile.LateNotesRow, int, int, error) {
	const where = `NOT n.imported AND n.type <> 'correction' AND n.recorded_at >= $1 AND n.recorded_at < $2`
	rows, err := db.pool.Query(ctx, `
		SELECT coalesce(t.id::text, ''), coalesce(t.name, ''), n.author_id, n.author, count(*),
		       count(*) FILTER (WHERE n.recorded_at - n.occurred_at > $3)
		  FROM notes n
		  LEFT JOIN LATERAL unnest(CASE WHEN cardinality(n.author_team_ids) = 0 THEN ARRAY[NULL::uuid] ELSE n.author_team_ids END) AS tid(id) ON true
		  LEFT JOIN teams t ON t.id = tid.id
		 WHERE `+where+` AND ($4 OR tid.id = ANY($5::uuid[]))
		 GROUP BY 1, 2, 3, 4
		 ORDER BY coalesce(t.name, '') = '', 2, 1, 4, 3`, r.From, r.To, lateAfter, s.All, teamIDs(s))
	if err != nil {
		return nil, 0, 0, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.LateNotesRow, error) {
		var x casefile.LateNotesRow
		err := row.Scan(&x.TeamID, &x.Team, &x.AuthorID, &x.Author, &x.Notes, &x.Late)
		return x, err
	})
	if err != nil {
		return nil, 0, 0, mapError(err)
	}
	var notes, late int
	err = db.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE n.recorded_at - n.occurred_at > $3)
		  FROM notes n WHERE `+where+` AND ($4 OR n.author_team_ids && $5::uuid[])`,
		r.From, r.To, lateAfter, s.All, teamIDs(s)).Scan(&notes, &late)
	return out, notes, late, mapError(err)
}

// eventTeams unnests an event's details.team_ids, one row of NULL for none.
const eventTeams = `LEFT JOIN LATERAL (SELECT x::uuid FROM jsonb_array_elements_text(
		CASE WHEN jsonb_typeof(e.details::jsonb -> 'team_ids') = 'array' AND jsonb_array_length(e.details::jsonb -> 'team_ids') > 0
		     THEN e.details::jsonb -> 'team_ids' ELSE '[null]'::jsonb END) AS x) AS tid(id) ON true
	LEFT JOIN teams t ON t.id = tid.id`

// PastedEmailRefusals counts per ISO week (in the range's zone), team (at the time) and author.
func (db *DB) PastedEmailRefusals(ctx context.Context, r casefile.ReportRange, s casefile.ReportScope) ([]casefile.RefusalsRow, int, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT to_char(e.at AT TIME ZONE $5, 'IYYY-"W"IW'), date_trunc('week', e.at AT TIME ZONE $5)::date,
		       coalesce(t.id::text, ''), coalesce(t.name, ''), e.actor_id, e.actor, count(*)
		  FROM audit_events e `+eventTeams+`
		 WHERE e.action = 'note.refused_pasted_email' AND e.at >= $1 AND e.at < $2 AND ($3 OR tid.id = ANY($4::uuid[]))
		 GROUP BY 1, 2, 3, 4, 5, 6
		 ORDER BY 2, coalesce(t.name, '') = '', 4, 3, 6, 5`, r.From, r.To, s.All, teamIDs(s), cmp.Or(r.Zone, "UTC"))
	if err != nil {
		return nil, 0, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.RefusalsRow, error) {
		var x casefile.RefusalsRow
		var start time.Time
		err := row.Scan(&x.Week, &start, &x.TeamID, &x.Team, &x.AuthorID, &x.Author, &x.Refusals)
		x.WeekStart = casefile.DateOf(start)
		return x, err
	})
	if err != nil {
		return nil, 0, mapError(err)
	}
	var total int
	err = db.pool.QueryRow(ctx, `SELECT count(DISTINCT e.seq) FROM audit_events e `+eventTeams+`
		 WHERE e.action = 'note.refused_pasted_email' AND e.at >= $1 AND e.at < $2 AND ($3 OR tid.id = ANY($4::uuid[]))`,
		r.From, r.To, s.All, teamIDs(s)).Scan(&total)
	return out, total, mapError(err)
}

// TicketFacts returns the tickets outstanding now and those raised, done or
// rejected in r. A manager's scope: tickets raised by their teams' members.
func (db *DB) TicketFacts(ctx context.Context, r casefile.ReportRange, s casefile.ReportScope) ([]casefile.TicketFact, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT kind, state, raised_at, completed_at, decided_at FROM tickets
		 WHERE (state IN ('open','approved','failed')
		        OR (raised_at >= $1 AND raised_at < $2)
		        OR (state = 'done' AND completed_at >= $1 AND completed_at < $2)
		        OR (state = 'rejected' AND decided_at >= $1 AND decided_at < $2))
		   AND ($3 OR raised_by_id IN (SELECT m.user_id::text FROM team_members m WHERE m.team_id = ANY($4::uuid[])))`,
		r.From, r.To, s.All, teamIDs(s))
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.TicketFact, error) {
		var f casefile.TicketFact
		err := row.Scan(&f.Kind, &f.State, &f.RaisedAt, &f.CompletedAt, &f.DecidedAt)
		return f, err
	})
	return out, mapError(err)
}

// DisposalsDue counts active records by class and disposal date.
func (db *DB) DisposalsDue(ctx context.Context, asOf casefile.Date) ([]casefile.DisposalsDueRow, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT pr.record_class,
		       count(*) FILTER (WHERE pr.disposal_due_on <= $1),
		       count(*) FILTER (WHERE pr.disposal_due_on > $1 AND pr.disposal_due_on <= $1::date + 30),
		       count(*) FILTER (WHERE pr.disposal_due_on > $1 AND pr.disposal_due_on <= $1::date + 90),
		       count(*) FILTER (WHERE pr.disposal_due_on > $1),
		       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL
		           AND (h.all_records OR EXISTS (SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = pr.person_id))))
		  FROM person_retention pr JOIN persons p ON p.id = pr.person_id AND p.status = 'active'
		 WHERE pr.disposal_due_on IS NOT NULL AND pr.disposal_due_on <= $1::date + 365
		 GROUP BY 1 ORDER BY 1`, asOf.Time())
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.DisposalsDueRow, error) {
		var x casefile.DisposalsDueRow
		err := row.Scan(&x.RecordClass, &x.Overdue, &x.In30, &x.In90, &x.In365, &x.Held)
		return x, err
	})
	return out, mapError(err)
}

// HoldCoverage lists the holds that stood at any time in r, oldest first.
func (db *DB) HoldCoverage(ctx context.Context, r casefile.ReportRange) ([]casefile.HoldRow, error) {
	rows, err := db.pool.Query(ctx, `
		WITH covered AS (
		    SELECT h.id AS hold_id, p.id AS person_id FROM holds h JOIN persons p ON p.status = 'active'
		     WHERE h.all_records AND h.created_at < $2 AND (h.released_at IS NULL OR h.released_at >= $1)
		    UNION
		    SELECT hp.hold_id, hp.person_id FROM hold_persons hp JOIN holds h ON h.id = hp.hold_id
		      JOIN persons p ON p.id = hp.person_id AND p.status = 'active'
		     WHERE h.created_at < $2 AND (h.released_at IS NULL OR h.released_at >= $1))
		SELECT h.id::text, h.name, h.created_by, h.created_at, h.released_at, h.all_records,
		       (SELECT count(*) FROM covered c WHERE c.hold_id = h.id),
		       (SELECT count(*) FROM covered c JOIN notes n ON n.person_id = c.person_id AND n.status = 'active' WHERE c.hold_id = h.id),
		       (SELECT count(*) FROM covered c JOIN documents d ON d.person_id = c.person_id AND d.status = 'active' WHERE c.hold_id = h.id)
		  FROM holds h
		 WHERE h.created_at < $2 AND (h.released_at IS NULL OR h.released_at >= $1)
		 ORDER BY h.created_at, h.id`, r.From, r.To)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.HoldRow, error) {
		var x casefile.HoldRow
		err := row.Scan(&x.ID, &x.Name, &x.PlacedBy, &x.PlacedAt, &x.ReleasedAt, &x.AllRecords, &x.Persons, &x.Notes, &x.Documents)
		return x, err
	})
	return out, mapError(err)
}

// restrictedReadActions: the audit actions that read a person's record, by
// their verb. A read of a restricted record is one of these on a record
// that had a live restriction at the time (restrictions keep their history).
const restrictedReadActions = `(e.action LIKE '%.read' OR e.action LIKE '%.list' OR e.action LIKE '%.download')`

// AccessUses counts break-glass uses and reads of restricted records per
// actor, within the teams the actor is in now.
func (db *DB) AccessUses(ctx context.Context, r casefile.ReportRange, s casefile.ReportScope) ([]casefile.AccessRow, int, int, error) {
	const uses = `
		WITH uses AS (
		    SELECT e.seq, e.actor_id, e.actor, e.person_id, true AS glass FROM audit_events e
		     WHERE e.action = 'access.break_glass' AND e.at >= $1 AND e.at < $2
		    UNION
		    -- From the restrictions (few) to their records' events while each stood.
		    SELECT e.seq, e.actor_id, e.actor, e.person_id, false FROM restrictions x
		      JOIN audit_events e ON e.person_id = x.person_id AND e.at >= x.created_at AND (x.ended_at IS NULL OR e.at < x.ended_at)
		     WHERE e.at >= $1 AND e.at < $2 AND ` + restrictedReadActions + `),
		scoped AS (
		    SELECT u.*, tm.team_id FROM uses u
		      LEFT JOIN team_members tm ON u.actor_id <> '' AND tm.user_id::text = u.actor_id
		     WHERE $3 OR tm.team_id = ANY($4::uuid[]))`
	rows, err := db.pool.Query(ctx, uses+`
		SELECT coalesce(t.id::text, ''), coalesce(t.name, ''), s.actor_id, s.actor,
		       count(*) FILTER (WHERE s.glass), count(*) FILTER (WHERE NOT s.glass), count(DISTINCT s.person_id)
		  FROM scoped s LEFT JOIN teams t ON t.id = s.team_id
		 GROUP BY 1, 2, 3, 4 ORDER BY coalesce(t.name, '') = '', 2, 1, 4, 3`, r.From, r.To, s.All, teamIDs(s))
	if err != nil {
		return nil, 0, 0, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.AccessRow, error) {
		var x casefile.AccessRow
		err := row.Scan(&x.TeamID, &x.Team, &x.ActorID, &x.Actor, &x.BreakGlass, &x.RestrictedReads, &x.Records)
		return x, err
	})
	if err != nil {
		return nil, 0, 0, mapError(err)
	}
	var glass, reads int
	err = db.pool.QueryRow(ctx, uses+`
		SELECT count(DISTINCT seq) FILTER (WHERE glass), count(DISTINCT seq) FILTER (WHERE NOT glass) FROM scoped`,
		r.From, r.To, s.All, teamIDs(s)).Scan(&glass, &reads)
	return out, glass, reads, mapError(err)
}

const auditCheckColumns = "kind, at, actor, ok, events, first_bad_seq, problem, anchored_at, anchors, anchor_key"

func scanAuditCheck(row pgx.Row) (*casefile.AuditCheck, error) {
	var c casefile.AuditCheck
	err := row.Scan(&c.Kind, &c.At, &c.Actor, &c.OK, &c.Events, &c.FirstBadSeq, &c.Problem, &c.AnchoredAt, &c.Anchors, &c.AnchorKey)
	c.At = c.At.UTC()
	return &c, err
}

// AuditChecks lists the checks of r, newest first, and the latest of each kind.
func (db *DB) AuditChecks(ctx context.Context, r casefile.ReportRange) (*casefile.AuditChecks, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+auditCheckColumns+` FROM audit_checks WHERE at >= $1 AND at < $2 ORDER BY at DESC, id DESC`,
		r.From, r.To)
	if err != nil {
		return nil, mapError(err)
	}
	checks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (casefile.AuditCheck, error) {
		c, err := scanAuditCheck(row)
		if err != nil {
			return casefile.AuditCheck{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, mapError(err)
	}
	out := &casefile.AuditChecks{Checks: checks}
	for _, k := range []string{"verify", "anchor"} {
		c, err := scanAuditCheck(db.pool.QueryRow(ctx, "SELECT "+auditCheckColumns+` FROM audit_checks WHERE kind = $1 ORDER BY at DESC, id DESC LIMIT 1`, k))
		if err == pgx.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, mapError(err)
		}
		if k == "verify" {
			out.LastVerify = c
		} else {
			out.LastAnchor = c
		}
	}
	return out, nil
}

// RecordAuditCheck keeps one verification or anchor; At is now when unset,
// Actor the actor in ctx when unset.
func (db *DB) RecordAuditCheck(ctx context.Context, c *casefile.AuditCheck) error {
	if c.At.IsZero() {
		c.At = db.now().UTC()
	}
	if c.Actor == "" {
		c.Actor = casefile.ActorFrom(ctx).String()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO audit_checks (`+auditCheckColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		c.Kind, c.At, c.Actor, c.OK, c.Events, c.FirstBadSeq, c.Problem, c.AnchoredAt, c.Anchors, c.AnchorKey)
	return mapError(err)
}

// RecordPastedEmailRefusal appends note.refused_pasted_email on the person
// (personID, or the person of noteID when personID is empty): who was
// refused (their id and teams) and in which field, never the text. A person
// or note that does not exist records nothing.
func (db *DB) RecordPastedEmailRefusal(ctx context.Context, personID, noteID, field, rule string) error {
	a := casefile.ActorFrom(ctx)
	teams := a.Teams
	if teams == nil {
		teams = []string{}
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var pid string
		var err error
		switch {
		case personID != "" && validUUID(personID):
			err = tx.QueryRow(ctx, "SELECT id::text FROM persons WHERE id = $1", personID).Scan(&pid)
		case noteID != "" && validUUID(noteID):
			err = tx.QueryRow(ctx, "SELECT person_id::text FROM notes WHERE id = $1", noteID).Scan(&pid)
		default:
			return nil
		}
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		details := map[string]any{"author_id": a.ID, "team_ids": teams, "field": field, "rule": rule}
		if noteID != "" {
			details["note_id"] = noteID
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "note.refused_pasted_email", TargetType: "person", TargetID: pid,
			PersonID: pid, Details: details})
	})
}
