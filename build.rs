//! Lets the integration tests mark their PostgreSQL cases as ignored, with
//! the reason, when no test server was named at build time: `cargo test`
//! then reports them as ignored instead of passing them silently.
//!
//! It also names the migrations directory: `embed_migrations!` reads it at
//! compile time, and a new migration directory changes no Rust file, so
//! without this the binary would be rebuilt without it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(test_postgres)");
    println!("cargo::rerun-if-env-changed=BAR_RAISER_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var("BAR_RAISER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
