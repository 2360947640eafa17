-- A run plans its items once; the flag lets an interrupted run resume
-- without planning again.
ALTER TABLE retention_runs ADD COLUMN planned boolean NOT NULL DEFAULT false;
CREATE INDEX retention_run_items_state ON retention_run_items (run_id, item_type, state);
