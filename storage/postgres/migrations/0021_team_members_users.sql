-- Team members are users (migration 0016 made the users table): a member
-- who is not a user cannot be added, and a user's removal removes them from
-- their teams. Restrictions' user_ids may also name tokens, so they are
-- checked when a restriction is placed (storage), not by a foreign key.
DELETE FROM team_members m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id);
ALTER TABLE team_members ADD CONSTRAINT team_members_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
