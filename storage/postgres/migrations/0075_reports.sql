-- Reports (#14): what the compliance reports need, recorded from now on.
--
-- 1. A note keeps its author by id and the author's teams when it was
--    written, so that late notes are counted by team and author (names are
--    not unique, and people move teams: a note counts for the team its author
--    was in). Notes written before this migration take their author's id
--    from their note.create audit event and the author's teams of today.
--    Neither ever changes afterwards.
-- 2. audit_checks: each verification of the audit log and each anchor
--    written (or failed), for the audit-integrity report. Plain facts (seq
--    numbers, counts, the checker's own message): no content.

ALTER TABLE notes ADD COLUMN author_id text NOT NULL DEFAULT '';
ALTER TABLE notes ADD COLUMN author_team_ids uuid[] NOT NULL DEFAULT '{}';

UPDATE notes n SET author_id = e.actor_id
  FROM audit_events e
 WHERE e.action = 'note.create' AND e.target_type = 'note' AND e.target_id = n.id::text
   AND e.actor_id <> '' AND n.author_id = '' AND NOT n.imported;

UPDATE notes n SET author_team_ids = t.ids
  FROM (SELECT m.user_id::text AS uid, array_agg(m.team_id ORDER BY m.team_id) AS ids FROM team_members m GROUP BY m.user_id) t
 WHERE t.uid = n.author_id;

CREATE FUNCTION notes_author_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.author_id <> OLD.author_id OR NEW.author_team_ids <> OLD.author_team_ids THEN
        RAISE EXCEPTION 'case notes are never changed; record a correction as a new note'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notes_author_guard BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION notes_author_guard();

CREATE INDEX notes_recorded ON notes (recorded_at) WHERE NOT imported;
-- Refusals and break-glass uses are found by action and time.
CREATE INDEX audit_events_action_at ON audit_events (action, at);

CREATE TABLE audit_checks (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('verify','anchor')),
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    ok            boolean NOT NULL,
    events        bigint,
    first_bad_seq bigint,
    problem       text NOT NULL DEFAULT '',
    anchored_at   timestamptz,
    anchors       int,
    anchor_key    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_checks_at ON audit_checks (at);

-- The checks are a record too: kept, never changed or removed (the service's
-- role could otherwise hide a failed verification).
CREATE FUNCTION audit_checks_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checks is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checks_no_update BEFORE UPDATE OR DELETE ON audit_checks
    FOR EACH ROW EXECUTE FUNCTION audit_checks_append_only();
CREATE TRIGGER audit_checks_no_truncate BEFORE TRUNCATE ON audit_checks
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checks_append_only();
