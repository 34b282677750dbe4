-- Calendar invitations (iTIP over iMIP). Each interview keeps the SEQUENCE
-- of its calendar entry, raised on every change its interviewer is told of
-- and on cancellation, so calendars apply updates in order.
ALTER TABLE interviews ADD COLUMN calendar_sequence INTEGER NOT NULL DEFAULT 0;
-- The invitation a message carries, as structured JSON without the
-- candidate's name (that is `candidate_name`, filled in at send time, so
-- erasure stays a rewrite of that one field).
ALTER TABLE outbox ADD COLUMN calendar TEXT;
