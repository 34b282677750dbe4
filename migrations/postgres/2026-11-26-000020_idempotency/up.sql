-- Idempotency-Key records: the first response to a POST, kept for 24 hours
-- per (caller, key). `status` is NULL while that first request is in flight;
-- `locked_until` bounds how long such a claim blocks retries if its server
-- died. Only a SHA-256 of the request is kept, never the request itself.
CREATE TABLE idempotency_keys (
    caller           TEXT NOT NULL,
    key              TEXT NOT NULL,
    request_sha256   TEXT NOT NULL,
    status           INTEGER CHECK (status BETWEEN 100 AND 599),
    response_headers TEXT,
    response_body    TEXT,
    created_at       TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP NOT NULL,
    completed_at     TIMESTAMP,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
