-- The candidate's name is kept in this one field; subject and bodies carry
-- a placeholder for it (notify::templates::CANDIDATE), filled at send time,
-- so erasing the candidate rewrites exactly this field.
ALTER TABLE outbox ADD COLUMN candidate_name TEXT;
