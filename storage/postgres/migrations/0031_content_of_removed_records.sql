-- What removals and destructions before 0030 left behind: filenames of
-- removed and destroyed documents (senders chose them), and the reasons of
-- removed and destroyed notes. The triggers of 0030 allow clearing a
-- reason once the note is not active. (Typed reasons that reached the
-- append-only audit log before this version stay there: the log is never
-- changed.)

UPDATE documents SET filename = 'removed-' || id::text
    WHERE status <> 'active' AND filename <> 'removed-' || id::text;
UPDATE notes SET correction_reason = NULL WHERE status <> 'active' AND correction_reason IS NOT NULL;
UPDATE note_versions v SET reason = NULL FROM notes n
    WHERE n.id = v.note_id AND n.status <> 'active' AND v.reason IS NOT NULL;

-- Typed text about persons whose records were destroyed.
UPDATE tickets t SET reason = '', decision_reason = NULL, error = NULL
    WHERE EXISTS (SELECT 1 FROM persons p WHERE p.status = 'destroyed' AND (p.id = t.person_id OR p.id = t.to_person_id))
    AND (t.reason <> '' OR t.decision_reason IS NOT NULL OR t.error IS NOT NULL);
UPDATE holds h SET name = 'hold ' || h.id::text, reason = '', release_reason = NULL
    WHERE h.released_at IS NOT NULL AND NOT h.all_records
    AND EXISTS (SELECT 1 FROM hold_persons hp WHERE hp.hold_id = h.id)
    AND NOT EXISTS (SELECT 1 FROM hold_persons hp JOIN persons p ON p.id = hp.person_id
        WHERE hp.hold_id = h.id AND p.status = 'active');
