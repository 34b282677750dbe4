ALTER TABLE users DROP COLUMN session_epoch;
ALTER TABLE idempotency_keys DROP COLUMN reread_path;
ALTER TABLE idempotency_keys DROP COLUMN authz;
