-- The audit log as several hash chains. One chain made every audited write
-- wait for the one before it to commit (its lock is held to commit), so
-- commits could not share a disk flush. Each transaction now appends to one
-- of eight chains; each chain links event to event as before, and
-- audit_heads records each chain's newest event, so that deleting the newest
-- events of a chain is detected too. seq stays one global order.
ALTER TABLE audit_events ADD COLUMN chain smallint NOT NULL DEFAULT 0;
CREATE INDEX audit_events_chain ON audit_events (chain, seq);
CREATE SEQUENCE audit_events_seq;
SELECT setval('audit_events_seq', coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false);
CREATE TABLE audit_heads (
    chain smallint PRIMARY KEY,
    seq   bigint NOT NULL,
    hash  text NOT NULL
);
INSERT INTO audit_heads (chain, seq, hash)
    SELECT 0, seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1;
