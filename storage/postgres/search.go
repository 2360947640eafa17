package postgres

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/council/casefile"
)

var _ casefile.SearchService = (*DB)(nil)

// The snippet's marks while in SQL: control characters a note or a
// document's text cannot bring in (they are taken out of the text first),
// turned into <mark> after the rest is escaped.
// A "<" becomes lessThan for ts_headline, which would take "<b>" for a tag
// and drop it.
//
// wordBreak goes after every "." and "@" of the text ts_headline reads
// that a letter or digit follows, and is taken out again: PostgreSQL's
// parser reads "letter-to-school.pdf" or "j.okafor@school.sch.uk" as one
// token (a host name, an address), so the snippet could not mark a word
// inside one, though a document is found by the words of its file name (its
// search vector splits them). Split, each word is marked where it matches.
const (
	wordBreak = "\x01"
	markOpen  = "\x02"
	markClose = "\x03"
	lessThan  = "\uE000" // a private-use character: no text means it
)

// snippetChars bounds the text ts_headline reads for one hit: it parses all
// it is given, and a document's text may be a megabyte. A match further in
// than this is still found and ranked; its snippet is the text's beginning.
const snippetChars = 20000

// headline is ts_headline over the first snippetChars of the text expr,
// marked with markOpen and markClose, in at most two passages.
func headline(expr string) string {
	text := `left(translate(` + expr + `, E'\x01\x02\x03', ''), ` + strconv.Itoa(snippetChars) + `)`
	text = `regexp_replace(replace(` + text + `, '<', U&'\E000'), '([.@])([[:alnum:]])', E'\\1\x01\\2', 'g')`
	return `ts_headline('casefile_search', ` + text + `, q.q,
		'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=" … "')`
}

// SearchRecord searches one person's active notes and documents, ranked by
// ts_rank (a document's title, filename and email subject weigh most),
// newest first among equals, and audits the search on the record as
// record.search with what was typed measured, never kept.
func (db *DB) SearchRecord(ctx context.Context, sq casefile.SearchQuery) (*casefile.SearchResults, error) {
	query := strings.TrimSpace(sq.Query)
	switch {
	case query == "":
		return nil, casefile.Errorf(casefile.EInvalid, "missing_q", "Type a word or two to search for (q).")
	case !utf8.ValidString(query) || strings.ContainsRune(query, 0) || utf8.RuneCountInString(query) > casefile.MaxSearchQueryChars:
		return nil, casefile.Errorf(casefile.EInvalid, "q_too_long", "Search for at most %d characters of text.", casefile.MaxSearchQueryChars)
	case sq.Page < 0 || sq.Page > casefile.MaxSearchPage:
		return nil, casefile.Errorf(casefile.EInvalid, "invalid_page", "page must be between 1 and %d; make the search narrower to see further.", casefile.MaxSearchPage)
	}
	if !validUUID(sq.PersonID) {
		return nil, notFound("Person")
	}
	page := max(sq.Page, 1)
	limit := sq.Limit
	if limit <= 0 {
		limit = casefile.DefaultSearchLimit
	}
	limit = min(limit, casefile.MaxSearchLimit)
	res := &casefile.SearchResults{Items: []*casefile.SearchHit{}, Page: page}
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, sq.PersonID); err != nil {
			return err
		}
		// QueryExecModeExec plans with the words typed (an unnamed
		// statement), never a generic plan blind to how common they are.
		rows, err := tx.Query(ctx, `SELECT type, id::text, rank, count(*) OVER () FROM (
				SELECT 'note' AS type, n.id, ts_rank(v.search, websearch_to_tsquery('casefile_search', $2)) AS rank, n.occurred_at AS at
				FROM notes n JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version
				WHERE n.person_id = $1 AND n.status = 'active' AND v.body IS NOT NULL
				  AND v.search @@ websearch_to_tsquery('casefile_search', $2)
				UNION ALL
				SELECT 'document', d.id, ts_rank(d.search, websearch_to_tsquery('casefile_search', $2)), d.created_at
				FROM documents d
				WHERE d.person_id = $1 AND d.status = 'active' AND d.search @@ websearch_to_tsquery('casefile_search', $2)) hits
			ORDER BY rank DESC, at DESC, id LIMIT $3 OFFSET $4`,
			pgx.QueryExecModeExec, sq.PersonID, query, limit, (page-1)*limit)
		if err != nil {
			return err
		}
		var noteIDs, docIDs []string
		byID := map[string]*casefile.SearchHit{}
		for rows.Next() {
			h := &casefile.SearchHit{}
			if err := rows.Scan(&h.Type, &h.ID, &h.Rank, &res.Total); err != nil {
				rows.Close()
				return err
			}
			res.Items = append(res.Items, h)
			byID[h.ID] = h
			if h.Type == "note" {
				noteIDs = append(noteIDs, h.ID)
			} else {
				docIDs = append(docIDs, h.ID)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := db.fillNoteHits(ctx, tx, query, noteIDs, byID); err != nil {
			return err
		}
		if err := db.fillDocumentHits(ctx, tx, query, docIDs, byID); err != nil {
			return err
		}
		// What was typed may name someone: only its size is kept.
		return db.appendAudit(ctx, tx, auditEntry{Action: "record.search", TargetType: "person", TargetID: sq.PersonID, PersonID: sq.PersonID,
			Details: map[string]any{"query_chars": utf8.RuneCountInString(query), "query_words": len(strings.Fields(query)),
				"results": res.Total, "page": page}})
	})
	if err != nil {
		return nil, err
	}
	if page*limit < res.Total {
		res.NextPage = page + 1
	}
	return res, nil
}

