-- Disclosure bundles are copies of a person's record made for one request;
-- they are not kept for ever. A bundle older than CASEFILE_EXPORT_KEEP_DAYS
-- is expired: its object destroyed, the row kept with when and why.
ALTER TABLE exports DROP CONSTRAINT exports_state_check;
ALTER TABLE exports ADD CONSTRAINT exports_state_check CHECK (state IN ('queued','running','done','failed','withdrawn','expired'));
DROP INDEX exports_withdrawn_objects;
CREATE INDEX exports_retired_objects ON exports (id) WHERE state IN ('withdrawn', 'expired') AND object_key IS NOT NULL;
CREATE INDEX exports_done_finished ON exports (finished_at) WHERE state = 'done';
