DROP TABLE analytics_agreement;
DROP INDEX analytics_votes_seal_hours;
ALTER TABLE analytics_votes DROP COLUMN seal_hours;
ALTER TABLE analytics_loops DROP COLUMN decision_hours;
ALTER TABLE analytics_loops DROP COLUMN debrief_open_hours;
