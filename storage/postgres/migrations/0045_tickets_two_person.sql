-- No one acts alone on what cannot be undone: a ticket is approved by someone
-- other than who raised it, compared by the actor's id (a user's or token's id;
-- names are not unique), and a removal raised by ICT needs a second ICT person.
-- Tickets raised before this migration have no raiser id: they are compared by
-- name, which refuses more, never less.
ALTER TABLE tickets ADD COLUMN raised_by_id text;
ALTER TABLE tickets ADD COLUMN raised_by_role text;
ALTER TABLE tickets ADD COLUMN decided_by_id text;
