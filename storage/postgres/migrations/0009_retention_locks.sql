-- Retention: review counts items past their date that cannot be destroyed
-- yet; the certificate's hash is kept beside it. Documents record which legal
-- hold state their object actually carries, so that the holds in the
-- database (authoritative) and the object store are brought into line by a
-- task, and a run can lift a stale legal hold before destroying.

ALTER TABLE retention_runs ADD COLUMN review int NOT NULL DEFAULT 0;
ALTER TABLE retention_runs ADD COLUMN certificate_sha256 text;

ALTER TABLE documents ADD COLUMN legal_hold_applied boolean NOT NULL DEFAULT false;
CREATE INDEX documents_hold_pending ON documents (id) WHERE legal_hold <> legal_hold_applied;

CREATE INDEX retention_run_items_person ON retention_run_items (run_id, person_id);
CREATE INDEX documents_active_person ON documents (person_id) WHERE status = 'active';
CREATE INDEX notes_active_person ON notes (person_id) WHERE status = 'active';
