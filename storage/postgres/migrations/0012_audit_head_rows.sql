-- Every chain has its head row from the start (seq 0 and the genesis hash
-- while the chain is empty), so that an append locks the head row itself
-- (SELECT ... FOR UPDATE) instead of taking an advisory lock and reading the
-- chain's newest event: two round trips to the database per append, not five.
INSERT INTO audit_heads (chain, seq, hash)
    SELECT c, 0, '0000000000000000000000000000000000000000000000000000000000000000'
    FROM generate_series(0, 7) AS c
ON CONFLICT (chain) DO NOTHING;
