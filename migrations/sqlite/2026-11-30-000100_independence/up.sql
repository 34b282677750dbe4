-- Rule 7 (changing who takes part never opens content) and receipts that
-- cover content.
--
-- interviews.assigned_at / assigned_by: when and by whom the current
-- interviewer was put on the interview (a move to another person resets
-- them). A participant assigned after the loop's first seal is a late
-- joiner and reads content only at the debrief.
--
-- feedback.receipt_salt / debrief_votes.receipt_salt: a random value kept
-- with the row, never shown through the API, mixed into the digests that the
-- audit chain records. The chain then proves the content without letting
-- an audit reader guess a four-valued vote from its hash.
ALTER TABLE interviews ADD COLUMN assigned_at TIMESTAMP;
ALTER TABLE interviews ADD COLUMN assigned_by TEXT REFERENCES users (id);
UPDATE interviews SET assigned_at = created_at;

ALTER TABLE feedback ADD COLUMN receipt_salt TEXT;
ALTER TABLE debrief_votes ADD COLUMN receipt_salt TEXT;
