DROP TABLE quick_votes;
DROP FUNCTION quick_votes_immutable();
ALTER TABLE loops DROP COLUMN quick_vote;
