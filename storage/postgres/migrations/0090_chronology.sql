-- The chronology: a person's notes and documents together, in the order
-- things happened, read a page at a time by one keyset query over both.
--
-- A document's place in it is when its event happened: an email's Date
-- header, or when the file was filed. It was worked out from the email's
-- JSON on every read; it is now kept as documents.occurred_at, set when the
-- row is made (whatever path makes it) and kept when an email's headers are
-- cleared by a removal, so that a tombstone stays where the email was.

-- email_date is an email's Date header as kept in documents.email, or NULL
-- when it has none, or Go's zero time, or one PostgreSQL cannot hold.
CREATE FUNCTION email_date(email jsonb) RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    d timestamptz;
BEGIN
    IF email IS NULL OR jsonb_typeof(email->'date') IS DISTINCT FROM 'string' THEN
        RETURN NULL;
    END IF;
    d := (email->>'date')::timestamptz;
    IF d = '0001-01-01 00:00:00+00' THEN
        RETURN NULL;
    END IF;
    RETURN d;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

ALTER TABLE documents ADD COLUMN occurred_at timestamptz;
UPDATE documents SET occurred_at = coalesce(email_date(email), created_at);
ALTER TABLE documents ALTER COLUMN occurred_at SET NOT NULL;

CREATE FUNCTION documents_occurred_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.occurred_at IS NULL THEN
        NEW.occurred_at := coalesce(email_date(NEW.email), NEW.created_at, now());
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER documents_occurred_at BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION documents_occurred_at();

-- One index per kind in the chronology's order, so that a page reads only
-- its own rows from each, either way round.
CREATE INDEX documents_chronology ON documents (person_id, occurred_at, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX notes_chronology ON notes (person_id, occurred_at, recorded_at, id);
DROP INDEX notes_person;
