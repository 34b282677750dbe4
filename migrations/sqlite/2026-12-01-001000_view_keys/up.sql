-- What a kept loop view is checked against: its two keys, moved by the
-- database itself.
--
-- A loop's status view (`GET /loops/{id}`) is kept in memory by each server
-- process (`src/workflows/cache.rs`) and used only while two numbers the
-- database holds are what they were when it was kept: the loop's `version`,
-- and the generation of the names a view shows. Both are moved here, by
-- triggers, on every write that changes what a view shows — whichever code
-- path, server process or operator at a SQL prompt made it:
--
-- * `loops.version`: any update of the loop row (the application's own row
--   lock bumps it already, and a trigger bumps it when an update did not),
--   and any insert, update or delete of its interviews, their competencies,
--   its required competencies, its feedback rows (state, not content) and
--   its quick votes;
-- * `view_names_epoch.n`: a person's name or email, a competency's name,
--   a candidate's name or erasure changed, or any of them deleted — writes
--   that touch no loop.
CREATE TABLE view_names_epoch (
    id  INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO view_names_epoch (id, n) VALUES (1, 0);
CREATE TRIGGER users_view_names AFTER UPDATE OF name, email ON users
    FOR EACH ROW WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER users_view_names_gone AFTER DELETE ON users
    FOR EACH ROW
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER candidates_view_names AFTER UPDATE OF name, erased_at ON candidates
    FOR EACH ROW WHEN OLD.name IS NOT NEW.name OR OLD.erased_at IS NOT NEW.erased_at
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER candidates_view_names_gone AFTER DELETE ON candidates
    FOR EACH ROW
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER competencies_view_names AFTER UPDATE OF name ON competencies
    FOR EACH ROW WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER competencies_view_names_gone AFTER DELETE ON competencies
    FOR EACH ROW
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
END;
-- The loop row: an update that left the version alone moves it (SQLite's
-- triggers do not recurse, and this update moves it anyway).
CREATE TRIGGER loops_version AFTER UPDATE ON loops
    FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.id;
END;
-- The rows of a loop that carry its `loop_id`.
CREATE TRIGGER interviews_view_insert AFTER INSERT ON interviews
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER interviews_view_update AFTER UPDATE ON interviews
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER interviews_view_delete AFTER DELETE ON interviews
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = OLD.loop_id;
END;
CREATE TRIGGER loop_competencies_view_insert AFTER INSERT ON loop_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER loop_competencies_view_update AFTER UPDATE ON loop_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER loop_competencies_view_delete AFTER DELETE ON loop_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = OLD.loop_id;
END;
CREATE TRIGGER feedback_view_insert AFTER INSERT ON feedback
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER feedback_view_update AFTER UPDATE ON feedback
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER feedback_view_delete AFTER DELETE ON feedback
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = OLD.loop_id;
END;
CREATE TRIGGER quick_votes_view_insert AFTER INSERT ON quick_votes
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
END;
CREATE TRIGGER quick_votes_view_delete AFTER DELETE ON quick_votes
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1 WHERE id = OLD.loop_id;
END;
-- An interview's competencies, through their interview.
CREATE TRIGGER interview_competencies_view_insert AFTER INSERT ON interview_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1
        WHERE id = (SELECT loop_id FROM interviews WHERE id = NEW.interview_id);
END;
CREATE TRIGGER interview_competencies_view_update AFTER UPDATE ON interview_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1
        WHERE id = (SELECT loop_id FROM interviews WHERE id = NEW.interview_id);
END;
CREATE TRIGGER interview_competencies_view_delete AFTER DELETE ON interview_competencies
    FOR EACH ROW
BEGIN
    UPDATE loops SET version = version + 1
        WHERE id = (SELECT loop_id FROM interviews WHERE id = OLD.interview_id);
END;
