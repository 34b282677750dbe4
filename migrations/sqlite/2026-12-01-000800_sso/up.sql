-- Single sign-on with OpenID Connect.
--
-- An account signs in through the configured issuer as the identity the
-- issuer names by its subject (`sub`). The link is made once, by a verified
-- email matching the account (or when just-in-time creation makes the
-- account); from then on only the subject counts, whatever the email says.
CREATE TABLE sso_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    linked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);
-- A sign-in on its way through the provider: found by the hash of its
-- `state`, taken (deleted) by the callback, dead after `expires_at`. The
-- nonce and the PKCE verifier never leave the server. A browser sign-in is
-- bound to the browser that started it: the hash of the cookie value set
-- then (`browser_hash`), which its callback must bring back (no login
-- CSRF: a callback URL of someone else's sign-in fails in your browser).
CREATE TABLE sso_logins (
    state_hash     TEXT PRIMARY KEY NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    client         TEXT NOT NULL,
    browser_hash   TEXT,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL
);
-- The one-time code a finished sign-in hands to its browser or command
-- line, exchanged once for the service's own tokens; only its hash is kept.
CREATE TABLE sso_codes (
    code_hash   TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
