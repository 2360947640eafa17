-- Relationships between persons' records, kept once and shown from both sides.
CREATE TABLE relationships (
    id         uuid PRIMARY KEY,
    person_id  uuid NOT NULL REFERENCES persons(id),
    related_id uuid NOT NULL REFERENCES persons(id),
    kind       text NOT NULL CHECK (kind IN ('parent','child','carer','cared_for','sibling','other_relative','other')),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    CHECK (person_id <> related_id)
);
-- One relationship between two persons, whichever side recorded it.
CREATE UNIQUE INDEX relationships_pair ON relationships (least(person_id, related_id), greatest(person_id, related_id));
CREATE INDEX relationships_related ON relationships (related_id);
CREATE INDEX relationships_person ON relationships (person_id);
