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
CREATE FUNCTION view_names_changed() RETURNS trigger AS $$
BEGIN
    UPDATE view_names_epoch SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_view_names AFTER UPDATE OF name, email ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION view_names_changed();
CREATE TRIGGER users_view_names_gone AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION view_names_changed();
CREATE TRIGGER candidates_view_names AFTER UPDATE OF name, erased_at ON candidates
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.erased_at IS DISTINCT FROM NEW.erased_at)
    EXECUTE FUNCTION view_names_changed();
CREATE TRIGGER candidates_view_names_gone AFTER DELETE ON candidates
    FOR EACH ROW EXECUTE FUNCTION view_names_changed();
CREATE TRIGGER competencies_view_names AFTER UPDATE OF name ON competencies
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION view_names_changed();
CREATE TRIGGER competencies_view_names_gone AFTER DELETE ON competencies
    FOR EACH ROW EXECUTE FUNCTION view_names_changed();
-- The loop row: an update that left the version alone moves it.
CREATE FUNCTION loop_version_moves() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER loops_version BEFORE UPDATE ON loops
    FOR EACH ROW WHEN (NEW.version = OLD.version)
    EXECUTE FUNCTION loop_version_moves();
-- The rows of a loop that carry its `loop_id`.
CREATE FUNCTION loop_part_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE loops SET version = version + 1 WHERE id = OLD.loop_id;
    ELSE
        UPDATE loops SET version = version + 1 WHERE id = NEW.loop_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER interviews_view AFTER INSERT OR UPDATE OR DELETE ON interviews
    FOR EACH ROW EXECUTE FUNCTION loop_part_changed();
CREATE TRIGGER loop_competencies_view AFTER INSERT OR UPDATE OR DELETE ON loop_competencies
    FOR EACH ROW EXECUTE FUNCTION loop_part_changed();
CREATE TRIGGER feedback_view AFTER INSERT OR UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION loop_part_changed();
CREATE TRIGGER quick_votes_view AFTER INSERT OR DELETE ON quick_votes
    FOR EACH ROW EXECUTE FUNCTION loop_part_changed();
-- An interview's competencies, through their interview.
CREATE FUNCTION interview_part_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE loops SET version = version + 1
            WHERE id = (SELECT loop_id FROM interviews WHERE id = OLD.interview_id);
    ELSE
        UPDATE loops SET version = version + 1
            WHERE id = (SELECT loop_id FROM interviews WHERE id = NEW.interview_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER interview_competencies_view AFTER INSERT OR UPDATE OR DELETE ON interview_competencies
    FOR EACH ROW EXECUTE FUNCTION interview_part_changed();
