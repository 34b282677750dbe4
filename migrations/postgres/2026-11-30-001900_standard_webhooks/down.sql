-- Secrets made or rotated since the up migration are standard ones; the
-- code before it signs with their text as the key, which their receivers
-- will not verify: rotate them again after going back.
UPDATE webhooks SET secret = substr(secret, 8) WHERE secret LIKE 'legacy:%';
ALTER TABLE webhooks DROP COLUMN secret_rotated_at;
ALTER TABLE webhooks DROP COLUMN previous_secret_expires_at;
ALTER TABLE webhooks DROP COLUMN previous_secret;
