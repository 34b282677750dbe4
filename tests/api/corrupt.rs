//! A stored value the code cannot read — an id that is not a UUID, an enum
//! spelling no variant has — fails the read with one answer wherever it is
//! read: a 500 problem+json that says nothing about the value (the cause
//! goes to the log). Never a nil id, a default or a guess.
//!
//! The database refuses such values itself (CHECK constraints on every
//! enum, foreign keys on every id), so each test first lifts the guard on
//! its own database, as a bad migration or a hand edit would have.

use actix_web::web;
use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::*;

/// Runs `update` with the CHECK and foreign-key guards of `table.column`
/// lifted: on SQLite for this one connection, on PostgreSQL by dropping
/// the constraint (named as PostgreSQL names column constraints).
async fn tamper(app: &TestApp, table: &str, column: &str, constraint: &str, update: String) {
    let statements = match app.backend {
        Backend::Sqlite => format!(
            "PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON; {update}; \
             PRAGMA ignore_check_constraints = OFF; PRAGMA foreign_keys = ON;"
        ),
        Backend::Postgres => {
            format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_{constraint}; {update};")
        }
    };
    let db = app.state.db.clone();
    web::block(move || {
        let mut conn = db.conn().unwrap();
        conn.batch_execute(&statements).unwrap();
    })
    .await
    .unwrap();
}

/// The one answer to an unreadable row.
#[track_caller]
fn assert_unreadable(got: &(StatusCode, Value), stored: &str, column: &str) {
    assert_problem(got, 500, "internal_error");
    let body = got.1.to_string();
    assert!(!body.contains(stored), "the value leaked: {body}");
    assert!(!body.contains(column), "the column leaked: {body}");
    assert!(
        !body.contains("00000000-0000-0000-0000-000000000000"),
        "a nil id was served: {body}"
    );
}

async fn an_unknown_state_is_a_500(app: TestApp) {
    let setup = app.draft_loop().await;
    let path = format!("/loops/{}", setup.loop_id);
    let recruiter = &setup.cast.recruiter;
    assert_eq!(app.get(&path, recruiter).await.0, StatusCode::OK);
    tamper(
        &app,
        "loops",
        "state",
        "check",
        format!(
            "UPDATE loops SET state = 'limbo' WHERE id = '{}'",
            setup.loop_id
        ),
    )
    .await;
    assert_unreadable(&app.get(&path, recruiter).await, "limbo", "state");
    // The list reads the same rows, with the same answer.
    assert_unreadable(&app.get("/loops", recruiter).await, "limbo", "state");
    // So does a write that loads the loop first: nothing is changed.
    let schedule = format!("/loops/{}/schedule", setup.loop_id);
    assert_unreadable(
        &app.post(&schedule, recruiter, serde_json::json!({})).await,
        "limbo",
        "state",
    );
}
both_backends!(an_unknown_state, an_unknown_state_is_a_500);

async fn a_malformed_id_is_a_500(app: TestApp) {
    let setup = app.draft_loop().await;
    let path = format!("/loops/{}", setup.loop_id);
    let recruiter = &setup.cast.recruiter;
    let interview = setup.interview_of(&setup.cast.bar_raiser);
    assert_eq!(app.get(&path, recruiter).await.0, StatusCode::OK);
    tamper(
        &app,
        "interviews",
        "assigned_by",
        "fkey",
        format!("UPDATE interviews SET assigned_by = 'not-an-id' WHERE id = '{interview}'"),
    )
    .await;
    assert_unreadable(&app.get(&path, recruiter).await, "not-an-id", "assigned_by");
    assert_unreadable(
        &app.get(&format!("/interviews/{interview}"), recruiter)
            .await,
        "not-an-id",
        "assigned_by",
    );
}
both_backends!(a_malformed_id, a_malformed_id_is_a_500);
