-- Identity (#11): tokens that end, users who sign in through the identity
-- provider, browser sessions kept server-side, sign-ins under way, and the
-- audit actor's id.

-- Every token ends. Tokens made before this migration get 90 days from now,
-- so that an upgrade does not lock anyone out at once.
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;
UPDATE tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE tokens ADD COLUMN last_used_at timestamptz;

CREATE TABLE users (
    id           uuid PRIMARY KEY,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    name         text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    role         text NOT NULL DEFAULT '' CHECK (role IN ('','practitioner','manager','ict','records_officer','auditor','admin')),
    disabled     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX users_name ON users (lower(name), id);

-- The browser holds a random secret; only its hash is kept. A session is a
-- user's (single sign-on) or a token's (the sign-in form without a provider).
CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    secret_hash  bytea NOT NULL UNIQUE,
    user_id      uuid REFERENCES users(id) ON DELETE CASCADE,
    token_id     uuid REFERENCES tokens(id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (token_id IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A sign-in under way, from the redirect to the provider until its callback
-- takes it (once).
CREATE TABLE login_requests (
    state_hash    bytea PRIMARY KEY,
    browser_hash  bytea NOT NULL,
    nonce         text NOT NULL,
    code_verifier text NOT NULL,
    next_path     text NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX login_requests_expires ON login_requests (expires_at);

-- Who acted, by id as well as by name. Part of the hash of events that have
-- one; events from before have none and hash as they always did.
ALTER TABLE audit_events ADD COLUMN actor_id text NOT NULL DEFAULT '';
