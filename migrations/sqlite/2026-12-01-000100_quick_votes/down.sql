DROP TABLE quick_votes;
ALTER TABLE loops DROP COLUMN quick_vote;
