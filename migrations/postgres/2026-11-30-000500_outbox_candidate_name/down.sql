ALTER TABLE outbox DROP COLUMN candidate_name;
