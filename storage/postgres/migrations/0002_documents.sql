-- Documents: metadata of originals kept byte-exact in the object store.

CREATE TABLE documents (
    id                    uuid PRIMARY KEY,
    person_id             uuid NOT NULL REFERENCES persons(id),
    kind                  text NOT NULL CHECK (kind IN ('email','file','attachment')),
    parent_id             uuid REFERENCES documents(id),
    filename              text NOT NULL,
    title                 text NOT NULL DEFAULT '',
    category              text NOT NULL CHECK (category IN ('correspondence','letter','report','assessment','other')),
    content_type          text NOT NULL,
    declared_content_type text NOT NULL DEFAULT '',
    size                  bigint NOT NULL CHECK (size >= 0),
    sha256                text NOT NULL,
    object_key            text NOT NULL UNIQUE,
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active','removed','destroyed')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            text NOT NULL,
    parse_warnings        jsonb NOT NULL DEFAULT '[]',
    email                 jsonb,
    body_text             text,
    idempotency_key       text,
    retain_until          date,          -- the Object Lock retain-until last set on the object
    legal_hold            boolean NOT NULL DEFAULT false,
    removed_at            timestamptz,
    removal_ticket_id     uuid,
    destroyed_at          timestamptz,
    destruction_run_id    uuid
);
CREATE INDEX documents_person ON documents (person_id, created_at DESC);
CREATE INDEX documents_parent ON documents (parent_id) WHERE parent_id IS NOT NULL;
-- One active copy of the same bytes per person (top-level uploads only).
CREATE UNIQUE INDEX documents_dedup ON documents (person_id, sha256) WHERE parent_id IS NULL AND status = 'active';
CREATE UNIQUE INDEX documents_idempotency ON documents (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
