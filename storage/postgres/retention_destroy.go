package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// recheckSQL says why a due item of the person in c.pid must not be
// destroyed now although its date has come: the schedule says review, its
// dates or involvements changed (or a new schedule brought its date
// forward) after the list was made ($4, planned_at), or a records officer
// excluded it or decided to keep it. A records officer's return (the
// decision standing on the person) overrides the class and exclusions made
// before it. NULL when none applies.
const recheckSQL = `CASE WHEN pr.action = 'review' AND NOT ` + returnedSQL + `
		THEN 'the schedule says review for this record class: a records officer decides'
	WHEN pr.inputs_changed_at > $4 THEN 'dates or involvements changed after the disposal list was made; held for review'
	WHEN pr.schedule_changed_at > $4 THEN 'a new retention schedule changed its date after the disposal list was made; held for review'
	WHEN ` + keptSQL + ` IS NOT NULL THEN ` + keptSQL + `
	WHEN EXISTS (SELECT 1 FROM retention_exclusions x WHERE x.person_id = c.pid AND x.review_on > current_date
			AND NOT EXISTS (SELECT 1 FROM retention_review_standing s WHERE s.person_id = c.pid AND s.decision = 'return'
				AND s.decided_at >= x.created_at))
		THEN 'excluded from disposal by a records officer' END`

// lockApproved locks a run for a destruction batch. ok is false when the
// run is not running or is dry (nothing to destroy). A real run that no
// person approved is refused: storage never destroys an unapproved list,
// whoever calls it.
func lockApproved(ctx context.Context, tx pgx.Tx, runID string) (asOf casefile.Date, plannedAt time.Time, ok bool, err error) {
	var dry, approved bool
	var state string
	var planned *time.Time
	if err = tx.QueryRow(ctx, `SELECT as_of, dry_run, state, approved_at IS NOT NULL, planned_at FROM retention_runs WHERE id = $1 FOR UPDATE`,
		runID).Scan(&asOf, &dry, &state, &approved, &planned); err != nil {
		return asOf, plannedAt, false, err
	}
	if dry || state != casefile.RunRunning {
		return asOf, plannedAt, false, nil
	}
	if !approved || planned == nil {
		return asOf, plannedAt, false, casefile.Errorf(casefile.EConflict, "run_not_approved",
			"Run %s has not been approved by a records officer; nothing is destroyed without approval.", runID)
	}
	return asOf, *planned, true, nil
}

// reclass is an item that is no longer to be destroyed, and why.
type reclass struct {
	itemType, id, state, why string
}

