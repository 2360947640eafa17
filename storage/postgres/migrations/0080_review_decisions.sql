-- Review decisions (issue 14). A records officer decides on a record past
-- its date that is kept: keep it until a date, with a reason, or return it
-- to the next disposal list. The newest decision on a person stands; the
-- reason is the officer's text about the person, cleared when the record is
-- destroyed (the audit log keeps only its digest).
CREATE TABLE retention_review_decisions (
    seq           bigserial PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    person_id     uuid NOT NULL REFERENCES persons(id),
    decision      text NOT NULL CHECK (decision IN ('keep','return')),
    keep_until    date,
    reason        text NOT NULL,
    decided_by    text NOT NULL,
    decided_by_id text NOT NULL CHECK (decided_by_id <> ''),
    decided_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((decision = 'keep') = (keep_until IS NOT NULL))
);
CREATE INDEX retention_review_decisions_person ON retention_review_decisions (person_id, seq DESC);

-- The decision that stands on each person: their newest.
CREATE VIEW retention_review_standing AS
    SELECT DISTINCT ON (person_id) person_id, decision, keep_until, decided_at, decided_by
    FROM retention_review_decisions ORDER BY person_id, seq DESC;

-- The auditors' page filters the log by actor (name, or user or token id)
-- and by action, and finds the last verification of the chain.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, seq) WHERE actor_id <> '';
CREATE INDEX audit_events_action ON audit_events (action, seq);
