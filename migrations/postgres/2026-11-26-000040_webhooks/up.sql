-- Webhook subscriptions for HR tooling. The secret signs deliveries, so it
-- is kept as given (not hashed) and never returned after creation.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY NOT NULL,
    url         TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP
);
CREATE INDEX webhooks_created ON webhooks (created_at, id);
