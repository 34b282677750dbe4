-- A reverse shadow's mentor becomes a column of the loop it mentors: the
-- loop row (read or locked) carries it, so the loop view names the mentor
-- without another statement. The separate table held nothing else.
ALTER TABLE loops ADD COLUMN mentor_id TEXT REFERENCES users (id);
UPDATE loops SET mentor_id = (SELECT r.mentor_id FROM reverse_shadows r WHERE r.loop_id = loops.id);
DROP TABLE reverse_shadows;
