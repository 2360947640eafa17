package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// importLockKey serialises legacy imports, so that two runs of the same file
// cannot both decide that a row is new.
const importLockKey = 0x6e696d70 // "nimp"

// ImportNotes checks every row against the database first and reports every
// problem by line; only a file without problems is stored, in one transaction.
func (db *DB) ImportNotes(ctx context.Context, rows []*casefile.NoteImport) (*casefile.NoteImportResult, error) {
	res := &casefile.NoteImportResult{NoteIDs: map[int]string{}}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", importLockKey); err != nil {
			return err
		}
		plan, err := planImport(ctx, tx, rows)
		if err != nil {
			return err
		}
		res.Problems = plan.problems
		if len(res.Problems) > 0 {
			return nil // nothing is written; the transaction holds only the lock
		}
		for _, r := range rows {
			if id, ok := plan.existing[r.LegacyID]; ok {
				res.NoteIDs[r.Line] = id
				res.AlreadyImported++
			}
		}
		for _, r := range plan.order {
			id := plan.newIDs[r.LegacyID]
			personID := plan.persons[r.PersonRef]
			var corrects, reason *string
			if r.CorrectsLegacyID != "" {
				target := plan.target(r.CorrectsLegacyID)
				corrects, reason = &target, &r.CorrectionReason
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notes (id, person_id, type, occurred_at, recorded_at, author, corrects_note_id,
				correction_reason, imported, legacy_ref) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,true,$9)`,
				id, personID, r.Type, r.OccurredAt, r.RecordedAt, r.Author, corrects, reason, r.LegacyID); err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO note_versions (note_id, version, body, body_sha256, created_at, created_by)
				VALUES ($1, 1, $2, $3, $4, $5)`, id, r.Body, bodyHash(r.Body), r.RecordedAt, r.Author); err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			details := map[string]any{"imported": true, "legacy_id": r.LegacyID, "type": r.Type,
				"recorded_at": r.RecordedAt, "body_sha256": bodyHash(r.Body)}
			if corrects != nil {
				details["corrects_note_id"] = *corrects
			}
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "note.create", TargetType: "note", TargetID: id,
				PersonID: personID, Details: details}); err != nil {
				return err
			}
			res.NoteIDs[r.Line] = id
			res.Imported++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(res.Problems) > 0 {
		res.Imported, res.AlreadyImported, res.NoteIDs = 0, 0, map[int]string{}
	}
	return res, nil
}

// importPlan is what an import will do, worked out before anything is written.
type importPlan struct {
	persons  map[string]string // external ref → person id
	existing map[string]string // legacy id → note id, imported before (same content)
	newIDs   map[string]string // legacy id → id of the note to create
	order    []*casefile.NoteImport
	problems []casefile.ImportProblem
}

func (p *importPlan) target(legacyID string) string {
	if id, ok := p.newIDs[legacyID]; ok {
		return id
	}
	return p.existing[legacyID]
}

func (p *importPlan) problem(line int, format string, args ...any) {
	p.problems = append(p.problems, casefile.ImportProblem{Line: line, Msg: fmt.Sprintf(format, args...)})
}

type priorNote struct {
	id, personID, typ, bodySHA string
	occurredAt                 time.Time
}

