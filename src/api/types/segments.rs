//! Segmentation Service: an audience's definition, read for its name when a dataflow's segment
//! selector carries none (`reference/aep-api.md` §4.3, `GET /data/core/ups/segment/definitions/{id}`).
//!
//! The client reads the ID and the name; the rest of the documented shape (the PQL expression,
//! the merge policy, evaluation settings, times) is kept only so the emulator serves it, and is
//! read leniently.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::lenient;

/// One segment (audience) definition, as `GET /segment/definitions/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentDefinition {
    pub id: String,
    /// The audience's name; empty or absent when it has none.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `{type: "PQL", format, value}`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Value::is_null"
    )]
    pub expression: Value,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub merge_policy_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub creation_time: Option<i64>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_time: Option<i64>,
}

impl SegmentDefinition {
    /// The audience's name, when it has a non-empty one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().filter(|n| !n.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_documented_definition_reads_with_its_name() {
        let def: SegmentDefinition = serde_json::from_value(json!({
            "id": "2f1c0d3e-0000-4000-8000-000000000001", "name": "Loyalty gold",
            "description": "tier", "schema": {"name": "_xdm.context.profile"},
            "expression": {"type": "PQL", "format": "pql/text", "value": "true"},
            "mergePolicyId": "mp", "evaluationInfo": {"batch": {"enabled": true}},
            "creationTime": 1, "updateTime": "not a number", "updateEpoch": 2,
        }))
        .unwrap();
        assert_eq!(def.name(), Some("Loyalty gold"));
        assert_eq!(def.update_time, None);
    }

    #[test]
    fn a_blank_name_is_no_name() {
        let def: SegmentDefinition =
            serde_json::from_value(json!({"id": "x", "name": "  "})).unwrap();
        assert_eq!(def.name(), None);
    }
}
