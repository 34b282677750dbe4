CREATE INDEX loops_state ON loops (state);
DROP INDEX loops_state_id;