// planImport resolves persons, notes imported before and corrections, and
// orders the new rows so that a corrected note is stored before its
// correction whatever the file's order.
func planImport(ctx context.Context, tx pgx.Tx, rows []*casefile.NoteImport) (*importPlan, error) {
	p := &importPlan{persons: map[string]string{}, existing: map[string]string{}, newIDs: map[string]string{}}
	var refs, legacy []string
	for _, r := range rows {
		refs = append(refs, r.PersonRef)
		legacy = append(legacy, r.LegacyID)
		if r.CorrectsLegacyID != "" {
			legacy = append(legacy, r.CorrectsLegacyID)
		}
	}
	// FOR SHARE: a person found active stays so until the import commits.
	prows, err := tx.Query(ctx, "SELECT external_ref, id, status FROM persons WHERE external_ref = ANY($1) FOR SHARE", refs)
	if err != nil {
		return nil, err
	}
	destroyed := map[string]bool{}
	for prows.Next() {
		var ref, id, status string
		if err := prows.Scan(&ref, &id, &status); err != nil {
			prows.Close()
			return nil, err
		}
		p.persons[ref] = id
		destroyed[ref] = personActive(status) != nil
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, err
	}
	prior := map[string]priorNote{}
	nrows, err := tx.Query(ctx, `SELECT n.legacy_ref, n.id, n.person_id, n.type, n.occurred_at, v.body_sha256
		FROM notes n JOIN note_versions v ON v.note_id = n.id AND v.version = 1 WHERE n.legacy_ref = ANY($1)`, legacy)
	if err != nil {
		return nil, err
	}
	for nrows.Next() {
		var ref string
		var pn priorNote
		if err := nrows.Scan(&ref, &pn.id, &pn.personID, &pn.typ, &pn.occurredAt, &pn.bodySHA); err != nil {
			nrows.Close()
			return nil, err
		}
		prior[ref] = pn
	}
	nrows.Close()
	if err := nrows.Err(); err != nil {
		return nil, err
	}

	inFile := map[string]*casefile.NoteImport{}
	for _, r := range rows {
		if _, ok := p.persons[r.PersonRef]; !ok {
			p.problem(r.Line, "no person with external reference %q is on record; create them first (POST /v1/persons)", r.PersonRef)
		} else if destroyed[r.PersonRef] {
			p.problem(r.Line, "person_destroyed: the record of the person with external reference %q was destroyed under the retention schedule; "+
				"nothing more is added to it", r.PersonRef)
		}
		if pn, ok := prior[r.LegacyID]; ok {
			if pn.bodySHA != bodyHash(r.Body) || pn.typ != r.Type || !pn.occurredAt.Equal(r.OccurredAt) {
				p.problem(r.Line, "legacy_id %q was imported before with a different type, time or body; "+
					"a case note is never changed, so record a correction instead", r.LegacyID)
				continue
			}
			p.existing[r.LegacyID] = pn.id
			continue
		}
		inFile[r.LegacyID] = r
		p.newIDs[r.LegacyID] = newID()
	}
	for _, r := range rows {
		if r.CorrectsLegacyID == "" {
			continue
		}
		if r.CorrectsLegacyID == r.LegacyID {
			p.problem(r.Line, "the note corrects itself (corrects_legacy_id %q)", r.CorrectsLegacyID)
			continue
		}
		targetPerson := ""
		if t, ok := inFile[r.CorrectsLegacyID]; ok {
			targetPerson = p.persons[t.PersonRef]
		} else if pn, ok := prior[r.CorrectsLegacyID]; ok {
			targetPerson = pn.personID
		} else {
			p.problem(r.Line, "corrects_legacy_id %q names no note in this file or imported before", r.CorrectsLegacyID)
			continue
		}
		if me := p.persons[r.PersonRef]; me != "" && targetPerson != "" && me != targetPerson {
			p.problem(r.Line, "corrects_legacy_id %q is a note on another person's record; a correction must be on the same record",
				r.CorrectsLegacyID)
		}
	}
	// Order the new rows: a corrected note first, then its corrections.
	state := map[string]int{} // 0 unvisited, 1 visiting, 2 done
	var visit func(r *casefile.NoteImport) bool
	visit = func(r *casefile.NoteImport) bool {
		switch state[r.LegacyID] {
		case 1:
			return false
		case 2:
			return true
		}
		state[r.LegacyID] = 1
		if t, ok := inFile[r.CorrectsLegacyID]; ok && r.CorrectsLegacyID != r.LegacyID {
			if !visit(t) {
				return false
			}
		}
		state[r.LegacyID] = 2
		p.order = append(p.order, r)
		return true
	}
	for _, r := range rows {
		if _, isNew := inFile[r.LegacyID]; isNew && inFile[r.LegacyID] == r && !visit(r) {
			p.problem(r.Line, "corrections form a loop through legacy_id %q", r.LegacyID)
			state[r.LegacyID] = 2
		}
	}
	return p, nil
}
