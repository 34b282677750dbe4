-- What /analytics/summary needs, precomputed when a loop's facts are
-- captured, so a year of loops is summed rather than re-read vote by vote:
-- each loop's coincidences of Krippendorff's α (of the sealed votes and of
-- each competency's sealed ratings) and its durations in hours.
--
-- The snapshot is derived data: it is emptied here and the start-up
-- backfill captures every decided loop again, with the new figures.
DELETE FROM analytics_ratings;
DELETE FROM analytics_votes;
DELETE FROM analytics_loops;

ALTER TABLE analytics_loops ADD COLUMN debrief_open_hours DOUBLE PRECISION;
ALTER TABLE analytics_loops ADD COLUMN decision_hours DOUBLE PRECISION;
ALTER TABLE analytics_votes ADD COLUMN seal_hours DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX analytics_votes_seal_hours ON analytics_votes (decided_at, seal_hours);

-- One row per unit of one loop with a value: subject '' for the sealed
-- votes, else the competency whose sealed ratings these are. `pairable` is
-- 1 when the unit has two or more values (only those count toward α).
-- oCK is the unit's contribution to the coincidence matrix for the values
-- C and K (1 to 4; symmetric, so C <= K): the ordered pairs of different
-- coders with those values, divided by the unit's values less one.
CREATE TABLE analytics_agreement (
    loop_id     TEXT NOT NULL REFERENCES analytics_loops (loop_id),
    subject     TEXT NOT NULL,
    decided_at  TIMESTAMP NOT NULL,
    pairable    INTEGER NOT NULL CHECK (pairable IN (0, 1)),
    o11 DOUBLE PRECISION NOT NULL,
    o12 DOUBLE PRECISION NOT NULL,
    o13 DOUBLE PRECISION NOT NULL,
    o14 DOUBLE PRECISION NOT NULL,
    o22 DOUBLE PRECISION NOT NULL,
    o23 DOUBLE PRECISION NOT NULL,
    o24 DOUBLE PRECISION NOT NULL,
    o33 DOUBLE PRECISION NOT NULL,
    o34 DOUBLE PRECISION NOT NULL,
    o44 DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (loop_id, subject)
);
CREATE INDEX analytics_agreement_decided ON analytics_agreement (decided_at);
