-- Never two live re-index or reopen tickets of the same kind for the same
-- target: a second one would move the record again or fight over the
-- amendment window. (Removal has its own index in 0004.)
CREATE UNIQUE INDEX tickets_one_live_change ON tickets (target_type, target_id, kind)
    WHERE kind IN ('reindex','reopen') AND state IN ('open','approved');
-- The service desk's lists by person and by target.
CREATE INDEX tickets_person ON tickets (person_id, id);
CREATE INDEX tickets_target ON tickets (target_id);
