CREATE TABLE reverse_shadows (
    loop_id    TEXT PRIMARY KEY NOT NULL REFERENCES loops (id),
    mentor_id  TEXT NOT NULL REFERENCES users (id)
);
INSERT INTO reverse_shadows (loop_id, mentor_id) SELECT id, mentor_id FROM loops WHERE mentor_id IS NOT NULL;
ALTER TABLE loops DROP COLUMN mentor_id;
