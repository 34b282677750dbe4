-- Quick votes (issue 17). Each loop says whether its interviewers commit a
-- quick vote within a window after each interview ends: 'off', 'optional'
-- (the default, also for every existing loop) or 'required' (the debrief
-- then opens only once every voting interview has one or is excused).
ALTER TABLE loops ADD COLUMN quick_vote TEXT NOT NULL DEFAULT 'optional'
    CHECK (quick_vote IN ('off', 'optional', 'required'));
-- One quick vote per interview, immutable once committed: the service never
-- updates a row (a trigger refuses it), and the audit chain holds a salted
-- receipt of id, interview, voter, vote and time (`quick_vote.committed`),
-- so an edited, deleted or invented row fails `verify`. The salt is never
-- shown, so the receipt does not reveal the vote.
CREATE TABLE quick_votes (
    id            TEXT PRIMARY KEY NOT NULL,
    interview_id  TEXT NOT NULL UNIQUE REFERENCES interviews (id),
    loop_id       TEXT NOT NULL REFERENCES loops (id),
    voter_id      TEXT NOT NULL REFERENCES users (id),
    vote          TEXT NOT NULL CHECK (vote IN ('strong_no_hire', 'inclined_not_to_hire', 'inclined_to_hire', 'strong_hire')),
    committed_at  TIMESTAMP NOT NULL,
    receipt_salt  TEXT NOT NULL
);
CREATE INDEX quick_votes_loop ON quick_votes (loop_id);
CREATE TRIGGER quick_votes_immutable BEFORE UPDATE ON quick_votes
BEGIN
    SELECT RAISE(ABORT, 'a quick vote never changes');
END;
