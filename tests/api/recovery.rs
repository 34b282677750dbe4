//! A write that panics half-way must not poison the connection it ran on.

use bar_raiser::db::Db;
use bar_raiser::error::AppResult;
use diesel::RunQueryDsl;

#[actix_web::test]
async fn a_write_that_panics_leaves_no_open_transaction_behind() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("panic.db").display());
    // One connection: whatever the panic leaves on it, the next write gets.
    let db = Db::connect(&url, 1).unwrap();
    db.write(|conn| {
        diesel::sql_query("CREATE TABLE probe (n INTEGER NOT NULL)").execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();

    let failed: AppResult<()> = db
        .write(|conn| {
            diesel::sql_query("INSERT INTO probe (n) VALUES (1)").execute(conn)?;
            panic!("a bug half-way through a write");
        })
        .await;
    assert!(failed.is_err(), "the panicking write answers with an error");

    db.write(|conn| {
        diesel::sql_query("INSERT INTO probe (n) VALUES (2)").execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();

    // Another process's view: only the acknowledged write is durable.
    let other = Db::connect(&url, 1).unwrap();
    let rows: Vec<Probe> = other
        .run(|conn| Ok(diesel::sql_query("SELECT n FROM probe ORDER BY n").load(conn)?))
        .await
        .unwrap();
    let ns: Vec<i32> = rows.into_iter().map(|p| p.n).collect();
    assert_eq!(ns, vec![2]);
}

#[derive(diesel::QueryableByName)]
struct Probe {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}
