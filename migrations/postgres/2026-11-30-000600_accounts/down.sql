ALTER TABLE idempotency_keys DROP COLUMN reread_path;
ALTER TABLE idempotency_keys DROP COLUMN authz;
