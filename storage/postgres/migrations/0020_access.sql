-- Teams and restricted records (issue #11). A restricted record is open only
-- to its named teams and users (user_ids may hold token ids too), its owner,
-- and anyone who used break-glass on it within the hour. The free-text
-- reasons live here, not in the append-only audit log.

CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name ON teams (lower(name));

-- user_id is a user's id (users arrive in migration 0016-0019; the foreign key
-- to them is added in a later migration of this range).
CREATE TABLE team_members (
    team_id  uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id  uuid NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- One row per restriction ever placed; the live one has ended_at NULL. A
-- replacement ends the old row (replaced_by) and inserts a new one.
CREATE TABLE restrictions (
    id          uuid PRIMARY KEY,
    person_id   uuid NOT NULL REFERENCES persons(id),
    reason      text NOT NULL CHECK (reason <> ''),
    team_ids    uuid[] NOT NULL DEFAULT '{}',
    user_ids    uuid[] NOT NULL DEFAULT '{}',
    owner_id    uuid,
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    ended_by    text,
    end_reason  text,
    replaced_by uuid REFERENCES restrictions(id)
);
CREATE UNIQUE INDEX restrictions_live ON restrictions (person_id) WHERE ended_at IS NULL;

CREATE TABLE break_glass (
    id             uuid PRIMARY KEY,
    person_id      uuid NOT NULL REFERENCES persons(id),
    restriction_id uuid NOT NULL REFERENCES restrictions(id),
    actor_id       uuid NOT NULL,
    actor          text NOT NULL,
    reason         text NOT NULL CHECK (reason <> ''),
    opened_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX break_glass_person ON break_glass (person_id, actor_id, expires_at);