// DestroyBatch destroys up to limit due documents and notes of a run.
// destroy destroys the objects at keys (every version); heldKeys are those
// whose legal hold is on and must be lifted first; it returns the keys it
// could not destroy. It
// checks holds and positions again at the moment of destruction, under the
// hold lock, calls destroy for the objects, then in the same transaction
// marks exactly what was destroyed. It returns how many items it settled
// (0 when none are left). If the process dies before the commit, the items
// stay due and the next attempt destroys them again, which is harmless.
func (db *DB) DestroyBatch(ctx context.Context, runID string, limit int, destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error) {
	settled := 0
	var failedErr error
	purge := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		asOf, plannedAt, ok, err := lockApproved(ctx, tx, runID)
		if err != nil || !ok {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT i.item_type, i.item_id::text, c.pid::text, coalesce(d.status, n.status, 'missing'),
				coalesce(d.destruction_run_id, n.destruction_run_id) IS NOT DISTINCT FROM $1::uuid,
				coalesce(`+heldBy("c.pid")+`, ''),
				coalesce(pr.disposal_due_on <= $3 AND NOT pr.open, false),
				coalesce(`+recheckSQL+`, '')
			FROM (SELECT * FROM retention_run_items WHERE run_id = $1 AND state = 'due' AND item_type <> 'person'
				ORDER BY item_type, item_id LIMIT $2) i
			LEFT JOIN documents d ON i.item_type = 'document' AND d.id = i.item_id
			LEFT JOIN notes n ON i.item_type = 'note' AND n.id = i.item_id
			CROSS JOIN LATERAL (SELECT coalesce(d.person_id, n.person_id, i.person_id) AS pid) c
			LEFT JOIN person_retention pr ON pr.person_id = c.pid`, runID, limit, asOf, plannedAt)
		if err != nil {
			return err
		}
		type cand struct {
			typ, id, pid, status, held, recheck string
			ours, stillDue                      bool
		}
		var cands []cand
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.typ, &c.id, &c.pid, &c.status, &c.ours, &c.held, &c.stillDue, &c.recheck); err != nil {
				rows.Close()
				return err
			}
			cands = append(cands, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var docs, notes []string
		var moved []reclass
		var done []string // items already destroyed by this run before an interruption
		for _, c := range cands {
			switch {
			case c.status == casefile.StatusDestroyed && c.ours:
				done = append(done, c.id)
			case c.held != "":
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemHeldBack, "under hold: " + c.held})
			case !c.stillDue:
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemReview, "no longer due: the record's retention position changed after the run was planned"})
			case c.recheck != "":
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemReview, c.recheck})
			case c.status != casefile.StatusActive:
				moved = append(moved, reclass{c.typ, c.id, casefile.ItemReview, "already " + c.status + " before this run reached it"})
			case c.typ == "document":
				docs = append(docs, c.id)
			default:
				notes = append(notes, c.id)
			}
		}
		if len(docs) > 0 {
			var gone []reclass
			if docs, gone, failedErr, err = db.destroyDocumentObjects(ctx, tx, docs, destroy); err != nil {
				return err
			}
			moved = append(moved, gone...)
		}
		// Filenames and reasons are content too: they go with the bodies.
		if len(docs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE documents SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $1,
				body_text = NULL, email = NULL, parse_warnings = '[]', title = '', filename = `+removedFilename+`,
				text_state = 'none', text_source = NULL, text_warning = NULL,
				legal_hold = false, legal_hold_applied = false
				WHERE id = ANY($2) AND status = 'active'`, runID, docs); err != nil {
				return err
			}
		}
		if len(notes) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE notes SET status = 'destroyed', destroyed_at = now(), destruction_run_id = $1,
				reopened_by_ticket = NULL, correction_reason = NULL WHERE id = ANY($2) AND status = 'active'`, runID, notes); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE note_versions SET body = NULL, reason = NULL WHERE note_id = ANY($1)
				AND (body IS NOT NULL OR reason IS NOT NULL)`, notes); err != nil {
				return err
			}
		}
		purge = len(docs)+len(notes) > 0
		destroyed := append(append(append([]string{}, docs...), notes...), done...)
		if len(destroyed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
				WHERE run_id = $1 AND item_type <> 'person' AND item_id = ANY($2) AND state = 'due'`, runID, destroyed); err != nil {
				return err
			}
		}
		if err := reclassify(ctx, tx, runID, moved); err != nil {
			return err
		}
		settled = len(destroyed) + len(moved)
		if settled == 0 {
			return nil
		}
		if _, err := recount(ctx, tx, runID); err != nil {
			return err
		}
		// One audit event per person per batch, naming what was destroyed.
		type perPerson struct{ Documents, Notes []string }
		by := map[string]*perPerson{}
		var order []string
		add := func(pid string) *perPerson {
			if by[pid] == nil {
				by[pid] = &perPerson{Documents: []string{}, Notes: []string{}}
				order = append(order, pid)
			}
			return by[pid]
		}
		index := map[string]cand{}
		for _, c := range cands {
			index[c.id] = c
		}
		for _, id := range docs {
			p := add(index[id].pid)
			p.Documents = append(p.Documents, id)
		}
		for _, id := range notes {
			p := add(index[id].pid)
			p.Notes = append(p.Notes, id)
		}
		for _, pid := range order {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "retention.destroy", TargetType: "person", TargetID: pid, PersonID: pid,
				Details: map[string]any{"run_id": runID, "documents": by[pid].Documents, "notes": by[pid].Notes}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if purge {
		// The search index is rebuilt once, when the run finishes.
		db.purgeDead(ctx, false, "documents", "notes", "note_versions")
	}
	return settled, failedErr
}

// destroyDocumentObjects locks the due documents' rows (a link from one of
// them waits, and then finds it destroyed), then their objects, and
// destroys the objects that no other active document names: an object that
// another record still files (a sibling link) stays, and the last record to
// let it go destroys it. It returns the documents to mark destroyed (those
// whose object was destroyed or stays with another record), those that
// stopped being active meanwhile, and an error naming objects that could
// not be destroyed (their documents stay due for the next attempt).
func (db *DB) destroyDocumentObjects(ctx context.Context, tx pgx.Tx, ids []string,
	destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (docs []string, gone []reclass, failedErr, err error) {
	rows, err := tx.Query(ctx, "SELECT id::text, object_key, status FROM documents WHERE id = ANY($1) ORDER BY id FOR UPDATE", ids)
	if err != nil {
		return nil, nil, nil, err
	}
	type row struct{ id, key, status string }
	locked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.key, &x.status)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var keys []string
	for _, x := range locked {
		if x.status != casefile.StatusActive {
			gone = append(gone, reclass{"document", x.id, casefile.ItemReview, "already " + x.status + " before this run reached it"})
			continue
		}
		docs, keys = append(docs, x.id), append(keys, x.key)
	}
	letGo, err := objectsLetGo(ctx, tx, keys, docs)
	if err != nil || len(letGo) == 0 {
		return docs, gone, nil, err
	}
	// Legal holds left on the objects are lifted first (the holds were
	// checked): any row that names the object may have had one applied.
	rows, err = tx.Query(ctx, "SELECT DISTINCT object_key FROM documents WHERE object_key = ANY($1) AND legal_hold_applied", letGo)
	if err != nil {
		return nil, nil, nil, err
	}
	heldKeys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, nil, err
	}
	failed, err := destroy(ctx, letGo, heldKeys)
	if err != nil || len(failed) == 0 {
		return docs, gone, nil, err
	}
	kept := docs[:0:0]
	for i, id := range docs {
		if e, bad := failed[keys[i]]; bad {
			if failedErr == nil {
				failedErr = fmt.Errorf("destroy %d objects, e.g. %s: %w", len(failed), keys[i], e)
			}
			continue
		}
		kept = append(kept, id)
	}
	return kept, gone, failedErr, nil
}

func reclassify(ctx context.Context, tx pgx.Tx, runID string, moved []reclass) error {
	if len(moved) == 0 {
		return nil
	}
	types, ids, states, whys := make([]string, len(moved)), make([]string, len(moved)), make([]string, len(moved)), make([]string, len(moved))
	for i, m := range moved {
		types[i], ids[i], states[i], whys[i] = m.itemType, m.id, m.state, m.why
	}
	_, err := tx.Exec(ctx, `UPDATE retention_run_items i SET state = m.state, why = m.why
		FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[]) AS m(t, id, state, why)
		WHERE i.run_id = $1 AND i.item_type = m.t AND i.item_id = m.id AND i.state = 'due'`, runID, types, ids, states, whys)
	return err
}

// DestroyIdentities settles up to limit due person items of a run: a person
// all of whose record this run destroyed, and who has nothing else left,
// loses their identifying details (names, dates of birth and death); their
// id, external reference, involvements and retention position stay as the
// residual record. Export bundles of their record are destroyed with them.
// It returns how many person items it settled.
func (db *DB) DestroyIdentities(ctx context.Context, runID string, limit int, destroy func(ctx context.Context, keys, heldKeys []string) (map[string]error, error)) (int, error) {
	settled, identities := 0, 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", holdLockKey); err != nil {
			return err
		}
		asOf, plannedAt, ok, err := lockApproved(ctx, tx, runID)
		if err != nil || !ok {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT i.item_id::text, p.status, p.destruction_run_id IS NOT DISTINCT FROM $1::uuid,
				coalesce(`+heldBy("i.item_id")+`, ''),
				coalesce(pr.disposal_due_on <= $3 AND NOT pr.open, false),
				coalesce(`+strings.ReplaceAll(recheckSQL, "c.pid", "i.item_id")+`, ''),
				EXISTS (SELECT 1 FROM retention_run_items j WHERE j.run_id = $1 AND j.person_id = i.item_id
					AND j.item_type <> 'person' AND j.state <> 'destroyed'),
				EXISTS (SELECT 1 FROM documents d WHERE d.person_id = i.item_id AND d.status = 'active')
					OR EXISTS (SELECT 1 FROM notes n WHERE n.person_id = i.item_id AND n.status = 'active')
			FROM (SELECT * FROM retention_run_items WHERE run_id = $1 AND state = 'due' AND item_type = 'person'
				ORDER BY item_id LIMIT $2) i
			JOIN persons p ON p.id = i.item_id
			LEFT JOIN person_retention pr ON pr.person_id = i.item_id`, runID, limit, asOf, plannedAt)
		if err != nil {
			return err
		}
		var persons, done []string
		var moved []reclass
		for rows.Next() {
			var id, status, held, recheck string
			var ours, stillDue, pending, remaining bool
			if err := rows.Scan(&id, &status, &ours, &held, &stillDue, &recheck, &pending, &remaining); err != nil {
				rows.Close()
				return err
			}
			switch {
			case status == "destroyed" && ours:
				done = append(done, id)
			case held != "":
				moved = append(moved, reclass{"person", id, casefile.ItemHeldBack, "under hold: " + held})
			case !stillDue:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "no longer due: the record's retention position changed after the run was planned"})
			case recheck != "":
				moved = append(moved, reclass{"person", id, casefile.ItemReview, recheck})
			case pending:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "part of the record was not destroyed by this run"})
			case remaining:
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "records were added after the run was planned"})
			case status != "active":
				moved = append(moved, reclass{"person", id, casefile.ItemReview, "already destroyed"})
			default:
				persons = append(persons, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(persons) > 0 {
			// Export bundles are copies of the record: they go with it.
			if err := db.destroyExportsOf(ctx, tx, persons, runID, destroy); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE persons SET given_name = NULL, family_name = NULL, date_of_birth = NULL, date_of_death = NULL,
				nhs_number = NULL, status = 'destroyed', identity_destroyed_at = now(), destruction_run_id = $1, updated_at = now()
				WHERE id = ANY($2) AND status = 'active'`, runID, persons); err != nil {
				return err
			}
			if err := destroyTypedText(ctx, tx, persons); err != nil {
				return err
			}
			identities = len(persons)
			// An officer's reasons for keeping the record a while are
			// about the person: they go with the identity.
			if _, err := tx.Exec(ctx, "UPDATE retention_exclusions SET reason = '' WHERE person_id = ANY($1) AND reason <> ''", persons); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE retention_review_decisions SET reason = '' WHERE person_id = ANY($1) AND reason <> ''", persons); err != nil {
				return err
			}
		}
		destroyed := append(append([]string{}, persons...), done...)
		if len(destroyed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE retention_run_items SET state = 'destroyed', destroyed_at = now()
				WHERE run_id = $1 AND item_type = 'person' AND item_id = ANY($2) AND state = 'due'`, runID, destroyed); err != nil {
				return err
			}
		}
		if err := reclassify(ctx, tx, runID, moved); err != nil {
			return err
		}
		settled = len(destroyed) + len(moved)
		if settled == 0 {
			return nil
		}
		if _, err := recount(ctx, tx, runID); err != nil {
			return err
		}
		for _, pid := range persons {
			if err := db.appendAudit(ctx, tx, auditEntry{Action: "person.identity_destroy", TargetType: "person", TargetID: pid,
				PersonID: pid, Details: map[string]string{"run_id": runID}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && identities > 0 {
		db.purgeDead(ctx, false, "persons", "tickets", "holds", "exports", "retention_exclusions", "retention_review_decisions")
	}
	return settled, err
}

// destroyTypedText destroys, with the persons' records, the text people
// typed about them that is kept beside the record rather than in it: the
// reasons, decisions and errors of tickets on or to their records, and the
// name and reasons of released holds that covered no one else. The log
// kept only digests of these (typedText).
func destroyTypedText(ctx context.Context, tx pgx.Tx, persons []string) error {
	if _, err := tx.Exec(ctx, `UPDATE tickets SET reason = '', decision_reason = NULL, error = NULL
		WHERE (person_id = ANY($1) OR to_person_id = ANY($1)) AND (reason <> '' OR decision_reason IS NOT NULL OR error IS NOT NULL)`,
		persons); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE holds h SET name = 'hold ' || h.id::text, reason = '', release_reason = NULL
		WHERE h.released_at IS NOT NULL AND NOT h.all_records
		AND EXISTS (SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id AND hp.person_id = ANY($1))
		AND NOT EXISTS (SELECT 1 FROM hold_persons hp JOIN persons p ON p.id = hp.person_id
			WHERE hp.hold_id = h.id AND p.status = 'active' AND NOT hp.person_id = ANY($1))`, persons)
	return err
}

// FinishRun closes a run. A real run's certificate lists every item it
// destroyed, with no content, and is kept with the run and audited.
func (db *DB) FinishRun(ctx context.Context, id string) (*casefile.RetentionRun, error) {
	reindex := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanRun(tx.QueryRow(ctx, "SELECT "+runColumns+" FROM retention_runs WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return err
		}
		if r.State != "running" {
			return nil
		}
		c, err := recount(ctx, tx, id)
		if err != nil {
			return err
		}
		details := map[string]any{"due": c[0], "held_back": c[1], "review": c[2], "destroyed": c[3]}
		if !r.DryRun {
			rows, err := tx.Query(ctx, "SELECT "+runItemColumns+` FROM retention_run_items WHERE run_id = $1 AND state = 'destroyed'
				ORDER BY item_type, item_id`, id)
			if err != nil {
				return err
			}
			items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.RunItem, error) { return scanRunItem(r) })
			if err != nil {
				return err
			}
			if items == nil {
				items = []*casefile.RunItem{}
			}
			canon, err := json.Marshal(items)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(canon)
			approvers, err := runApprovals(ctx, tx, id)
			if err != nil {
				return err
			}
			if approvers == nil {
				approvers = []*casefile.Approval{}
			}
			names := make([]string, len(approvers))
			for i, a := range approvers {
				names[i] = a.Name
			}
			cert := &casefile.Certificate{RunID: id, AsOf: r.AsOf, IssuedAt: db.now().UTC().Truncate(time.Microsecond),
				ApprovedBy: strings.Join(names, ", "), Approvers: approvers, Items: items, SHA256: hex.EncodeToString(sum[:]),
				ResidualCopies: db.residualStatement()}
			b, err := json.Marshal(cert)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE retention_runs SET certificate = $2, certificate_sha256 = $3 WHERE id = $1",
				id, b, cert.SHA256); err != nil {
				return err
			}
			details["certificate_sha256"] = cert.SHA256
			details["approved_by"] = cert.ApprovedBy
			ids := make([]string, len(approvers))
			for i, a := range approvers {
				ids[i] = a.ID
			}
			details["approver_ids"] = ids
		}
		if _, err := tx.Exec(ctx, "UPDATE retention_runs SET state = 'done', finished_at = now() WHERE id = $1", id); err != nil {
			return err
		}
		reindex = !r.DryRun && c[3] > 0
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.finish", TargetType: "retention_run", TargetID: id, Details: details})
	})
	if err != nil {
		return nil, err
	}
	if reindex {
		// Each batch vacuumed; the search index keeps the words of destroyed
		// notes as keys until it is rebuilt, once per run.
		db.purgeDead(ctx, true, "note_versions")
	}
	return db.runByID(ctx, id)
}

// FailRun records that a run cannot go on.
func (db *DB) FailRun(ctx context.Context, id, why string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE retention_runs SET state = 'failed', error = $2, finished_at = now()
			WHERE id = $1 AND state IN ('queued','running')`, id, why)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return db.appendAudit(ctx, tx, auditEntry{Action: "retention.run.fail", TargetType: "retention_run", TargetID: id,
			Details: map[string]string{"error": why}})
	})
}
