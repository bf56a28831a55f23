//! The policy's JSON schema, generated from [`RawPolicy`] like the plan's, committed at
//! `schemas/policy.schema.json` (editors resolve a policy's modeline against it) and kept fresh
//! by a test.

use serde_json::Value;

use super::model::RawPolicy;

/// Where the generated schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/policy.schema.json";

/// Generates the policy schema (JSON Schema 2020-12) from the Rust types.
pub fn generate() -> Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawPolicy>()
        .to_value();
    drop_null_defaults(&mut schema);
    schema
}

/// Optional rules are `Option`s read with `#[serde(default)]`, which schemars documents as
/// `"default": null`; the schema refuses `null` for them, so absent means absent.
fn drop_null_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// The schema as committed: pretty-printed JSON with a trailing newline.
pub fn generate_text() -> String {
    let mut text = serde_json::to_string_pretty(&generate())
        .expect("invariant: a serde_json::Value always serialises");
    text.push('\n');
    text
}
