-- Quick votes in the analytics (issue 17: quick → sealed → debrief). Each
-- voter's row keeps their quick vote, scored like the sealed vote (1
-- strong_no_hire to 4 strong_hire; null: none committed), and each loop's
-- row counts its quick-voted voters, those whose sealed vote amended the
-- quick vote, and those whose final vote (debrief, else sealed) differs
-- from it, so the summary sums them like every other loop figure.
ALTER TABLE analytics_votes ADD COLUMN quick_vote INTEGER CHECK (quick_vote BETWEEN 1 AND 4);
ALTER TABLE analytics_loops ADD COLUMN quick_voted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_loops ADD COLUMN amended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE analytics_loops ADD COLUMN quick_to_final_changed INTEGER NOT NULL DEFAULT 0;

-- backfill: the loops captured already, from their quick votes (a decided
-- loop's quick votes never change, so this is what the capture writes).
UPDATE analytics_votes SET quick_vote = (
    SELECT CASE q.vote
               WHEN 'strong_no_hire' THEN 1
               WHEN 'inclined_not_to_hire' THEN 2
               WHEN 'inclined_to_hire' THEN 3
               WHEN 'strong_hire' THEN 4
           END
    FROM quick_votes q
    WHERE q.interview_id = analytics_votes.interview_id)
WHERE interview_id IN (SELECT interview_id FROM quick_votes);
UPDATE analytics_loops SET
    quick_voted = (SELECT COUNT(*) FROM analytics_votes v
                   WHERE v.loop_id = analytics_loops.loop_id AND v.quick_vote IS NOT NULL),
    amended = (SELECT COUNT(*) FROM analytics_votes v
               WHERE v.loop_id = analytics_loops.loop_id AND v.quick_vote <> v.sealed_vote),
    quick_to_final_changed = (SELECT COUNT(*) FROM analytics_votes v
                              WHERE v.loop_id = analytics_loops.loop_id
                                AND v.quick_vote <> COALESCE(v.debrief_vote, v.sealed_vote))
WHERE loop_id IN (SELECT loop_id FROM analytics_votes WHERE quick_vote IS NOT NULL);

-- The summary's loop sums stay one walk of a covering index: the new
-- counts (and the voters they are shares of) join it.
DROP INDEX analytics_loops_figures;
CREATE INDEX analytics_loops_figures ON analytics_loops (decided_at, bar_raiser_id, vetoed,
    decided_hire, changed, toward_hiring_manager, convergence, debrief_open_hours, decision_hours,
    voters, quick_voted, amended, quick_to_final_changed);
