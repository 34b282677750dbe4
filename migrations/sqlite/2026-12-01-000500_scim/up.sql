-- SCIM 2.0 provisioning (RFC 7643/7644). An account the identity provider
-- created carries its SCIM view here, verbatim as the provider last wrote it
-- (the account's own name, email and active flag are projected from it);
-- an account without a row is not the provider's and SCIM does not see it.
-- Deleting through SCIM removes the row and deactivates the account: its
-- feedback and audit history stay.
CREATE TABLE scim_users (
    user_id          TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    user_name        TEXT NOT NULL,
    user_name_lower  TEXT NOT NULL UNIQUE,
    external_id      TEXT,
    display_name     TEXT,
    given_name       TEXT,
    family_name      TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
-- Groups exist to carry membership, which maps to roles by configuration.
CREATE TABLE scim_groups (
    id                  TEXT PRIMARY KEY NOT NULL,
    display_name        TEXT NOT NULL,
    display_name_lower  TEXT NOT NULL UNIQUE,
    external_id         TEXT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE TABLE scim_group_members (
    group_id  TEXT NOT NULL REFERENCES scim_groups (id),
    user_id   TEXT NOT NULL REFERENCES scim_users (user_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);
