//! Ad-hoc activation (`POST /data/core/activation/disflowprovider/adhocrun`, reference §1): the
//! accepted job's orders, what became of a POST ([`AdhocOutcome`]), and reading the platform's
//! refusals (the "Run already going on" message, the human message of an error body).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::error::ApiError;

/// The body of an ad-hoc job:
/// `{"activationInfo": {destination: [segment, ...]}, "exportIds": [...]}`.
///
/// Built once from a checked plan (`plan::request::request_body`), then shown by `plan`, saved
/// by `plan --out`, recorded in the lockfile and POSTed by `apply`, so that what was reviewed is
/// byte for byte what is sent. Destinations are keyed (and so ordered) by ID; segments keep plan
/// order. Serialised with keys in that order, which is also sorted order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdhocRequest {
    /// Destination dataflow ID → the segments it gets.
    pub activation_info: BTreeMap<String, Vec<String>>,
    /// The export job IDs to activate from; absent only under API version 2 with `exports`
    /// left out of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_ids: Option<Vec<String>>,
}

impl AdhocRequest {
    /// The (destination, segment) pairs the body activates, in body order.
    pub fn pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.activation_info.iter().flat_map(|(dest, segments)| {
            segments
                .iter()
                .map(move |segment| (dest.clone(), segment.clone()))
        })
    }

    /// The body without the pairs in `done`: a destination left with no segment is removed,
    /// and `None` when no destination is left.
    pub fn without(&self, done: &BTreeSet<(String, String)>) -> Option<Self> {
        let activation_info: BTreeMap<String, Vec<String>> = self
            .activation_info
            .iter()
            .map(|(dest, segments)| {
                let kept = segments
                    .iter()
                    .filter(|s| !done.contains(&(dest.clone(), (*s).clone())))
                    .cloned()
                    .collect::<Vec<_>>();
                (dest.clone(), kept)
            })
            .filter(|(_, segments)| !segments.is_empty())
            .collect();
        (!activation_info.is_empty()).then(|| AdhocRequest {
            activation_info,
            export_ids: self.export_ids.clone(),
        })
    }

    /// The body as pretty JSON, as `plan` shows it.
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("invariant: a request body always serialises")
    }
}

/// One element of an accepted ad-hoc job's `order` array: a run of one segment on one dataflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The activated segment (audience) ID.
    pub segment: String,
    /// The destination dataflow ID.
    pub order: String,
    /// The run to poll ([`crate::api::Client::get_run`]): an absolute URL.
    #[serde(rename = "statusURL")]
    pub status_url: String,
}

impl Order {
    /// The run ID: the last path segment of `statusURL`
    /// (`…/data/foundation/flowservice/runs/{runId}`).
    pub fn run_id(&self) -> Option<&str> {
        let path = self.status_url.split(['?', '#']).next()?;
        path.trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|id| !id.is_empty() && !id.contains(':'))
    }
}

/// The 200 body of an ad-hoc job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AdhocResponse {
    pub(crate) order: Vec<Order>,
}

/// What became of an ad-hoc POST. Only `Accepted` and `Rejected` are answers from the platform;
/// the two others say whether the request can have reached it.
#[derive(Debug)]
pub enum AdhocOutcome {
    /// 200: the job started; one order per (destination, segment).
    Accepted(Vec<Order>),
    /// The platform refused the job with this status and error body (after the allowed retries
    /// for 429/503). Nothing started.
    Rejected { status: u16, body: Value },
    /// The request may have been sent and the response was lost (timeout, reset, unreadable
    /// answer). The job may be running: it must **not** be sent again; reconcile through the
    /// dataflows' runs.
    Unknown { error: ApiError },
    /// The request was never sent (no token, no connection): safe to report as not submitted.
    NotSent { error: ApiError },
}

impl AdhocOutcome {
    /// The "Run already going on" refusal, when this is one.
    pub fn run_already_going(&self) -> Option<RunAlreadyGoing> {
        match self {
            Self::Rejected { body, .. } => RunAlreadyGoing::from_body(body),
            _ => None,
        }
    }
}

/// The platform's refusal `Run already going on for segment|audience <id> for order <dataflow>
/// with run id <run>`: a temporary condition (exit 75).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAlreadyGoing {
    /// The whole message.
    pub message: String,
    pub segment: Option<String>,
    pub order: Option<String>,
    pub run_id: Option<String>,
}

