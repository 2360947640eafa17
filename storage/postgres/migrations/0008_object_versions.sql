-- The version id S3 gave each original when it was written. Keys are never
-- written twice, so deleting that version removes the object entirely, and a
-- retention run need not list versions key by key.
ALTER TABLE documents ADD COLUMN object_version text NOT NULL DEFAULT '';
