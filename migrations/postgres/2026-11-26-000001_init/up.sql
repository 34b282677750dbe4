-- bar-raiser schema. Kept identical in meaning to migrations/postgres; ids are
-- UUID text, times are UTC timestamps, enums are text with CHECK constraints.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY NOT NULL,
    email                TEXT NOT NULL,
    email_lower          TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('admin', 'recruiter', 'member')),
    bar_raiser_certified BOOLEAN NOT NULL DEFAULT FALSE,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    rotated_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE login_throttle (
    email_lower       TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until      TIMESTAMP
);

CREATE TABLE competencies (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    retired     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE candidates (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    email_lower TEXT UNIQUE,
    phone       TEXT,
    links       TEXT NOT NULL DEFAULT '[]',
    notes       TEXT,
    erased_at   TIMESTAMP,
    erased_by   TEXT REFERENCES users (id),
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX candidates_created ON candidates (created_at, id);

CREATE TABLE loops (
    id                   TEXT PRIMARY KEY NOT NULL,
    candidate_id         TEXT NOT NULL REFERENCES candidates (id),
    position             TEXT NOT NULL,
    level                TEXT NOT NULL,
    hiring_manager_id    TEXT NOT NULL REFERENCES users (id),
    bar_raiser_id        TEXT NOT NULL REFERENCES users (id),
    recruiter_id         TEXT NOT NULL REFERENCES users (id),
    feedback_due_hours   INTEGER NOT NULL CHECK (feedback_due_hours BETWEEN 1 AND 720),
    state                TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'debrief', 'pending_bar_raiser', 'decided', 'cancelled')),
    cancel_reason        TEXT,
    cancelled_at         TIMESTAMP,
    debrief_opened_at    TIMESTAMP,
    votes_revealed_at    TIMESTAMP,
    decision_outcome     TEXT CHECK (decision_outcome IN ('hire', 'no_hire')),
    decision_rationale   TEXT,
    decision_recycle     BOOLEAN,
    decided_by           TEXT REFERENCES users (id),
    decision_recorded_at TIMESTAMP,
    bar_raiser_verdict   TEXT CHECK (bar_raiser_verdict IN ('concur', 'veto')),
    veto_rationale       TEXT,
    verdict_at           TIMESTAMP,
    final_outcome        TEXT CHECK (final_outcome IN ('hire', 'no_hire')),
    decided_at           TIMESTAMP,
    created_by           TEXT NOT NULL REFERENCES users (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX loops_created ON loops (created_at, id);
CREATE INDEX loops_candidate ON loops (candidate_id);
CREATE INDEX loops_state ON loops (state);
CREATE INDEX loops_hiring_manager ON loops (hiring_manager_id);
CREATE INDEX loops_bar_raiser ON loops (bar_raiser_id);
CREATE INDEX loops_recruiter ON loops (recruiter_id);

CREATE TABLE loop_competencies (
    loop_id       TEXT NOT NULL REFERENCES loops (id) ON DELETE CASCADE,
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    PRIMARY KEY (loop_id, competency_id)
);

CREATE TABLE interviews (
    id               TEXT PRIMARY KEY NOT NULL,
    loop_id          TEXT NOT NULL REFERENCES loops (id),
    interviewer_id   TEXT NOT NULL REFERENCES users (id),
    loop_role        TEXT NOT NULL CHECK (loop_role IN ('interviewer', 'shadow')),
    starts_at        TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    excused_at       TIMESTAMP,
    excused_by       TEXT REFERENCES users (id),
    excuse_reason    TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (loop_id, interviewer_id)
);
CREATE INDEX interviews_interviewer ON interviews (interviewer_id, starts_at);

CREATE TABLE interview_competencies (
    interview_id  TEXT NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    position      INTEGER NOT NULL,
    PRIMARY KEY (interview_id, competency_id)
);

CREATE TABLE feedback (
    id             TEXT PRIMARY KEY NOT NULL,
    interview_id   TEXT NOT NULL UNIQUE REFERENCES interviews (id),
    loop_id        TEXT NOT NULL REFERENCES loops (id),
    author_id      TEXT NOT NULL REFERENCES users (id),
    state          TEXT NOT NULL CHECK (state IN ('draft', 'sealed')),
    vote           TEXT CHECK (vote IN ('strong_no_hire', 'inclined_not_to_hire', 'inclined_to_hire', 'strong_hire')),
    summary        TEXT,
    revision       INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    sealed_at      TIMESTAMP,
    content_sha256 TEXT
);
CREATE INDEX feedback_loop ON feedback (loop_id);

CREATE TABLE feedback_ratings (
    feedback_id   TEXT NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    rating        INTEGER CHECK (rating BETWEEN 1 AND 4),
    evidence      TEXT,
    PRIMARY KEY (feedback_id, competency_id)
);

CREATE TABLE feedback_addenda (
    id          TEXT PRIMARY KEY NOT NULL,
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    author_id   TEXT NOT NULL REFERENCES users (id),
    text        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX feedback_addenda_feedback ON feedback_addenda (feedback_id, created_at);

CREATE TABLE feedback_reads (
    id          TEXT PRIMARY KEY NOT NULL,
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    loop_id     TEXT NOT NULL REFERENCES loops (id),
    reader_id   TEXT NOT NULL REFERENCES users (id),
    via         TEXT NOT NULL CHECK (via IN ('sealed_own', 'debrief', 'break_glass')),
    reason      TEXT,
    read_at     TIMESTAMP NOT NULL
);
CREATE INDEX feedback_reads_loop ON feedback_reads (loop_id, reader_id, read_at);

CREATE TABLE debrief_votes (
    loop_id    TEXT NOT NULL REFERENCES loops (id),
    voter_id   TEXT NOT NULL REFERENCES users (id),
    vote       TEXT NOT NULL CHECK (vote IN ('strong_no_hire', 'inclined_not_to_hire', 'inclined_to_hire', 'strong_hire')),
    rationale  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (loop_id, voter_id)
);

-- One hash chain per loop (chain = loop id) plus one for organisation-wide
-- events (chain = 'org'). The head row is locked by every append, so appends
-- to one chain serialise while different loops never contend.
CREATE TABLE audit_chains (
    chain     TEXT PRIMARY KEY NOT NULL,
    last_seq  INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);

CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY NOT NULL,
    chain      TEXT NOT NULL REFERENCES audit_chains (chain),
    seq        INTEGER NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    subject_id TEXT,
    payload    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    UNIQUE (chain, seq)
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    dedupe_key      TEXT UNIQUE,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    loop_id         TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

INSERT INTO audit_chains (chain, last_seq, last_hash)
VALUES ('org', 0, '0000000000000000000000000000000000000000000000000000000000000000');
