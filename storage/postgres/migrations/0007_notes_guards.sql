-- Case notes: the database's refusals, tightened (0003 set out the paths).
--
-- 1. recorded_at is the server's clock for every note that is not imported,
--    whatever an INSERT says; an imported note keeps its source's recorded_at
--    and must carry its legacy reference.
-- 2. An amendment (version > 1) must be the next version of an active visit
--    note that a reopen ticket holds open, must say why, and records that
--    ticket. The note's current_version moves only while it is reopened, and
--    only to a version that exists.
-- 3. A removed note names its removal ticket and when; a destroyed note when.
-- 4. TRUNCATE, which row triggers do not see, is refused on both tables.

CREATE FUNCTION notes_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.imported THEN
        IF NEW.legacy_ref IS NULL THEN
            RAISE EXCEPTION 'an imported note must carry its legacy reference' USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        NEW.recorded_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notes_insert_guard BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_insert_guard();

CREATE OR REPLACE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'case notes are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.type <> OLD.type OR NEW.occurred_at <> OLD.occurred_at
       OR NEW.recorded_at <> OLD.recorded_at OR NEW.author <> OLD.author
       OR NEW.corrects_note_id IS DISTINCT FROM OLD.corrects_note_id
       OR NEW.correction_reason IS DISTINCT FROM OLD.correction_reason
       OR NEW.imported <> OLD.imported OR NEW.legacy_ref IS DISTINCT FROM OLD.legacy_ref THEN
        RAISE EXCEPTION 'case notes are never changed; record a correction as a new note'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status <> 'active' AND NEW.status = 'active' THEN
        RAISE EXCEPTION 'a removed or destroyed note cannot be restored' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.current_version <> OLD.current_version THEN
        IF NEW.current_version < OLD.current_version THEN
            RAISE EXCEPTION 'note versions only move forward' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.reopened_by_ticket IS NULL THEN
            RAISE EXCEPTION 'a note''s version moves only while an ICT reopen ticket holds it open'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM note_versions WHERE note_id = NEW.id AND version = NEW.current_version) THEN
            RAISE EXCEPTION 'note version % does not exist', NEW.current_version USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION note_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n notes%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'note versions are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO n FROM notes WHERE id = NEW.note_id;
    IF TG_OP = 'INSERT' THEN
        IF NEW.version > 1 THEN
            IF n.reopened_by_ticket IS NULL THEN
                RAISE EXCEPTION 'a note can be amended only while an ICT reopen ticket holds it open'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF n.status <> 'active' THEN
                RAISE EXCEPTION 'a removed or destroyed note cannot be amended' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.version <> n.current_version + 1 THEN
                RAISE EXCEPTION 'an amendment is version %, not %', n.current_version + 1, NEW.version
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF coalesce(btrim(NEW.reason), '') = '' THEN
                RAISE EXCEPTION 'an amendment must say why' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.ticket_id IS NULL THEN
                NEW.ticket_id := n.reopened_by_ticket;
            ELSIF NEW.ticket_id <> n.reopened_by_ticket THEN
                RAISE EXCEPTION 'an amendment records the reopen ticket that holds the note open'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    -- UPDATE: only destruction of the body of a removed or destroyed note.
    IF NEW.body IS NOT NULL OR n.status = 'active'
       OR NEW.note_id <> OLD.note_id OR NEW.version <> OLD.version OR NEW.body_sha256 <> OLD.body_sha256
       OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by
       OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN
        RAISE EXCEPTION 'case note bodies are never changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

ALTER TABLE notes ADD CONSTRAINT notes_removed_tombstone
    CHECK (status <> 'removed' OR (removed_at IS NOT NULL AND removal_ticket_id IS NOT NULL));
ALTER TABLE notes ADD CONSTRAINT notes_destroyed_tombstone
    CHECK (status <> 'destroyed' OR destroyed_at IS NOT NULL);

CREATE FUNCTION notes_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case notes are never deleted' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER notes_no_truncate BEFORE TRUNCATE ON notes FOR EACH STATEMENT EXECUTE FUNCTION notes_no_truncate();
CREATE TRIGGER note_versions_no_truncate BEFORE TRUNCATE ON note_versions FOR EACH STATEMENT EXECUTE FUNCTION notes_no_truncate();
