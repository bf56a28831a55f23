//! The policy's JSON schema, generated from [`RawPolicy`] like the plan's, committed at
//! `schemas/policy.schema.json` (editors resolve a policy's modeline against it) and kept fresh
//! by a test.

use serde_json::Value;

use super::model::RawPolicy;

/// Where the generated schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/policy.schema.json";

/// Generates the policy schema (JSON Schema 2020-12) from the Rust types, as the plan's is
/// (optional rules absent, never `"default": null`).
pub fn generate() -> Value {
    crate::plan::schema::generate_for::<RawPolicy>()
}

/// The schema as committed: pretty-printed JSON with a trailing newline.
pub fn generate_text() -> String {
    crate::plan::schema::committed_text(&generate())
}
