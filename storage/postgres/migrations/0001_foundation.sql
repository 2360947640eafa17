-- Foundation: tokens, persons, involvements and the tamper-evident audit log.

CREATE TABLE tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('practitioner','manager','ict','records_officer','auditor','admin')),
    secret_hash bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Identifying fields are nullable only so that retention can destroy them
-- once nothing of the record remains; the API requires them on create.
CREATE TABLE persons (
    id                    uuid PRIMARY KEY,
    external_ref          text NOT NULL UNIQUE,
    given_name            text,
    family_name           text,
    date_of_birth         date,
    date_of_death         date,
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active','destroyed')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    identity_destroyed_at timestamptz,
    destruction_run_id    uuid,
    CHECK (date_of_death IS NULL OR date_of_birth IS NULL OR date_of_death >= date_of_birth)
);

CREATE TABLE involvements (
    id         uuid PRIMARY KEY,
    person_id  uuid NOT NULL REFERENCES persons(id),
    kind       text NOT NULL CHECK (kind IN ('early_help','child_in_need','child_protection','looked_after',
                                             'care_leaver','adoption','adoption_no_order','lado')),
    started_on date NOT NULL,
    ended_on   date,
    outcome    text CHECK (outcome IN ('substantiated','unsubstantiated','unfounded')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
CREATE INDEX involvements_person ON involvements (person_id);

-- The audit log. details holds the exact JSON text that was hashed. Rows are
-- never updated or deleted: the triggers below refuse it for every role.
CREATE TABLE audit_events (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    person_id   uuid,
    details     text NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_events_person ON audit_events (person_id, seq) WHERE person_id IS NOT NULL;
CREATE INDEX audit_events_at ON audit_events (at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The transactional outbox: a row is written in the same transaction as the
-- change that needs background work; a relay enqueues it to Redis.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    task_type   text NOT NULL,
    task_id     text NOT NULL UNIQUE,
    payload     jsonb NOT NULL,
    queue       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    enqueued_at timestamptz,
    attempts    int NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE enqueued_at IS NULL;
