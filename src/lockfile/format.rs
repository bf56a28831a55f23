//! The on-disk format: the types whose field declaration order is the key order on disk, their
//! serialisation, and the byte-stable JSON writer ([`Lockfile::to_json`]).
//!
//! What a record means, and how it may change, is [`super::state`]; reading it back with
//! positions is [`super::parse`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::api::{AdhocApiVersion, AdhocRequest};
use crate::plan::model::Exports;
use crate::time::Timestamp;

/// The lockfile format this version of aepact writes.
///
/// Version 2 added each run's `override` (the platform's recent runs that `apply` was told to
/// send past, see `docs/lockfile.md`) and the order status `lost`. Version 3 (issue 11, proof
/// of delivery) added each run's `appliedBy` and, in an order's `metrics`, the run's bytes and
/// the segment's own record counts. Older files are read as version 3 with those fields `null`,
/// and written back as version 3 on their next change. The version moved so that an older
/// aepact, which refuses unknown keys, says "another `lockfileVersion`: upgrade aepact" rather
/// than pointing at an unknown key.
pub const LOCKFILE_VERSION: u32 = 3;

/// Every lockfile format this version of aepact reads.
pub const READABLE_VERSIONS: [u32; 3] = [1, 2, 3];

/// A plan's lockfile: the append-only history of its activations, one [`RunRecord`] per
/// `apply`.
///
/// Field order is key order on disk; do not reorder fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lockfile {
    /// One of [`READABLE_VERSIONS`], checked before anything else is read; always
    /// [`LOCKFILE_VERSION`] once aepact has changed the file.
    pub lockfile_version: u32,
    /// The plan's `name`.
    pub plan: String,
    /// Every apply of the plan, oldest first. Runs are appended, never removed or reordered.
    pub runs: Vec<RunRecord>,
}

/// One `apply`: what was intended, where it went, and each job sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunRecord {
    /// The plan's `run` number at the time.
    pub run: u64,
    /// Digest of the plan's intent (sandbox, exports spec, destinations, segments, run): an
    /// apply whose intent digest is recorded with every job submitted sends nothing.
    pub intent_digest: String,
    /// When the apply started (before its first job was recorded).
    pub applied_at: Timestamp,
    /// Who applied it, when known at apply time: `GITHUB_ACTOR`, else `GITLAB_USER_LOGIN`,
    /// else `USER` (a login name, never a token). `null` when none was set, and in files
    /// before version 3.
    #[serde(default)]
    pub applied_by: Option<String>,
    /// The platform base URL the jobs went to (no credentials, query or fragment).
    pub endpoint: String,
    /// The IMS organisation ID (`x-gw-ims-org-id`).
    pub org: String,
    /// The sandbox (`x-sandbox-name`).
    pub sandbox: String,
    /// The ad-hoc API version spoken: 1 or 2.
    pub api_version: AdhocApiVersion,
    /// The plan's export spec and the export job IDs it resolved to.
    pub exports: ExportsRecord,
    /// `null`, or the recent runs of this run's (destination, segment) pairs that no lockfile
    /// recorded and that `apply --allow-unrecorded-runs` was told to send past. Absent in
    /// version 1 files (read as `null`).
    #[serde(default, rename = "override")]
    pub override_: Option<RunOverride>,
    /// One entry per ad-hoc request (several with `--split`), in the order sent.
    pub jobs: Vec<JobRecord>,
}

/// What an explicit override let `apply` send past: the flag, and each run the platform showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunOverride {
    /// The command-line flag that was given (`--allow-unrecorded-runs`).
    pub flag: String,
    /// The platform's recent runs that no lockfile recorded, one per (destination, segment).
    pub runs: Vec<OverriddenRun>,
}

/// One platform run an override sent past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OverriddenRun {
    /// The destination dataflow ID.
    pub destination: String,
    pub segment: String,
    pub run_id: String,
    /// When the platform created it (`null` when it did not say).
    pub created_at: Option<Timestamp>,
}

