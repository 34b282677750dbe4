-- Replays re-check the caller (issue 13). Stored answers from before may
-- hold service-token and webhook secrets or feedback content in clear, and
-- carry no snapshot of the caller's rights: none survives.
DELETE FROM idempotency_keys;
-- The caller's authorization when the key was claimed (role, token, scopes);
-- a replay under other rights runs again instead.
ALTER TABLE idempotency_keys ADD COLUMN authz TEXT;
-- Set for answers replayed by reading this path again with the caller's
-- current rights; nothing but the status is stored for them.
ALTER TABLE idempotency_keys ADD COLUMN reread_path TEXT;
-- Operators cannot silently become a participant (issue 13): an access
-- token carries the epoch it was issued in, and an operator's change to
-- someone's password or email moves the epoch on, so every session from
-- before ends at once.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
