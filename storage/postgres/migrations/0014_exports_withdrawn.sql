-- A bundle holds copies of the record as it was. When a note or document is
-- removed by an ICT ticket (a pasted email, a third party's data), bundles of
-- that person that may hold it are withdrawn: their objects destroyed, the
-- row kept with why. object_key stays set until the object is gone, so that
-- a destruction that failed is tried again.
ALTER TABLE exports DROP CONSTRAINT exports_state_check;
ALTER TABLE exports ADD CONSTRAINT exports_state_check CHECK (state IN ('queued','running','done','failed','withdrawn'));
ALTER TABLE exports ADD COLUMN withdrawn_at timestamptz;
CREATE INDEX exports_withdrawn_objects ON exports (id) WHERE state = 'withdrawn' AND object_key IS NOT NULL;