/// The plan's `exports` and what it resolved to when applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExportsRecord {
    /// `latest`, `ids` (explicit IDs in the plan) or `omitted` (API version 2 only).
    pub spec: ExportsSpec,
    /// The export job IDs sent as `exportIds` (empty when omitted).
    pub resolved: Vec<String>,
}

/// What the plan said about exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExportsSpec {
    Latest,
    Ids,
    Omitted,
}

impl ExportsRecord {
    /// The record of a plan's `exports` and the IDs sent for it.
    pub fn new(exports: &Exports, resolved: Vec<String>) -> Self {
        let spec = match exports {
            Exports::Latest => ExportsSpec::Latest,
            Exports::Ids(_) => ExportsSpec::Ids,
            Exports::Omitted => ExportsSpec::Omitted,
        };
        ExportsRecord { spec, resolved }
    }
}

/// One ad-hoc activation request and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobRecord {
    /// Position in the run's `jobs`, from 0.
    pub index: usize,
    /// See [`JobStatus`] for the transitions.
    pub status: JobStatus,
    /// When the request was about to be sent, recorded before sending: any run it created was
    /// created after this. `null` while the job has not been sent.
    pub sent_at: Option<Timestamp>,
    /// The exact JSON body POSTed (or to be POSTed).
    pub request: AdhocRequest,
    /// Why the job was rejected, or what was known when its response was lost.
    pub error: Option<JobError>,
    /// When `status` settled a `pending` or `unknown` job from the platform's runs rather than
    /// from the response; `null` when the response itself settled it.
    pub reconciled_at: Option<Timestamp>,
    /// The orders the platform returned (or `status` found), one per segment and destination.
    pub orders: Vec<OrderRecord>,
}

/// Where a job stands.
///
/// `pending` (recorded before sending) → `submitted` (orders returned), `rejected` (the
/// platform answered with an error, or `status` found it created no run) or `unknown` (the
/// response was lost after the request was sent). `status` settles `unknown`, and `pending`
/// jobs with a `sentAt`, from the platform's runs: → `submitted` or `rejected`. `submitted` and
/// `rejected` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobStatus {
    Pending,
    Submitted,
    Rejected,
    Unknown,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Submitted => "submitted",
            JobStatus::Rejected => "rejected",
            JobStatus::Unknown => "unknown",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong with a job: the platform's answer, or what we know about a lost one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobError {
    /// The HTTP status of the platform's answer; `null` when no answer arrived.
    pub http_status: Option<u16>,
    /// One line for people: the platform's message, or what happened to the connection.
    pub message: String,
    /// The platform's error body as received: JSON, or a string when it was not JSON.
    pub body: Option<Value>,
}

impl JobError {
    /// The platform's answer: its status, a one-line message and its body.
    pub fn answer(status: u16, message: impl Into<String>, body: Value) -> Self {
        JobError {
            http_status: Some(status),
            message: message.into(),
            body: Some(body),
        }
    }

    /// No answer arrived: what is known instead (a lost connection, a run found or not).
    pub fn no_answer(message: impl Into<String>) -> Self {
        JobError {
            http_status: None,
            message: message.into(),
            body: None,
        }
    }
}

/// One (segment, destination) pair activated by a job, and its run's latest known state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrderRecord {
    /// The segment (audience) ID.
    pub segment: String,
    /// The order: the destination dataflow ID.
    pub order: String,
    /// The Flow Service run URL to poll (the platform's `statusURL`).
    pub status_url: String,
    /// The flow run's ID (the last path segment of the status URL).
    pub run_id: Option<String>,
    /// The run's latest status; `notChecked` until `status` first polls it.
    pub status: OrderStatus,
    /// When the platform created the run.
    pub created_at: Option<Timestamp>,
    /// When the run started.
    pub started_at: Option<Timestamp>,
    /// When the run finished.
    pub finished_at: Option<Timestamp>,
    /// Record and file counts, once the platform reports them.
    pub metrics: Option<OrderMetrics>,
    /// The run's errors (`metrics.statusSummary.errors`), as the platform reports them.
    pub errors: Vec<Value>,
    /// When `status` last polled the run.
    pub checked_at: Option<Timestamp>,
}

