//! The committed document is what the code generates.

#[test]
fn committed_openapi_matches_the_code() {
    let generated = serde_json::to_string_pretty(&bar_raiser::app::openapi()).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("BAR_RAISER_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale. Refresh it with:\n    cargo run -- openapi > openapi/openapi.json\n(or BAR_RAISER_UPDATE_OPENAPI=1 cargo test --test api openapi)"
    );
}

#[test]
fn document_is_openapi_3_1_with_bearer_auth() {
    let doc = serde_json::to_value(bar_raiser::app::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every operation has an operationId and documents its error responses.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(
                op["responses"].as_object().unwrap().len() >= 2
                    || path.ends_with("healthz")
                    || path == "/problems",
                "{method} {path} documents no error"
            );
        }
    }
}
