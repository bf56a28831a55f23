//! The committed schema matches the types, and `aepact schema` prints it.

use aepact::plan::schema::{SCHEMA_PATH, generate_text};

use crate::common::{TestEnv, repo_root};

#[test]
fn committed_schema_is_fresh() {
    let path = repo_root().join(SCHEMA_PATH);
    let expected = generate_text();
    if std::env::var_os("AEPACT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{SCHEMA_PATH} is stale: the plan types changed. Refresh it with\n\n    \
         AEPACT_UPDATE_GOLDEN=1 cargo test --test it schema\n\n(or `cargo run -- schema > {SCHEMA_PATH}`) and commit the result."
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = TestEnv::new().run(["schema"]);
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, generate_text());
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["apiVersion", "name", "destinations"])
    );
}
