-- Disposal approval (issue 12, point 1). A real run stops at
-- awaiting_approval with its disposal list; records officers exclude items
-- and approve (as many different people as configured) or reject; a list not
-- approved in time expires. Only an approved run destroys.
ALTER TABLE retention_runs DROP CONSTRAINT retention_runs_state_check;
ALTER TABLE retention_runs ADD CONSTRAINT retention_runs_state_check CHECK (state IN
    ('queued','running','awaiting_approval','approved','rejected','expired','done','failed'));
-- A list awaiting approval (or approved and not yet carried out) is the one
-- live real run: the nightly sweep does not pile up a second list.
DROP INDEX retention_runs_one_live;
CREATE UNIQUE INDEX retention_runs_one_live ON retention_runs ((true))
    WHERE NOT dry_run AND state IN ('queued','running','awaiting_approval','approved');
ALTER TABLE retention_runs
    ADD COLUMN approvals_required int NOT NULL DEFAULT 1,
    ADD COLUMN planned_at timestamptz,
    ADD COLUMN awaiting_since timestamptz,
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN rejected_by text,
    ADD COLUMN reject_reason text;
CREATE INDEX retention_runs_awaiting ON retention_runs (expires_at) WHERE state = 'awaiting_approval';

-- One row per person who approved a run's list; two-person rules compare
-- approver_id (a user's or token's id).
CREATE TABLE retention_run_approvals (
    run_id        uuid NOT NULL REFERENCES retention_runs(id),
    approver_id   text NOT NULL CHECK (approver_id <> ''),
    approver_name text NOT NULL,
    approved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, approver_id)
);

-- A record a records officer took out of a disposal list: in the review
-- queue until review_on. The reason is the officer's text; it is cleared
-- when the record is destroyed.
CREATE TABLE retention_exclusions (
    id             uuid PRIMARY KEY,
    run_id         uuid NOT NULL REFERENCES retention_runs(id),
    person_id      uuid NOT NULL REFERENCES persons(id),
    reason         text NOT NULL,
    review_on      date NOT NULL,
    excluded_by    text NOT NULL,
    excluded_by_id text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retention_exclusions_person ON retention_exclusions (person_id, review_on);

ALTER TABLE retention_run_items ADD COLUMN trigger_date date;

-- action: what the schedule says at the date (destroy, or review by a
-- person). inputs_changed_at: the settle clock, set when a date of birth or
-- death or an involvement changes. schedule_changed_at: set when a new
-- schedule moved the disposal date earlier.
ALTER TABLE person_retention
    ADD COLUMN action text NOT NULL DEFAULT 'destroy' CHECK (action IN ('destroy','review')),
    ADD COLUMN inputs_changed_at timestamptz,
    ADD COLUMN schedule_changed_at timestamptz;

-- Every schedule the service has started with, by the sha256 of its file;
-- the newest row is the schedule in force.
CREATE TABLE retention_schedules (
    seq        bigserial PRIMARY KEY,
    sha256     text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    persons    int NOT NULL,
    newly_due  int NOT NULL,
    confirmed  boolean NOT NULL
);

-- Runs planned before this migration: their planning time is when they started.
UPDATE retention_runs SET planned_at = coalesce(started_at, requested_at) WHERE planned AND planned_at IS NULL;
