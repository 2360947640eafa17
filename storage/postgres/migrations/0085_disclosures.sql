-- Disclosures: a reviewed release of a person's record (a subject access
-- request, a court's order). The reviewer's redactions are offsets into the
-- text the disclosure shows for an item, never the text; withholdings leave
-- whole documents out; suggestion decisions record what the reviewer
-- accepted or rejected. The bundle is built from these by a worker.
CREATE TABLE disclosures (
    id              uuid PRIMARY KEY,
    person_id       uuid NOT NULL REFERENCES persons(id),
    purpose         text NOT NULL CHECK (purpose IN ('subject_access','court','other')),
    requester       text NOT NULL,
    received_on     date NOT NULL,
    due_on          date NOT NULL,
    state           text NOT NULL DEFAULT 'draft'
                    CHECK (state IN ('draft','awaiting_approval','finalising','ready','failed','withdrawn')),
    created_by      text NOT NULL,
    created_by_id   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    submitted_by    text,
    submitted_by_id text,
    submitted_at    timestamptz,
    approvals       jsonb NOT NULL DEFAULT '[]',
    reviewed        jsonb NOT NULL DEFAULT '[]',
    finished_at     timestamptz,
    object_key      text,
    size            bigint,
    sha256          text,
    error           text
);
CREATE INDEX disclosures_person ON disclosures (person_id);
CREATE INDEX disclosures_open_due ON disclosures (due_on) WHERE state NOT IN ('ready','withdrawn');

CREATE TABLE disclosure_redactions (
    id            uuid PRIMARY KEY,
    disclosure_id uuid NOT NULL REFERENCES disclosures(id),
    target_type   text NOT NULL CHECK (target_type IN ('note','document')),
    target_id     uuid NOT NULL,
    start_at      integer NOT NULL CHECK (start_at >= 0),
    end_at        integer NOT NULL,
    reason        text NOT NULL,
    text_sha256   text NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (end_at > start_at)
);
CREATE INDEX disclosure_redactions_of ON disclosure_redactions (disclosure_id);

CREATE TABLE disclosure_withholdings (
    id            uuid PRIMARY KEY,
    disclosure_id uuid NOT NULL REFERENCES disclosures(id),
    document_id   uuid NOT NULL REFERENCES documents(id),
    reason        text NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (disclosure_id, document_id)
);

CREATE TABLE disclosure_suggestion_decisions (
    disclosure_id uuid NOT NULL REFERENCES disclosures(id),
    target_type   text NOT NULL CHECK (target_type IN ('note','document')),
    target_id     uuid NOT NULL,
    start_at      integer NOT NULL,
    end_at        integer NOT NULL,
    kind          text NOT NULL,
    decision      text NOT NULL CHECK (decision IN ('accept','reject')),
    redaction_id  uuid,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (disclosure_id, target_type, target_id, start_at, end_at)
);
