//! The two migration trees, `migrations/sqlite` and `migrations/postgres`,
//! are kept apart (diesel embeds one directory per backend, and the
//! backends' SQL may have to differ) but must not drift: these tests hold
//! them to the same migrations, file for file, with identical SQL except in
//! the files listed in [`DIFFER`], which may differ only as said there.
//! Migrations written in each database's own trigger language are listed in
//! `OWN` instead: both must put triggers on the same tables.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// The files that differ on purpose, and how: each pair turns the
    /// PostgreSQL text into the SQLite text.
    const DIFFER: &[(&str, &[(&str, &str)])] = &[
        (
            // Unix milliseconds: BIGINT on PostgreSQL, INTEGER (which is 64-bit)
            // on SQLite.
            "2026-11-30-000200_signin_counters/up.sql",
            &[("BIGINT", "INTEGER")],
        ),
        (
            // The trigger that refuses updates of a quick vote: a PL/pgSQL
            // function on PostgreSQL, a RAISE in the trigger body on SQLite.
            "2026-12-01-000100_quick_votes/up.sql",
            &[(QUICK_VOTES_PG_TRIGGER, QUICK_VOTES_SQLITE_TRIGGER)],
        ),
        (
            // The UTC day of a timestamp: a cast on PostgreSQL, `date()` on
            // SQLite.
            "2026-12-01-000200_analytics_agreement_days/up.sql",
            &[("CAST(decided_at AS DATE)", "date(decided_at)")],
        ),
        (
            "2026-12-01-000100_quick_votes/down.sql",
            &[("DROP FUNCTION quick_votes_immutable();\n", "")],
        ),
        (
            // The migration's own time, as each database writes a UTC
            // timestamp of microseconds.
            "2026-12-01-000300_bar_raiser_program/up.sql",
            &[(
                "(now() AT TIME ZONE 'UTC')",
                "strftime('%Y-%m-%d %H:%M:%f', 'now')",
            )],
        ),
        (
            // Respelling SQLite's text timestamps: PostgreSQL has none.
            "2026-12-01-001100_canonical_timestamps/up.sql",
            &[("SELECT 1;\n", CANONICAL_TIMESTAMPS_SQLITE)],
        ),
    ];

    const CANONICAL_TIMESTAMPS_SQLITE: &str =
        "UPDATE bar_raiser_program SET certified_at = substr(certified_at, 1, 19)
    WHERE certified_at LIKE '%.000';
UPDATE bar_raiser_program SET updated_at = substr(updated_at, 1, 19)
    WHERE updated_at LIKE '%.000';
";

    /// Migrations written in each database's own trigger language, too far
    /// apart for [`DIFFER`]'s swaps: their texts may differ, but both must
    /// put triggers on the same tables (PL/pgSQL functions on PostgreSQL, a
    /// body per trigger and event on SQLite).
    const OWN: &[&str] = &[
        "2026-12-01-001000_view_keys/up.sql",
        "2026-12-01-001000_view_keys/down.sql",
    ];

    /// The tables a migration text puts triggers on (or drops them from).
    fn triggered_tables(text: &str) -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("CREATE TRIGGER"))
            .filter_map(|l| l.split(" ON ").nth(1))
            .map(|t| t.trim().to_string())
            .collect()
    }

    const QUICK_VOTES_PG_TRIGGER: &str =
        "CREATE FUNCTION quick_votes_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a quick vote never changes';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER quick_votes_immutable BEFORE UPDATE ON quick_votes
    FOR EACH ROW EXECUTE FUNCTION quick_votes_immutable();
";
    const QUICK_VOTES_SQLITE_TRIGGER: &str =
        "CREATE TRIGGER quick_votes_immutable BEFORE UPDATE ON quick_votes
BEGIN
    SELECT RAISE(ABORT, 'a quick vote never changes');
END;
";

    /// Every file of a tree, by `migration/file`.
    fn tree(backend: &str) -> BTreeMap<String, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut files = BTreeMap::new();
        for dir in std::fs::read_dir(&root).expect("migration tree") {
            let dir = dir.expect("entry").path();
            assert!(dir.is_dir(), "{} is not a migration", dir.display());
            for file in std::fs::read_dir(&dir).expect("migration") {
                let file = file.expect("entry").path();
                let name = format!(
                    "{}/{}",
                    dir.file_name().unwrap().to_string_lossy(),
                    file.file_name().unwrap().to_string_lossy()
                );
                files.insert(name, std::fs::read_to_string(&file).expect("SQL text"));
            }
        }
        files
    }

    #[test]
    fn both_trees_hold_the_same_migrations() {
        let sqlite = tree("sqlite");
        let postgres = tree("postgres");
        let names = |t: &BTreeMap<String, String>| t.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&sqlite), names(&postgres), "migration files differ");
        assert!(sqlite.keys().any(|k| k.ends_with("/up.sql")));
        for (name, lite) in &sqlite {
            let pg = &postgres[name];
            if OWN.contains(&name.as_str()) {
                assert_eq!(
                    triggered_tables(lite),
                    triggered_tables(pg),
                    "{name} puts triggers on other tables in each tree"
                );
                continue;
            }
            match DIFFER.iter().find(|(n, _)| n == name) {
                None => assert_eq!(
                    lite, pg,
                    "{name} differs between the trees; make it identical or list it in DIFFER"
                ),
                Some((_, swaps)) => {
                    assert_ne!(lite, pg, "{name} is identical now: take it off DIFFER");
                    let translated = swaps
                        .iter()
                        .fold(pg.clone(), |text, (from, to)| text.replace(from, to));
                    assert_eq!(
                        lite, &translated,
                        "{name} differs beyond what DIFFER allows"
                    );
                }
            }
        }
        for (name, _) in DIFFER {
            assert!(sqlite.contains_key(*name), "DIFFER names a missing {name}");
        }
        for name in OWN {
            assert!(sqlite.contains_key(*name), "OWN names a missing {name}");
        }
        assert_eq!(
            triggered_tables(&sqlite["2026-12-01-001000_view_keys/up.sql"]).len(),
            9,
            "the view keys' triggers: users, candidates, competencies, loops, interviews, \
             loop_competencies, feedback, quick_votes, interview_competencies"
        );
    }
}
