-- The coincidences of Krippendorff's α summed per UTC day (of the loop's
-- decision) and subject, kept in the transaction that captures a loop (and
-- by the bench seeder), so /analytics/summary adds up a year's ~365 days per
-- subject instead of every loop's row; only the partial days at the ends
-- of a period, and periods filtered by position or competency, are read
-- from analytics_agreement loop by loop. Captured rows are never changed
-- or deleted, so a day's sums only ever grow.
CREATE TABLE analytics_agreement_days (
    day         DATE NOT NULL,
    subject     TEXT NOT NULL,
    pairable    INTEGER NOT NULL,
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
    PRIMARY KEY (day, subject)
);

-- Everything captured so far.
INSERT INTO analytics_agreement_days
    (day, subject, pairable, o11, o12, o13, o14, o22, o23, o24, o33, o34, o44)
SELECT date(decided_at), subject, SUM(pairable),
       SUM(o11), SUM(o12), SUM(o13), SUM(o14), SUM(o22),
       SUM(o23), SUM(o24), SUM(o33), SUM(o34), SUM(o44)
FROM analytics_agreement
GROUP BY date(decided_at), subject;

-- What the summary's other figures read, so that no query sorts or visits
-- every row of a year: the loop figures it sums and groups by Bar Raiser
-- (covering, read by the period), and each duration's values in order
-- (walked up to a percentile's offset; loop_id for the position and
-- competency filters).
CREATE INDEX analytics_loops_figures ON analytics_loops (decided_at, bar_raiser_id, vetoed,
    decided_hire, changed, toward_hiring_manager, convergence, debrief_open_hours, decision_hours);
CREATE INDEX analytics_loops_debrief_open ON analytics_loops (debrief_open_hours, decided_at);
CREATE INDEX analytics_loops_decision ON analytics_loops (decision_hours, decided_at);
CREATE INDEX analytics_votes_seal_order ON analytics_votes (seal_hours, decided_at, loop_id);
-- The per-Bar-Raiser counts, grouped in the index's order instead of
-- sorting the period's loops.
CREATE INDEX analytics_loops_bar_raiser ON analytics_loops (bar_raiser_id, vetoed, decided_hire,
    decided_at);
