package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.ChronologyReader = (*DB)(nil)

// chronologyCursor is an entry's place: when it happened, then when it was
// recorded (a note's recorded_at, a document's created_at), then its id.
type chronologyCursor struct {
	At  time.Time `json:"a"`
	Tie time.Time `json:"t"`
	ID  string    `json:"i"`
}

func (c chronologyCursor) String() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Where a walk starts when no cursor is given: before everything, or after.
var (
	chronologyStart = chronologyCursor{At: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Tie: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		ID: "00000000-0000-0000-0000-000000000000"}
	// Past any date an email can carry (Go writes none after 9999), and
	// within PostgreSQL's range.
	chronologyEnd = chronologyCursor{At: time.Date(100000, 1, 1, 0, 0, 0, 0, time.UTC), Tie: time.Date(100000, 1, 1, 0, 0, 0, 0, time.UTC),
		ID: "ffffffff-ffff-ffff-ffff-ffffffffffff"}
)

// chronologyKeys is one page's entries in walking order, by kind and id: a
// keyset walk of each kind's chronology index, merged, so that a page reads
// only its own rows however long the record. %[1]s is the comparison with
// the cursor, %[2]s the sort direction.
const chronologyKeys = `WITH page AS (
	(SELECT 'n' AS kind, n.id, n.occurred_at AS at, n.recorded_at AS tie FROM notes n
		WHERE $2 AND n.person_id = $1 AND (n.occurred_at, n.recorded_at, n.id) %[1]s ($4, $5, $6::uuid)
		AND ($7::text = '' OR EXISTS (SELECT 1 FROM note_versions v WHERE v.note_id = n.id AND v.version = n.current_version
			AND v.search @@ websearch_to_tsquery('casefile_search', $7)))
		ORDER BY n.occurred_at %[2]s, n.recorded_at %[2]s, n.id %[2]s LIMIT $8)
	UNION ALL
	(SELECT 'd', d.id, d.occurred_at, d.created_at FROM documents d
		WHERE $3 AND $7::text = '' AND d.person_id = $1 AND d.parent_id IS NULL AND (d.occurred_at, d.created_at, d.id) %[1]s ($4, $5, $6::uuid)
		ORDER BY d.occurred_at %[2]s, d.created_at %[2]s, d.id %[2]s LIMIT $8))
SELECT kind, id, at, tie FROM page ORDER BY at %[2]s, tie %[2]s, id %[2]s LIMIT $8`

// Chronology reads one page of a person's chronology in three queries of one
// transaction: the page's keys, then its notes and its documents by id (with
// how many corrections and attachments each has, not the things themselves).
// The read is audited as a read of the record's notes and a listing of its
// documents, each with how many it showed.
func (db *DB) Chronology(ctx context.Context, f casefile.ChronologyFilter) ([]*casefile.ChronologyEntry, bool, error) {
	limit := clampLimit(f.Limit)
	cur := chronologyStart
	if f.Newest != f.Before {
		cur = chronologyEnd
	}
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || json.Unmarshal(b, &cur) != nil || !validUUID(cur.ID) {
			return nil, false, casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
	}
	// Walking newest first, or back from a cursor of an oldest-first page,
	// goes down the indexes; the other two walks go up.
	cmp, dir := ">", "ASC"
	if f.Newest != f.Before {
		cmp, dir = "<", "DESC"
	}
	var out []*casefile.ChronologyEntry
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, f.PersonID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(chronologyKeys, cmp, dir), f.PersonID, f.Notes, f.Documents,
			cur.At, cur.Tie, cur.ID, f.Query, limit+1)
		if err != nil {
			return err
		}
		var noteIDs, docIDs []string
		byID := map[string]*casefile.ChronologyEntry{}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.ChronologyEntry, error) {
			var kind string
			var c chronologyCursor
			if err := r.Scan(&kind, &c.ID, &c.At, &c.Tie); err != nil {
				return nil, err
			}
			e := &casefile.ChronologyEntry{At: c.At.UTC(), Cursor: c.String()}
			byID[c.ID] = e
			if len(byID) <= limit {
				if kind == "n" {
					noteIDs = append(noteIDs, c.ID)
				} else {
					docIDs = append(docIDs, c.ID)
				}
			}
			return e, nil
		})
		if err != nil {
			return err
		}
		if len(noteIDs) > 0 {
			rows, err := tx.Query(ctx, noteSelect+` WHERE n.id = ANY($1)`, noteIDs)
			if err != nil {
				return err
			}
			ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Note, error) { return scanNote(r) })
			if err != nil {
				return err
			}
			for _, n := range ns {
				byID[n.ID].Note = n
			}
			rows, err = tx.Query(ctx, `SELECT corrects_note_id, count(*) FROM notes WHERE corrects_note_id = ANY($1) GROUP BY 1`, noteIDs)
			if err != nil {
				return err
			}
			var id string
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { byID[id].Corrections = n; return nil }); err != nil {
				return err
			}
		}
		if len(docIDs) > 0 {
			rows, err := tx.Query(ctx, "SELECT "+documentColumns+`, (SELECT count(*) FROM documents c WHERE c.parent_id = documents.id)
				FROM documents WHERE id = ANY($1)`, docIDs)
			if err != nil {
				return err
			}
			if _, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Document, error) {
				var attachments int
				d, err := scanDocument(rowWithExtra{r, &attachments})
				if err == nil {
					byID[d.ID].Document, byID[d.ID].Attachments = d, attachments
				}
				return d, err
			}); err != nil {
				return err
			}
		}
		shownNotes, shownDocs := len(noteIDs), len(docIDs)
		var audits []auditEntry
		if f.Notes {
			action, details := "note.read", map[string]any{"via": "chronology", "count": shownNotes}
			if f.Query != "" {
				// The query itself may hold personal data: record only that a search was made.
				action, details["via"] = "note.search", "search"
			}
			audits = append(audits, auditEntry{Action: action, TargetType: "person", TargetID: f.PersonID, PersonID: f.PersonID, Details: details})
		}
		if f.Documents && f.Query == "" {
			audits = append(audits, auditEntry{Action: "document.list", TargetType: "person", TargetID: f.PersonID, PersonID: f.PersonID,
				Details: map[string]any{"via": "chronology", "count": shownDocs}})
		}
		return db.appendAudits(ctx, tx, audits)
	})
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if f.Before {
		slices.Reverse(out)
	}
	return out, more, nil
}

// rowWithExtra scans a row whose last column is extra, after the columns
// another scanner reads.
type rowWithExtra struct {
	pgx.Row
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra)...) }
