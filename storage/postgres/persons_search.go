package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

// searchPersons is the person finder: every word of the query in the name
// (in part, folded as casefile_fold folds it: lower case, no accents), or the
// beginning of the reference, or the date of birth. Results in name order,
// paged by offset. The search is audited without what was typed.
func (db *DB) searchPersons(ctx context.Context, f casefile.PersonFilter) ([]*casefile.Person, string, error) {
	limit := clampLimit(f.Limit)
	offset := 0
	if f.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(f.Cursor, "o"))
		if err != nil || n < 0 || !strings.HasPrefix(f.Cursor, "o") {
			return nil, "", casefile.Errorf(casefile.EInvalid, "invalid_cursor", "The cursor is not one this service gave out.")
		}
		offset = n
	}
	query := strings.TrimSpace(f.Query)
	if len(query) > 200 {
		return nil, "", casefile.Errorf(casefile.EInvalid, "query_too_long", "Search for a name, a reference or a date of birth of at most 200 characters.")
	}
	var words []string
	for _, w := range strings.Fields(query) {
		words = append(words, likeEscape(w))
	}
	dob := parseDOB(query)
	var out []*casefile.Person
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+personColumns+` FROM persons p
			WHERE lower(p.external_ref) LIKE lower($1) || '%'
			   OR ($2::date IS NOT NULL AND p.date_of_birth = $2::date)
			   OR NOT EXISTS (SELECT 1 FROM unnest($3::text[]) w WHERE p.name_fold NOT LIKE '%' || casefile_fold(w) || '%')
			ORDER BY casefile_fold(coalesce(p.family_name, '')), p.name_fold, p.id OFFSET $4 LIMIT $5`,
			likeEscape(query), dob, words, offset, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*casefile.Person, error) { return scanPerson(r) })
		if err != nil {
			return err
		}
		page := out[:min(len(out), limit)]
		if err := db.auditListed(ctx, tx, page, func(p *casefile.Person) bool { return strings.EqualFold(p.ExternalRef, query) }); err != nil {
			return err
		}
		kind := "name"
		switch {
		case dob != nil:
			kind = "date_of_birth"
		case strings.ContainsAny(query, "0123456789"):
			kind = "reference"
		}
		// What was typed may be a name: only that a search was made, and how many it found.
		return db.appendAudit(ctx, tx, auditEntry{Action: "person.search", TargetType: "person", TargetID: "finder",
			Details: map[string]any{"kind": kind, "results": len(page)}})
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = "o" + strconv.Itoa(offset+limit)
	}
	found := make([]*casefile.Person, 0, len(out))
	for _, p := range out {
		if p != nil {
			found = append(found, p)
		}
	}
	return found, next, nil
}

// likeEscape makes s match itself in a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// parseDOB reads a date of birth as typed: 2014-02-28, 28/02/2014 or 28/2/2014.
func parseDOB(s string) *time.Time {
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t
		}
	}
	return nil
}
