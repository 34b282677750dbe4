ALTER TABLE outbox DROP COLUMN calendar;
ALTER TABLE interviews DROP COLUMN calendar_sequence;
