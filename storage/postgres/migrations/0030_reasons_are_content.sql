-- Reasons are content. A correction's reason and an amendment's reason are
-- written by a person about a person and are read with the note, so a
-- removal or destruction clears them with the bodies. The triggers allow
-- exactly that: a reason may become NULL once (and only once) the note is
-- removed or destroyed; it is never changed otherwise, never put back.

ALTER TABLE notes DROP CONSTRAINT notes_check;
ALTER TABLE notes ADD CONSTRAINT notes_correction_has_reason
    CHECK (corrects_note_id IS NULL OR correction_reason IS NOT NULL OR status <> 'active');

CREATE OR REPLACE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'case notes are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.type <> OLD.type OR NEW.occurred_at <> OLD.occurred_at
       OR NEW.recorded_at <> OLD.recorded_at OR NEW.author <> OLD.author
       OR NEW.corrects_note_id IS DISTINCT FROM OLD.corrects_note_id
       OR NEW.imported <> OLD.imported OR NEW.legacy_ref IS DISTINCT FROM OLD.legacy_ref THEN
        RAISE EXCEPTION 'case notes are never changed; record a correction as a new note'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.correction_reason IS DISTINCT FROM OLD.correction_reason
       AND NOT (NEW.correction_reason IS NULL AND NEW.status <> 'active') THEN
        RAISE EXCEPTION 'a correction''s reason is never changed; it is cleared only when the note is removed or destroyed'
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
    -- UPDATE: only destruction of the body, and of the reason, of a removed
    -- or destroyed note.
    IF NEW.body IS NOT NULL OR n.status = 'active'
       OR NEW.note_id <> OLD.note_id OR NEW.version <> OLD.version OR NEW.body_sha256 <> OLD.body_sha256
       OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by
       OR (NEW.reason IS DISTINCT FROM OLD.reason AND NEW.reason IS NOT NULL)
       OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN
        RAISE EXCEPTION 'case note bodies are never changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
