DROP TABLE signin_counters;

CREATE TABLE login_throttle (
    email_lower       TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until      TIMESTAMP
);
