-- Sign-in counters (src/domain/signin.rs): one row per account × client
-- address, account, and client address. Each attempt bumps its rows with one
-- conditional upsert before the password is checked. Times are Unix
-- milliseconds. The per-email lock table it replaces is dropped: its counts
-- were read, then written, and lost under concurrency.
DROP TABLE login_throttle;

CREATE TABLE signin_counters (
    key      TEXT PRIMARY KEY NOT NULL,
    attempts BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    next_at  BIGINT NOT NULL
);
