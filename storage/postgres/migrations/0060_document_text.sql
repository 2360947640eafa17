-- The text of every document: an email's is parsed at upload; a file's or an
-- attachment's is extracted afterwards by the document:extract task (OCR for
-- images and scanned PDFs) into body_text, which removal and destruction
-- clear. text_state says where that stands: pending (queued), done, failed
-- (text_warning says why) or none (nothing to extract: no text in this kind
-- of file, or the content is gone). text_source says how the text was had.
ALTER TABLE documents
    ADD COLUMN text_state text NOT NULL DEFAULT 'pending' CHECK (text_state IN ('pending','done','failed','none')),
    ADD COLUMN text_source text CHECK (text_source IN ('parsed','extracted','ocr')),
    ADD COLUMN text_warning text,
    -- The extraction's upkeep: how many were started, when it was last
    -- queued and last started (a lease, so two workers never both run it).
    ADD COLUMN text_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN text_queued_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN text_started_at timestamptz;

-- Documents kept before this version: emails have their parsed text, removed
-- and destroyed ones have nothing, and the rest wait for the backfill
-- (casefile extract backfill; the periodic reconciliation queues
-- again what has waited long).
UPDATE documents SET text_state = CASE WHEN body_text IS NULL OR body_text = '' THEN 'none' ELSE 'done' END,
    text_source = CASE WHEN body_text IS NULL OR body_text = '' THEN NULL ELSE 'parsed' END
    WHERE kind = 'email' AND status = 'active';
UPDATE documents SET text_state = 'none' WHERE status <> 'active';

-- The backfill's and the reconciliation's look-up of what still waits.
CREATE INDEX documents_text_pending ON documents (text_queued_at) WHERE text_state = 'pending' AND status = 'active';
