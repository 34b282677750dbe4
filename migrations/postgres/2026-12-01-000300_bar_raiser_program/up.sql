-- The Bar Raiser program (issue 17). One row per person who is or was in
-- it: interviewer (enrolled never) -> in_training -> certified -> lapsed,
-- and back to certified when an admin re-activates them. A person without
-- a row is an interviewer. users.bar_raiser_certified stays, as the
-- projection of state = 'certified', written in the same statement group
-- by db::program::put_state and nowhere else.
CREATE TABLE bar_raiser_program (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    state         TEXT NOT NULL CHECK (state IN ('interviewer', 'in_training', 'certified', 'lapsed')),
    mentor_id     TEXT REFERENCES users (id),
    enrolled_at   TIMESTAMP,
    -- The latest certification or re-activation: the lapse period counts
    -- from it when the person has not served as a Bar Raiser since.
    certified_at  TIMESTAMP,
    lapsed_at     TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX bar_raiser_program_state ON bar_raiser_program (state);
-- Every certified Bar Raiser today is certified in the program, from now.
INSERT INTO bar_raiser_program (user_id, state, certified_at, updated_at)
    SELECT id, 'certified', (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC') FROM users WHERE bar_raiser_certified;
-- A certified Bar Raiser's sign-off of a loop a trainee led as a reverse
-- shadow: pass counts toward certification, needs_work does not.
CREATE TABLE bar_raiser_sign_offs (
    id          TEXT PRIMARY KEY NOT NULL,
    loop_id     TEXT NOT NULL UNIQUE REFERENCES loops (id),
    trainee_id  TEXT NOT NULL REFERENCES users (id),
    mentor_id   TEXT NOT NULL REFERENCES users (id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('pass', 'needs_work')),
    assessment  TEXT NOT NULL,
    signed_at   TIMESTAMP NOT NULL
);
CREATE INDEX bar_raiser_sign_offs_trainee ON bar_raiser_sign_offs (trainee_id);
-- A reverse-shadowed loop: its Bar Raiser is a trainee, and this certified
-- mentor holds the veto and signs off afterwards.
CREATE TABLE reverse_shadows (
    loop_id    TEXT PRIMARY KEY NOT NULL REFERENCES loops (id),
    mentor_id  TEXT NOT NULL REFERENCES users (id)
);
