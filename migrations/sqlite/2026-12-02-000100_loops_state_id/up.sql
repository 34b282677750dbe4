-- The reminder scan walks scheduled loops in id order, a page at a time:
-- (state, id) hands each page over in index order, with nothing to sort.
-- It also serves every lookup by state alone, which loops_state did.
CREATE INDEX loops_state_id ON loops (state, id);
DROP INDEX loops_state;
