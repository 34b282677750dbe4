//! Lets the integration tests mark their PostgreSQL cases as ignored, with
//! the reason, when no test server was named at build time: `cargo test`
//! then reports them as ignored instead of passing them silently.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(test_postgres)");
    println!("cargo::rerun-if-env-changed=BAR_RAISER_TEST_POSTGRES_URL");
    if std::env::var("BAR_RAISER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
