-- Standard Webhooks (standardwebhooks.com): secrets are `whsec_` + base64
-- of the key bytes, and a rotated secret keeps signing until its expiry.
--
-- Secrets created before this migration were used as HMAC keys as written
-- (their UTF-8 bytes), whatever their shape. They are marked `legacy:` so
-- their subscribers keep getting what they verify today (the old body and
-- the `X-BarRaiser-*` headers, beside the standard headers signed with the
-- same key) until an admin rotates the secret: the explicit re-key.
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at TIMESTAMP;
ALTER TABLE webhooks ADD COLUMN secret_rotated_at TIMESTAMP;
UPDATE webhooks SET secret = 'legacy:' || secret;
