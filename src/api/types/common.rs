//! What the service types share: the Flow Service list shape, and a lenient reader for fields
//! only the emulator needs.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The Flow Service list shape, shared by flows and runs.

/// The Flow Service list shape `{items: [...], _links: {next: {href}}}`. One flow or run comes
/// as a list of one, without `_links`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Items<T> {
    #[serde(default = "Vec::new")]
    pub(crate) items: Vec<T>,
    #[serde(default, rename = "_links", skip_serializing_if = "Option::is_none")]
    pub(crate) links: Option<Links>,
}

/// `_links`: `{}` on a list's last page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<Href>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Href {
    pub(crate) href: String,
}

// ---------------------------------------------------------------------------------------------
// Reading what the client does not use.

/// Reads a field only the emulator needs: a value of another shape reads as the default
/// (absent, empty) instead of failing the whole body, so the platform may send anything there
/// without breaking a command. Use with `#[serde(default, deserialize_with = "lenient")]`.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}
