-- One search over a record: the current text of its notes and its documents'
-- titles, filenames, email headers and text (body_text), by words.
--
-- casefile_search is English without its stop words (a name such as "Will"
-- or "May" must be found) and without accents (unaccent first, so "Zoe"
-- finds "Zoë" and ts_headline marks it): "visits" finds "visited".
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH DICTIONARY casefile_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION casefile_search (COPY = english);
ALTER TEXT SEARCH CONFIGURATION casefile_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, casefile_stem;

-- casefile_search_vector is to_tsvector that never fails a write: a text
-- whose words overflow a tsvector (1 MB; a hostile or huge document) keeps
-- the words of its first 250,000 characters, and failing that none.
CREATE FUNCTION casefile_search_vector(t text) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN to_tsvector('casefile_search', coalesce(t, ''));
EXCEPTION WHEN program_limit_exceeded THEN
    BEGIN
        RETURN to_tsvector('casefile_search', left(t, 250000));
    EXCEPTION WHEN program_limit_exceeded THEN
        RETURN ''::tsvector;
    END;
END $$;

-- A search is always inside one record. The planner is given the query's
-- words each time (SearchRecord never reuses a generic plan), so from the
-- words' frequencies it reads a rare word's rows through the GIN indexes and a
-- common word's ("school") through the record's person index, never the
-- rows of every record. The GIN indexes keep the words of removed content as
-- keys until purgeDead rebuilds them, as it does after every removal.
--
-- A note's words are its version's: the current version is the one searched,
-- and a removed or destroyed note's bodies are NULL, so their words go with
-- them.
ALTER TABLE note_versions ADD COLUMN search tsvector GENERATED ALWAYS AS (casefile_search_vector(body)) STORED;
CREATE INDEX note_versions_search ON note_versions USING gin (search);

-- An email's sender and recipients as searched: each address whole, and
-- split at its @ and at its dots, dashes and underscores ("duty" finds
-- duty.team@example.org).
CREATE FUNCTION casefile_addresses(email jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    (SELECT a || ' ' || translate(a, '@', ' ') || ' ' || translate(a, '@._-+', '     ')
     FROM (SELECT coalesce(email->>'from', '') || ' ' || coalesce((email->'to')::text, '') || ' ' || coalesce((email->'cc')::text, '')) s(a));

-- A document's: title, filename (split at its dots and dashes), email
-- subject first (weight A), then sender and recipients (B), then its text (D).
ALTER TABLE documents ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(casefile_search_vector(title || ' ' || translate(filename, '._-', '   ') || ' ' || coalesce(email->>'subject', '')), 'A') ||
    setweight(casefile_search_vector(casefile_addresses(email)), 'B') ||
    casefile_search_vector(body_text)) STORED;
CREATE INDEX documents_search ON documents USING gin (search);

-- The notes list's ?q= searches the same words; its English index goes.
DROP INDEX note_versions_fts;

-- The third-party check keeps every person's names in memory and rebuilds
-- them when the newest updated_at moves.
CREATE INDEX persons_updated_at ON persons (updated_at);
