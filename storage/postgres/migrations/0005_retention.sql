-- Retention: computed positions, holds, runs and their items.

CREATE TABLE person_retention (
    person_id       uuid PRIMARY KEY REFERENCES persons(id),
    record_class    text NOT NULL DEFAULT '',
    trigger         text NOT NULL DEFAULT '',
    trigger_date    date,
    disposal_due_on date,
    open            boolean NOT NULL DEFAULT false,
    reason          text NOT NULL DEFAULT '',
    computed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_retention_due ON person_retention (disposal_due_on) WHERE disposal_due_on IS NOT NULL;

CREATE TABLE holds (
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    reason         text NOT NULL,
    all_records    boolean NOT NULL DEFAULT false,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    released_at    timestamptz,
    released_by    text,
    release_reason text
);
CREATE TABLE hold_persons (
    hold_id   uuid NOT NULL REFERENCES holds(id),
    person_id uuid NOT NULL REFERENCES persons(id),
    PRIMARY KEY (hold_id, person_id)
);
CREATE INDEX hold_persons_person ON hold_persons (person_id);

CREATE TABLE retention_runs (
    id           uuid PRIMARY KEY,
    dry_run      boolean NOT NULL,
    as_of        date NOT NULL,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','failed')),
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    due          int NOT NULL DEFAULT 0,
    destroyed    int NOT NULL DEFAULT 0,
    held_back    int NOT NULL DEFAULT 0,
    certificate  jsonb,
    error        text
);
-- At most one real run in progress at once.
CREATE UNIQUE INDEX retention_runs_one_live ON retention_runs ((true)) WHERE NOT dry_run AND state IN ('queued','running');

CREATE TABLE retention_run_items (
    run_id          uuid NOT NULL REFERENCES retention_runs(id),
    item_type       text NOT NULL CHECK (item_type IN ('document','note','person')),
    item_id         uuid NOT NULL,
    person_id       uuid NOT NULL,
    record_class    text NOT NULL,
    sha256          text,
    disposal_due_on date,
    state           text NOT NULL CHECK (state IN ('due','held_back','review','destroyed')),
    why             text,
    destroyed_at    timestamptz,
    PRIMARY KEY (run_id, item_type, item_id)
);

CREATE TABLE exports (
    id           uuid PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES persons(id),
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','failed')),
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    object_key   text,
    size         bigint,
    sha256       text,
    audit_hash   text,
    error        text
);
