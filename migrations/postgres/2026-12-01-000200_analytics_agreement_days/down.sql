DROP INDEX analytics_loops_bar_raiser;
DROP INDEX analytics_votes_seal_order;
DROP INDEX analytics_loops_decision;
DROP INDEX analytics_loops_debrief_open;
DROP INDEX analytics_loops_figures;
DROP TABLE analytics_agreement_days;