func (db *DB) fillNoteHits(ctx context.Context, tx pgx.Tx, query string, ids []string, byID map[string]*casefile.SearchHit) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `WITH q AS (SELECT websearch_to_tsquery('casefile_search', $2) AS q)
		SELECT n.id::text, n.type, n.occurred_at, `+headline("v.body")+`
		FROM notes n JOIN note_versions v ON v.note_id = n.id AND v.version = n.current_version, q
		WHERE n.id = ANY($1::uuid[])`, ids, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, typ, snippet string
		var at time.Time
		if err := rows.Scan(&id, &typ, &at, &snippet); err != nil {
			return err
		}
		h := byID[id]
		h.NoteType, h.OccurredAt, h.Snippet = typ, at.UTC(), markedHTML(snippet)
	}
	return rows.Err()
}

func (db *DB) fillDocumentHits(ctx context.Context, tx pgx.Tx, query string, ids []string, byID map[string]*casefile.SearchHit) error {
	if len(ids) == 0 {
		return nil
	}
	text := `coalesce(nullif(d.email->>'subject', ''), d.title) || E'\n' || coalesce(d.body_text, '')`
	rows, err := tx.Query(ctx, `WITH q AS (SELECT websearch_to_tsquery('casefile_search', $2) AS q)
		SELECT d.id::text, d.kind, d.title, d.filename, d.created_at, d.parent_id::text, coalesce(d.email->>'subject', ''),
			`+headline(text)+`
		FROM documents d, q WHERE d.id = ANY($1::uuid[])`, ids, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, snippet string
		var h casefile.SearchHit
		if err := rows.Scan(&id, &h.Kind, &h.Title, &h.Filename, &h.CreatedAt, &h.ParentID, &h.Subject, &snippet); err != nil {
			return err
		}
		out := byID[id]
		out.Kind, out.Title, out.Filename, out.CreatedAt, out.ParentID, out.Subject = h.Kind, h.Title, h.Filename, h.CreatedAt.UTC(), h.ParentID, h.Subject
		out.Snippet = markedHTML(snippet)
	}
	return rows.Err()
}

// markedHTML escapes a headline and turns its marks into <mark> elements.
// Marks that do not pair up (a passage cut inside one) are closed or dropped.
func markedHTML(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, lessThan, "<"), wordBreak, "")
	var b strings.Builder
	open := false
	for s != "" {
		i := strings.IndexAny(s, markOpen+markClose)
		if i < 0 {
			b.WriteString(html.EscapeString(s))
			break
		}
		b.WriteString(html.EscapeString(s[:i]))
		switch {
		case s[i] == markOpen[0] && !open:
			b.WriteString("<mark>")
			open = true
		case s[i] == markClose[0] && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+1:]
	}
	if open {
		b.WriteString("</mark>")
	}
	return strings.TrimSpace(b.String())
}