/// Record, file and byte counts of a run (`recordSummary`, `fileSummary`, `sizeSummary`), and
/// the order's segment's own record counts when the run reports them per segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrderMetrics {
    pub input_records: Option<u64>,
    pub output_records: Option<u64>,
    pub failed_records: Option<u64>,
    pub input_files: Option<u64>,
    pub output_files: Option<u64>,
    /// `sizeSummary.inputBytes`; absent before version 3.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// `sizeSummary.outputBytes`; absent before version 3.
    #[serde(default)]
    pub output_bytes: Option<u64>,
    /// The segment's entry of `recordSummary.targetSummaries[].entitySummaries[]`
    /// (`id: segment:<audience ID>`, a shape the platform's documentation leaves UNCONFIRMED);
    /// `null` when the run reports no such entry. One run may carry several segments, so the
    /// counts above are the run's and these the segment's.
    #[serde(default)]
    pub segment: Option<SegmentRecords>,
}

/// One segment's record counts within a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SegmentRecords {
    pub input_records: Option<u64>,
    pub output_records: Option<u64>,
    pub failed_records: Option<u64>,
}

impl OrderMetrics {
    /// The records exported for the order's segment: the segment's own count when the run
    /// reports one, else the run's output count.
    pub fn segment_exported(&self) -> Option<u64> {
        self.segment
            .and_then(|s| s.output_records)
            .or(self.output_records)
    }
}

/// A flow run's status as the platform reports it (`metrics.statusSummary.status`).
///
/// Final: `success`, `partialSuccess`, `failed`, `cancelled`. Anything else, including values
/// this version does not know (kept verbatim), counts as still in flight: `status` keeps polling
/// and `plan` refuses the plan's segments meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Recorded at submission; `status` has not polled the run yet.
    NotChecked,
    Scheduled,
    InProgress,
    Success,
    PartialSuccess,
    Failed,
    Cancelled,
    /// The platform answered 404 for the run: it does not know it (an order recorded against
    /// another platform, or a run the platform has dropped). Not a platform value: `status`
    /// records it, exits 1 for it and keeps asking on later polls, but `--wait` does not wait
    /// for it.
    Lost,
    /// A value this version does not know, kept as the platform wrote it.
    Other(String),
}

impl OrderStatus {
    const KNOWN: [(OrderStatus, &'static str); 8] = [
        (OrderStatus::NotChecked, "notChecked"),
        (OrderStatus::Scheduled, "scheduled"),
        (OrderStatus::InProgress, "inProgress"),
        (OrderStatus::Success, "success"),
        (OrderStatus::PartialSuccess, "partialSuccess"),
        (OrderStatus::Failed, "failed"),
        (OrderStatus::Cancelled, "cancelled"),
        (OrderStatus::Lost, "lost"),
    ];

    /// The status of a platform value, matched case-insensitively (the platform writes both
    /// `failed` and `Failed`); unknown values are kept as they are.
    pub fn from_platform(value: &str) -> Self {
        Self::KNOWN
            .iter()
            .filter(|(status, _)| !matches!(status, OrderStatus::NotChecked | OrderStatus::Lost))
            .find(|(_, name)| name.eq_ignore_ascii_case(value))
            .map(|(status, _)| status.clone())
            .unwrap_or_else(|| OrderStatus::Other(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Other(s) => s,
            known => {
                Self::KNOWN
                    .iter()
                    .find(|(status, _)| status == known)
                    .map(|(_, name)| *name)
                    .unwrap_or_default() // every variant but `Other` is in KNOWN
            }
        }
    }

    /// Whether the run has finished (it will not change again).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            OrderStatus::Success
                | OrderStatus::PartialSuccess
                | OrderStatus::Failed
                | OrderStatus::Cancelled
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OrderStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(Self::KNOWN
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(status, _)| status.clone())
            .unwrap_or(OrderStatus::Other(s)))
    }
}

