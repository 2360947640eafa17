-- Case notes: legal records that are never changed. The body lives in
-- note_versions; the triggers below allow only the two controlled paths:
-- an amendment of a reopened visit note (a new version row) and a removal or
-- destruction (status first, then bodies set to NULL). Nothing is deleted.

CREATE TABLE notes (
    id                 uuid PRIMARY KEY,
    person_id          uuid NOT NULL REFERENCES persons(id),
    type               text NOT NULL,
    occurred_at        timestamptz NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    author             text NOT NULL,
    corrects_note_id   uuid REFERENCES notes(id),
    correction_reason  text,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active','removed','destroyed')),
    imported           boolean NOT NULL DEFAULT false,
    legacy_ref         text UNIQUE,
    current_version    int NOT NULL DEFAULT 1,
    reopened_by_ticket uuid,            -- set while an ICT reopen ticket holds a visit note open
    removed_at         timestamptz,
    removal_ticket_id  uuid,
    destroyed_at       timestamptz,
    destruction_run_id uuid,
    CHECK (corrects_note_id IS NULL OR correction_reason IS NOT NULL),
    CHECK (reopened_by_ticket IS NULL OR type IN ('cla_placement_visit','cp_plan_visit','cin_visit','iro_visit_to_child'))
);
CREATE INDEX notes_person ON notes (person_id, occurred_at, recorded_at);
CREATE INDEX notes_corrects ON notes (corrects_note_id) WHERE corrects_note_id IS NOT NULL;

CREATE TABLE note_versions (
    note_id     uuid NOT NULL REFERENCES notes(id),
    version     int NOT NULL CHECK (version >= 1),
    body        text,
    body_sha256 text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text NOT NULL,
    reason      text,
    ticket_id   uuid,
    PRIMARY KEY (note_id, version)
);
CREATE INDEX note_versions_fts ON note_versions USING gin (to_tsvector('english', coalesce(body, '')));

CREATE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF NEW.current_version < OLD.current_version THEN
        RAISE EXCEPTION 'note versions only move forward' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notes_guard BEFORE UPDATE OR DELETE ON notes FOR EACH ROW EXECUTE FUNCTION notes_guard();

CREATE FUNCTION note_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n notes%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'note versions are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO n FROM notes WHERE id = NEW.note_id;
    IF TG_OP = 'INSERT' THEN
        IF NEW.version > 1 AND n.reopened_by_ticket IS NULL THEN
            RAISE EXCEPTION 'a note can be amended only while an ICT reopen ticket holds it open'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    -- UPDATE: only destruction of the body of a removed or destroyed note.
    IF NEW.body IS NOT NULL OR n.status = 'active'
       OR NEW.note_id <> OLD.note_id OR NEW.version <> OLD.version OR NEW.body_sha256 <> OLD.body_sha256
       OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by THEN
        RAISE EXCEPTION 'case note bodies are never changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER note_versions_guard BEFORE INSERT OR UPDATE OR DELETE ON note_versions
    FOR EACH ROW EXECUTE FUNCTION note_versions_guard();