impl RunAlreadyGoing {
    /// Finds the message anywhere in an error body (`message`, `detail`, `title`, ... : the
    /// field is UNCONFIRMED, so every string is searched).
    pub fn from_body(body: &Value) -> Option<Self> {
        let message = find_string(body, &|s| {
            s.to_ascii_lowercase().contains("run already going on")
        })?;
        let word_after = |marker: &str| {
            let lower = message.to_ascii_lowercase();
            let start = lower.find(marker)? + marker.len();
            message[start..]
                .split_whitespace()
                .next()
                .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-'))
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            segment: word_after(" for segment ").or_else(|| word_after(" for audience ")),
            order: word_after(" for order "),
            run_id: word_after(" with run id "),
            message: message.to_owned(),
        })
    }
}

/// The human message of a Platform error body: `message`, `detail`, `title`, `errorMessage`,
/// `error_description` or `error`, the first present.
pub(crate) fn error_message(body: &Value) -> Option<&str> {
    [
        "message",
        "detail",
        "errorMessage",
        "error_description",
        "title",
        "error",
    ]
    .iter()
    .find_map(|key| body.get(key)?.as_str().filter(|s| !s.is_empty()))
}

fn find_string<'a>(value: &'a Value, pred: &dyn Fn(&str) -> bool) -> Option<&'a str> {
    match value {
        Value::String(s) if pred(s) => Some(s),
        Value::Array(items) => items.iter().find_map(|v| find_string(v, pred)),
        Value::Object(map) => map.values().find_map(|v| find_string(v, pred)),
        _ => None,
    }
}

/// The ad-hoc activation API version to speak (DESIGN.md "API versions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AdhocApiVersion {
    /// The beta API of the seed document: `exportIds` required, 20 segments per job.
    #[default]
    #[value(name = "1")]
    V1,
    /// `Accept: application/vnd.adobe.adhoc.activation+json; version=2`: `exportIds` optional,
    /// 80 segments per job.
    #[value(name = "2")]
    V2,
}

impl AdhocApiVersion {
    /// The platform's limit of distinct segments in one ad-hoc job under this version.
    pub fn max_segments_per_job(self) -> usize {
        match self {
            AdhocApiVersion::V1 => 20,
            AdhocApiVersion::V2 => 80,
        }
    }

    /// The version as the platform and aepact's files write it: 1 or 2.
    pub fn number(self) -> u8 {
        match self {
            AdhocApiVersion::V1 => 1,
            AdhocApiVersion::V2 => 2,
        }
    }

    /// The version of a number, `None` for anything but 1 and 2.
    pub fn from_number(n: u64) -> Option<Self> {
        match n {
            1 => Some(AdhocApiVersion::V1),
            2 => Some(AdhocApiVersion::V2),
            _ => None,
        }
    }
}

/// Written as the number 1 or 2 (lockfiles, saved plans).
impl serde::Serialize for AdhocApiVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.number())
    }
}

impl<'de> serde::Deserialize<'de> for AdhocApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = <u64 as serde::Deserialize>::deserialize(deserializer)?;
        AdhocApiVersion::from_number(n).ok_or_else(|| {
            serde::de::Error::custom(format!("`apiVersion` must be 1 or 2, not {n}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_already_going_is_found_and_parsed() {
        let body = json!({
            "type": "https://ns.adobe.com/aep/errors/DEST-ADH-409",
            "detail": "Run already going on for segment fb1bb839-69e5-40e8-ba9b-c96b84bf1519 for order 07e4dca1-dafb-4c2f-ab05-e4f65c4a4f62 with run id 6becd765-a2ca-4a8f-8041-37fad0f4391a",
        });
        let found = RunAlreadyGoing::from_body(&body).unwrap();
        assert_eq!(
            found.segment.as_deref(),
            Some("fb1bb839-69e5-40e8-ba9b-c96b84bf1519")
        );
        assert_eq!(
            found.order.as_deref(),
            Some("07e4dca1-dafb-4c2f-ab05-e4f65c4a4f62")
        );
        assert_eq!(
            found.run_id.as_deref(),
            Some("6becd765-a2ca-4a8f-8041-37fad0f4391a")
        );
        assert!(
            RunAlreadyGoing::from_body(&json!({"message": "Segments x are not part"})).is_none()
        );
    }

    #[test]
    fn run_ids_come_from_status_urls() {
        let order = |url: &str| Order {
            segment: "s".into(),
            order: "o".into(),
            status_url: url.into(),
        };
        let url = "https://platform.adobe.io/data/foundation/flowservice/runs/88d6da63-dc97-460e-b781-fc795a7386d9";
        assert_eq!(
            order(url).run_id(),
            Some("88d6da63-dc97-460e-b781-fc795a7386d9")
        );
        assert_eq!(
            order(&format!("{url}/?x=1")).run_id(),
            Some("88d6da63-dc97-460e-b781-fc795a7386d9")
        );
        assert_eq!(order("https:").run_id(), None);
    }
}
