DROP INDEX analytics_loops_figures;
CREATE INDEX analytics_loops_figures ON analytics_loops (decided_at, bar_raiser_id, vetoed,
    decided_hire, changed, toward_hiring_manager, convergence, debrief_open_hours, decision_hours);
ALTER TABLE analytics_loops DROP COLUMN quick_to_final_changed;
ALTER TABLE analytics_loops DROP COLUMN amended;
ALTER TABLE analytics_loops DROP COLUMN quick_voted;
ALTER TABLE analytics_votes DROP COLUMN quick_vote;
