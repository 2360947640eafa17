-- ICT tickets: removal, re-index and reopen requests.

CREATE TABLE tickets (
    id                      uuid PRIMARY KEY,
    kind                    text NOT NULL CHECK (kind IN ('removal','reindex','reopen')),
    state                   text NOT NULL DEFAULT 'open' CHECK (state IN ('open','approved','done','failed','rejected')),
    target_type             text NOT NULL CHECK (target_type IN ('note','document')),
    target_id               uuid NOT NULL,
    person_id               uuid NOT NULL REFERENCES persons(id),
    to_person_id            uuid REFERENCES persons(id),
    reason                  text NOT NULL,
    replacement_note_id     uuid REFERENCES notes(id),
    replacement_document_id uuid REFERENCES documents(id),
    raised_by               text NOT NULL,
    raised_at               timestamptz NOT NULL DEFAULT now(),
    decided_by              text,
    decided_at              timestamptz,
    decision_reason         text,
    completed_at            timestamptz,
    error                   text,
    source                  text NOT NULL DEFAULT 'api' CHECK (source IN ('api','scan')),
    CHECK (kind <> 'reindex' OR to_person_id IS NOT NULL)
);
CREATE INDEX tickets_state ON tickets (state, raised_at);
-- Never two live removal tickets for the same target.
CREATE UNIQUE INDEX tickets_one_removal ON tickets (target_type, target_id)
    WHERE kind = 'removal' AND state IN ('open','approved','done');