impl Lockfile {
    /// An empty lockfile for the plan named `plan`.
    pub fn new(plan: impl Into<String>) -> Self {
        Lockfile {
            lockfile_version: LOCKFILE_VERSION,
            plan: plan.into(),
            runs: Vec::new(),
        }
    }

    /// The lockfile as written: pretty JSON, 2-space indent, keys in declaration order, one
    /// trailing newline.
    pub fn to_json(&self) -> String {
        // Invariant: every type here serialises to JSON without error (string keys only, no
        // fallible custom serialisers).
        let mut text =
            serde_json::to_string_pretty(self).expect("lockfile types always serialise to JSON");
        text.push('\n');
        text
    }
}

// ---------------------------------------------------------------------------------------------
// What runs record about where they went

/// What a run sent to the built-in emulator (`--emulator`) records as its `endpoint`: the
/// emulator is a target of its own, whatever port it happened to listen on.
pub const EMULATOR_ENDPOINT: &str = "emulator";

/// The platform base URL as recorded: user info (`user:pass@`), query and fragment removed, and
/// no trailing slash, so a URL with credentials in it never reaches a lockfile.
pub fn redact_endpoint(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}{host}{path}")
        .trim_end_matches('/')
        .to_owned()
}

/// The flow run ID in a status URL: the path segment after `/runs/`
/// (`…/data/foundation/flowservice/runs/{id}`).
///
/// Returns `None` when the URL has no `/runs/{id}`.
pub fn run_id_from_status_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let (_, after) = path.rsplit_once("/runs/")?;
    let id = after.split('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_lose_credentials_query_and_fragment() {
        assert_eq!(
            redact_endpoint("https://user:secret@platform.adobe.io/?token=x#f"),
            "https://platform.adobe.io"
        );
        assert_eq!(
            redact_endpoint("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            redact_endpoint("https://platform-stage.adobe.io/base"),
            "https://platform-stage.adobe.io/base"
        );
    }

    #[test]
    fn run_ids_come_from_status_urls() {
        assert_eq!(
            run_id_from_status_url(
                "https://platform.adobe.io/data/foundation/flowservice/runs/88d6da63-dc97-460e-b781-fc795a7386d9"
            )
            .as_deref(),
            Some("88d6da63-dc97-460e-b781-fc795a7386d9")
        );
        assert_eq!(
            run_id_from_status_url("http://127.0.0.1:1/runs/abc/?x=1").as_deref(),
            Some("abc")
        );
        assert_eq!(run_id_from_status_url("https://platform.adobe.io"), None);
        assert_eq!(
            run_id_from_status_url("https://platform.adobe.io/runs/"),
            None
        );
        assert_eq!(run_id_from_status_url(""), None);
    }

    #[test]
    fn order_statuses_read_platform_values() {
        assert_eq!(OrderStatus::from_platform("Failed"), OrderStatus::Failed);
        assert_eq!(OrderStatus::from_platform("success"), OrderStatus::Success);
        assert_eq!(
            OrderStatus::from_platform("partialSuccess"),
            OrderStatus::PartialSuccess
        );
        assert_eq!(
            OrderStatus::from_platform("notChecked"),
            OrderStatus::Other("notChecked".into())
        );
        assert_eq!(
            OrderStatus::from_platform("queued"),
            OrderStatus::Other("queued".into())
        );
        assert!(!OrderStatus::Other("queued".into()).is_final());
        assert!(!OrderStatus::NotChecked.is_final());
        assert!(!OrderStatus::InProgress.is_final());
        assert!(OrderStatus::PartialSuccess.is_final());
        for (status, name) in OrderStatus::KNOWN {
            assert_eq!(status.as_str(), name);
        }
    }
}
