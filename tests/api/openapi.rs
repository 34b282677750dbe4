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

/// Every operation says what it does, and every request body and every 2xx
/// JSON answer shows an example (its own or its schema's): issue 19, held.
#[test]
fn every_operation_is_described_and_shows_examples() {
    let doc = serde_json::to_value(bar_raiser::app::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let has_example = |media: &serde_json::Value| -> bool {
        if media.get("example").is_some() || media.get("examples").is_some() {
            return true;
        }
        let schema = &media["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &schemas[r.rsplit('/').next().unwrap()],
            None => schema,
        };
        schema.get("example").is_some()
            || schema["examples"].as_array().is_some_and(|e| !e.is_empty())
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{} {path}", method.to_uppercase());
            if op["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                missing.push(format!("{at}: no description"));
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media_type, media) in content {
                    checked += 1;
                    if !has_example(media) {
                        missing.push(format!("{at}: request body {media_type} has no example"));
                    }
                }
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                if let Some(media) = answer["content"].get("application/json")
                    && status.starts_with('2')
                {
                    checked += 1;
                    if !has_example(media) {
                        missing.push(format!("{at}: {status} answer has no example"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} bodies and answers found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Each example in `src/api/examples.json` belongs to a schema of the
/// document (a renamed type would otherwise lose its example silently).
#[test]
fn every_example_names_a_schema() {
    let doc = serde_json::to_value(bar_raiser::app::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let examples = bar_raiser::api::spec::examples();
    assert!(!examples.is_empty());
    for name in examples.keys() {
        assert!(
            schemas.contains_key(name),
            "src/api/examples.json: `{name}` is not a schema of the document"
        );
    }
}

/// The token form's `scope` pattern admits exactly the space-separated
/// names of `Scope` (a new scope must be added to it, or a client asking
/// for it would be drawn as invalid by every generator).
#[test]
fn token_form_scope_pattern_names_every_scope() {
    let doc = serde_json::to_value(bar_raiser::app::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let names: Vec<&str> = schemas["Scope"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 11);
    let alt = names.join("|");
    assert_eq!(
        schemas["TokenForm"]["properties"]["scope"]["pattern"],
        format!("^ *({alt})?( +({alt}))* *$")
    );
    assert_eq!(
        schemas["TokenForm"]["properties"]["grant_type"]["$ref"],
        "#/components/schemas/GrantType"
    );
    assert_eq!(
        schemas["GrantType"]["enum"],
        serde_json::json!(["client_credentials"])
    );
}
