-- Analytics read decided loops only, from facts captured once, in the
-- transaction that makes a loop's outcome final (and backfilled for loops
-- decided before this table existed). A decided loop never changes again,
-- so the snapshot never goes stale; no text anyone wrote is copied here.

CREATE TABLE analytics_loops (
    loop_id                TEXT PRIMARY KEY REFERENCES loops (id),
    decided_at             TIMESTAMP NOT NULL,
    position               TEXT NOT NULL,
    hiring_manager_id      TEXT NOT NULL,
    bar_raiser_id          TEXT NOT NULL,
    decided_hire           BOOLEAN NOT NULL,
    vetoed                 BOOLEAN NOT NULL,
    last_interview_end_at  TIMESTAMP,
    debrief_opened_at      TIMESTAMP,
    voters                 INTEGER NOT NULL,
    changed                INTEGER NOT NULL,
    toward_hiring_manager  INTEGER,
    toward_bar_raiser      INTEGER,
    spread_sealed          DOUBLE PRECISION,
    spread_debrief         DOUBLE PRECISION,
    convergence            DOUBLE PRECISION,
    bar_raiser_overruled   BOOLEAN
);
CREATE INDEX analytics_loops_decided ON analytics_loops (decided_at);

-- One row per voter (a voting, non-excused interview with a sealed vote).
-- Votes are scored 1 (strong_no_hire) to 4 (strong_hire).
CREATE TABLE analytics_votes (
    interview_id    TEXT PRIMARY KEY REFERENCES interviews (id),
    loop_id         TEXT NOT NULL REFERENCES analytics_loops (loop_id),
    interviewer_id  TEXT NOT NULL REFERENCES users (id),
    decided_at      TIMESTAMP NOT NULL,
    sealed_vote     INTEGER NOT NULL CHECK (sealed_vote BETWEEN 1 AND 4),
    debrief_vote    INTEGER CHECK (debrief_vote BETWEEN 1 AND 4),
    others_mean     DOUBLE PRECISION,
    hired           BOOLEAN NOT NULL,
    ended_at        TIMESTAMP NOT NULL,
    sealed_at       TIMESTAMP NOT NULL,
    late            BOOLEAN NOT NULL
);
CREATE INDEX analytics_votes_interviewer ON analytics_votes (interviewer_id, decided_at);
CREATE INDEX analytics_votes_decided ON analytics_votes (decided_at);

-- The voters' sealed ratings, for agreement per competency.
CREATE TABLE analytics_ratings (
    interview_id   TEXT NOT NULL REFERENCES analytics_votes (interview_id),
    competency_id  TEXT NOT NULL REFERENCES competencies (id),
    loop_id        TEXT NOT NULL,
    decided_at     TIMESTAMP NOT NULL,
    rating         INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    PRIMARY KEY (interview_id, competency_id)
);
CREATE INDEX analytics_ratings_decided ON analytics_ratings (decided_at);
