//! One spelling per instant. SQLite keeps a timestamp as text and compares
//! it as text: `…:12.000` and `…:12` are one instant but not equal, and the
//! first sorts after the second. Page cursors and the reminder scan bind a
//! parsed time against stored text, so a row spelled otherwise than the
//! application writes it (diesel's `%F %T%.f`) is skipped or handed back
//! for ever. Every timestamp the application or a migration writes must be
//! spelled that one way. PostgreSQL stores timestamps as timestamps and
//! has no spelling, so this is a SQLite case only.

use actix_web::web;
use bar_raiser::db::DbConn;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use reqwest::StatusCode;

use crate::helpers::*;

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Every stored timestamp of every table, checked against the spelling
/// the application writes: (how many were read, those spelled otherwise
/// as `table.column = text`).
async fn spellings(app: &TestApp) -> (usize, Vec<String>) {
    let db = app.state.db.clone();
    web::block(move || {
        let mut conn = db.conn().unwrap();
        let DbConn::Sqlite(c) = &mut *conn else {
            unreachable!("a SQLite app")
        };
        let q = |c: &mut diesel::SqliteConnection, sql: String| -> Vec<String> {
            diesel::sql_query(sql)
                .load::<One>(c)
                .unwrap()
                .into_iter()
                .map(|o| o.v)
                .collect()
        };
        let tables = q(
            c,
            "SELECT name AS v FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
                .into(),
        );
        let (mut read, mut odd) = (0, Vec::new());
        for table in tables {
            let columns = q(
                c,
                format!(
                    "SELECT name AS v FROM pragma_table_info('{table}') \
                     WHERE upper(type) = 'TIMESTAMP'"
                ),
            );
            for column in columns {
                for text in q(
                    c,
                    format!(
                        "SELECT CAST({column} AS TEXT) AS v FROM {table} WHERE {column} IS NOT NULL"
                    ),
                ) {
                    read += 1;
                    let canonical =
                        chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string());
                    if canonical.as_deref() != Ok(text.as_str()) {
                        odd.push(format!("{table}.{column} = {text}"));
                    }
                }
            }
        }
        (read, odd)
    })
    .await
    .unwrap()
}

/// A decided loop (people, tokens of sign-in, interviews, sealed feedback,
/// debrief, decision, audit, outbox, the program) and the program rows the
/// 2026-12-01-000300 migration wrote with strftime on a whole second: every
/// timestamp reads back in the application's spelling.
#[actix_web::test]
async fn every_stored_timestamp_has_the_applications_spelling() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    app.draft_and_seal(
        &cast.shadow,
        setup.interview_of(&cast.shadow),
        "inclined_to_hire",
    )
    .await;
    app.seal_all_and_decide(&setup, "inclined_to_hire", "hire")
        .await;

    let (read, odd) = spellings(&app).await;
    assert!(odd.is_empty(), "spelled otherwise: {odd:?}");
    assert!(
        read > 50,
        "only {read} timestamps read: the workload wrote too little"
    );

    // As 2026-12-01-000300 wrote the certified Bar Raiser's row when the
    // clock fell on a whole second; the next migration respells it.
    app.remigrate_from("20261201001100", |conn| {
        diesel::sql_query(
            "UPDATE bar_raiser_program SET certified_at = '2026-12-01 10:00:00.000', \
             updated_at = '2026-12-01 10:00:00.000' WHERE state = 'certified'",
        )
        .execute(conn)
        .unwrap();
        diesel::sql_query(
            "UPDATE bar_raiser_program SET updated_at = '2026-12-01 10:00:00.120' \
             WHERE state <> 'certified'",
        )
        .execute(conn)
        .unwrap();
    })
    .await;
    let (_, odd) = spellings(&app).await;
    assert!(
        odd.is_empty(),
        "spelled otherwise after the migration: {odd:?}"
    );
    let (status, record) = app
        .get(
            &format!("/bar-raiser-program/people/{}", cast.bar_raiser.id),
            &cast.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["state"], "certified");
    assert!(
        record["certified_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-01T10:00:00"),
        "the instant is kept: {record}"
    );
}
