ALTER TABLE debrief_votes DROP COLUMN receipt_salt;
ALTER TABLE feedback DROP COLUMN receipt_salt;
ALTER TABLE interviews DROP COLUMN assigned_by;
ALTER TABLE interviews DROP COLUMN assigned_at;
