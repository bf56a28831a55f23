//! The lockfile: `plans/x.yaml` → `plans/x.lock.json`, the committed, append-only record of every
//! activation of a plan (`docs/lockfile.md`).
//!
//! This module owns the format (types whose field declaration order is the key order on disk),
//! the byte-stable JSON writer, the atomic save (temp file, fsync, rename, fsync of the
//! directory), the exclusive lock held for a whole `apply` or `status`, and the state machine of
//! jobs. It is separate from the commands because exactly-once activation rests on it: every
//! transition `apply` and `status` make goes through the mutators here, which refuse impossible
//! ones instead of writing a false record.
//!
//! Secrets never reach this module's types: a run records the endpoint (with any user info,
//! query or fragment removed), the org ID and the sandbox, never a token, key or client secret.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use miette::{NamedSource, SourceSpan};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::digest::{Intent, IntentExports};
use crate::fsx;
use crate::plan::AdhocApiVersion;
use crate::plan::model::Exports;
pub use crate::time::{Timestamp, TimestampError};

/// The lockfile format this version of aepact writes.
///
/// Version 2 added each run's `override` (the platform's recent runs that `apply` was told to
/// send past, see `docs/lockfile.md`) and the order status `lost`. Version 1 files are read as
/// version 2 with no override, and written back as version 2 on their next change.
pub const LOCKFILE_VERSION: u32 = 2;

/// Every lockfile format this version of aepact reads.
pub const READABLE_VERSIONS: [u32; 2] = [1, 2];

// ---------------------------------------------------------------------------------------------
// Errors

/// Everything that can go wrong reading, writing or locking a lockfile.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockfileError {
    #[error("cannot read `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::read),
        help("check that the file exists and is readable")
    )]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("the lockfile `{path}` is not valid JSON: {message} at line {line}, column {column}")]
    #[diagnostic(
        code(aepact::lockfile::syntax),
        help(
            "aepact never overwrites a lockfile it cannot read. It is a committed record: restore \
             it from git (`git checkout -- {path}`) or fix the JSON by hand, then run the command \
             again"
        )
    )]
    Syntax {
        path: String,
        message: String,
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` has an unresolved merge conflict: `{marker}` at line {line}, column 1"
    )]
    #[diagnostic(
        code(aepact::lockfile::merge_conflict),
        help(
            "resolve the conflict keeping both sides' runs: every run and order on either side \
             really happened. Put the runs of both sides in `runs`, oldest first, keep each \
             side's jobs and orders as they are, remove the `<<<<<<<`, `=======` and `>>>>>>>` \
             lines, check the result with `aepact lock verify {path}`, then run `aepact status`. \
             aepact never overwrites a lockfile it cannot read"
        )
    )]
    MergeConflict {
        path: String,
        marker: String,
        line: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("conflict marker")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` does not match the lockfile format: {message} at line {line}, column {column}"
    )]
    #[diagnostic(
        code(aepact::lockfile::invalid),
        help(
            "a hand edit probably left a typo, an unknown key or a missing field: compare with \
             docs/lockfile.md, or restore the file from git (`git checkout -- {path}`); aepact \
             never overwrites a lockfile it cannot read"
        )
    )]
    Invalid {
        path: String,
        message: String,
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` has `lockfileVersion` {found}; this aepact reads versions 1 and 2"
    )]
    #[diagnostic(
        code(aepact::lockfile::version),
        help(
            "a newer version of aepact probably wrote it: upgrade aepact; if it was edited by \
             hand, restore it from git (`git checkout -- {path}`). aepact never overwrites a \
             lockfile it cannot read"
        )
    )]
    UnsupportedVersion {
        path: String,
        found: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("this version")]
        at: SourceSpan,
    },

    #[error("the lockfile `{path}` is inconsistent: {message}")]
    #[diagnostic(
        code(aepact::lockfile::inconsistent),
        help(
            "a hand edit probably broke it: restore it from git (`git checkout -- {path}`); \
             aepact never overwrites a lockfile it cannot read"
        )
    )]
    Inconsistent { path: String, message: String },

    #[error("the lockfile `{path}` records plan `{found}`, not `{expected}`")]
    #[diagnostic(
        code(aepact::lockfile::wrong_plan),
        help(
            "a lockfile belongs to the plan whose `name` it records: if the plan was renamed, \
             rename it back; if it is a different plan, move the old lockfile out of the way (it \
             is the record of real activations: keep it in git history)"
        )
    )]
    WrongPlan {
        path: String,
        expected: String,
        found: String,
    },

    #[error("cannot write the lockfile `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::write),
        help(
            "check that the directory is writable and the disk is not full; the previous \
             lockfile, if there was one, is unchanged"
        )
    )]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("cannot lock the plan `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::lock),
        help(
            "check that the plan file exists and is readable: `apply` and `status` lock the plan \
             file itself while they work on its lockfile"
        )
    )]
    Lock {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "another `aepact apply` or `aepact status` is working on `{path}`: its lock was still held after {waited}"
    )]
    #[diagnostic(
        code(aepact::lockfile::busy),
        help(
            "wait for the other command to finish and run this one again, or let it wait longer \
             with `--lock-timeout` (for example `--lock-timeout 10m`)"
        )
    )]
    LockTimeout { path: String, waited: String },

    #[error("the lockfile `{path}` changed on disk while aepact held the plan's lock")]
    #[diagnostic(
        code(aepact::lockfile::changed),
        help(
            "something else wrote it meanwhile (an `aepact` run on a replaced plan file, a `git \
             checkout` or `git pull`, an editor). aepact did not overwrite it and wrote its own \
             record to `{ours}`: merge the runs of both by hand (keep every run and order), \
             delete that file, then run `aepact status`"
        )
    )]
    ChangedOnDisk { path: String, ours: String },

    #[error(
        "the lockfile `{path}` records activations for org `{found}` (run {run}), but aepact is configured for org `{expected}`"
    )]
    #[diagnostic(
        code(aepact::lockfile::other_org),
        help(
            "a lockfile is the record of one organisation's activations, and another org's runs \
             never count as applied here: check `AEP_ORG_ID`. To activate the plan in another \
             organisation as well, copy it to a plan of its own (another file and `name`)"
        )
    )]
    OtherOrg {
        path: String,
        run: u64,
        found: String,
        expected: String,
    },

    #[error(
        "the lockfile `{path}` records run {run} sent to `{found}`, but aepact is configured for `{expected}`"
    )]
    #[diagnostic(code(aepact::lockfile::other_endpoint), help("{help}"))]
    OtherEndpoint {
        path: String,
        run: u64,
        found: String,
        expected: String,
        help: String,
    },

    #[error(
        "the lockfile `{path}` is inconsistent: `intentDigest` of run {run} (`{pointer}`) is `{found}`, but what the run records digests to `{expected}`"
    )]
    #[diagnostic(
        code(aepact::lockfile::digest_mismatch),
        help(
            "the digest is what makes `apply` skip an intent already sent, so aepact will not \
             guess which intent this run was: restore the lockfile from git (`git checkout -- \
             {path}`), or, if the run's record is right, set `intentDigest` to the value above. \
             `aepact lock verify {path}` lists every mismatch"
        )
    )]
    DigestMismatch {
        path: String,
        run: u64,
        pointer: String,
        found: String,
        expected: String,
    },

    #[error("job {job} of run {run} cannot go from `{from}` to `{to}`")]
    #[diagnostic(
        code(aepact::lockfile::transition),
        help("this is a bug in aepact: please report it with the lockfile")
    )]
    Transition {
        run: u64,
        job: usize,
        from: String,
        to: String,
    },

    #[error("the lockfile has no {what}")]
    #[diagnostic(
        code(aepact::lockfile::no_entry),
        help("this is a bug in aepact: please report it with the lockfile")
    )]
    NoEntry { what: String },
}

type Result<T, E = LockfileError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// Paths and digests

/// The lockfile of a plan: `plans/flash-sale.yaml` (or `.yml`) → `plans/flash-sale.lock.json`.
///
/// Returns the plan path with `.yaml`/`.yml` replaced by `.lock.json`; any other name gets
/// `.lock.json` appended.
pub fn lockfile_path(plan_path: &Path) -> PathBuf {
    let ext = plan_path.extension().and_then(|e| e.to_str());
    if matches!(ext, Some("yaml" | "yml")) {
        plan_path.with_extension("lock.json")
    } else {
        let mut name = plan_path.as_os_str().to_owned();
        name.push(".lock.json");
        PathBuf::from(name)
    }
}

pub use crate::digest::sha256_hex;

/// SHA-256 of a file's contents as 64 lowercase hex digits (see [`crate::digest::file_sha256`]).
///
/// Returns an error naming the file when it cannot be read.
pub fn file_digest(path: &Path) -> Result<String> {
    crate::digest::file_sha256(path).map_err(|source| LockfileError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Whether two recorded endpoints name the same platform: equal once a trailing slash is
/// dropped and the scheme and host are lowercased.
fn same_endpoint(a: &str, b: &str) -> bool {
    let norm = |url: &str| {
        let url = url.trim_end_matches('/');
        match url.find("://") {
            Some(i) => {
                let rest = &url[i + 3..];
                let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                format!(
                    "{}://{}{path}",
                    url[..i].to_ascii_lowercase(),
                    host.to_ascii_lowercase()
                )
            }
            None => url.to_ascii_lowercase(),
        }
    };
    norm(a) == norm(b)
}

/// Whether a recorded endpoint is this machine (an emulator), or the built-in emulator itself.
fn is_local_endpoint(endpoint: &str) -> bool {
    let authority = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    endpoint == EMULATOR_ENDPOINT
        || host == "localhost"
        || host == "::1"
        || host.starts_with("127.")
}

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

// ---------------------------------------------------------------------------------------------
// The format

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
    /// The platform base URL the jobs went to (no credentials, query or fragment).
    pub endpoint: String,
    /// The IMS organisation ID (`x-gw-ims-org-id`).
    pub org: String,
    /// The sandbox (`x-sandbox-name`).
    pub sandbox: String,
    /// The ad-hoc API version spoken: 1 or 2.
    #[serde(with = "api_version_number")]
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
    pub request: Value,
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

/// Record and file counts of a run (`recordSummary`, `fileSummary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrderMetrics {
    pub input_records: Option<u64>,
    pub output_records: Option<u64>,
    pub failed_records: Option<u64>,
    pub input_files: Option<u64>,
    pub output_files: Option<u64>,
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

/// `apiVersion` on disk: the number 1 or 2.
mod api_version_number {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::plan::AdhocApiVersion;

    pub(super) fn serialize<S: Serializer>(
        version: &AdhocApiVersion,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(version.number())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<AdhocApiVersion, D::Error> {
        match u8::deserialize(deserializer)? {
            1 => Ok(AdhocApiVersion::V1),
            2 => Ok(AdhocApiVersion::V2),
            n => Err(serde::de::Error::custom(format!(
                "`apiVersion` must be 1 or 2, not {n}"
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building and changing records

/// Everything `apply` knows about a run before sending its first job.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub run: u64,
    pub intent_digest: String,
    pub applied_at: Timestamp,
    /// The platform base URL; user info, query and fragment are removed before recording.
    pub endpoint: String,
    pub org: String,
    pub sandbox: String,
    pub api_version: AdhocApiVersion,
    pub exports: ExportsRecord,
    /// The exact request body of each job, in the order they will be sent.
    pub requests: Vec<Value>,
    /// The platform's recent runs an explicit override sent past, if one was given.
    pub override_: Option<RunOverride>,
}

/// An order as the ad-hoc response returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub segment: String,
    pub order: String,
    pub status_url: String,
}

/// What `status` learnt about an order's run in one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub status: OrderStatus,
    /// The run's ID, when the poll returned it (kept as it was otherwise).
    pub run_id: Option<String>,
    pub created_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub metrics: Option<OrderMetrics>,
    pub errors: Vec<Value>,
    pub checked_at: Timestamp,
}

/// A job's place in a lockfile: positions in `runs` and in that run's `jobs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobRef {
    pub run: usize,
    pub job: usize,
}

/// An order's place in a lockfile: positions in `runs`, `jobs` and `orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderRef {
    pub run: usize,
    pub job: usize,
    pub order: usize,
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

impl OrderRecord {
    /// A freshly returned order: status `notChecked`, nothing polled yet.
    pub fn new(new: NewOrder) -> Self {
        OrderRecord {
            run_id: run_id_from_status_url(&new.status_url),
            segment: new.segment,
            order: new.order,
            status_url: new.status_url,
            status: OrderStatus::NotChecked,
            created_at: None,
            started_at: None,
            finished_at: None,
            metrics: None,
            errors: Vec::new(),
            checked_at: None,
        }
    }

    /// Records one poll of the order's run. Times and metrics the poll did not report keep
    /// their earlier values.
    pub fn update(&mut self, update: OrderUpdate) {
        self.status = update.status;
        if update.run_id.is_some() {
            self.run_id = update.run_id;
        }
        self.created_at = update.created_at.or(self.created_at);
        self.started_at = update.started_at.or(self.started_at);
        self.finished_at = update.finished_at.or(self.finished_at);
        self.metrics = update.metrics.or(self.metrics);
        self.errors = update.errors;
        self.checked_at = Some(update.checked_at);
    }
}

impl JobRecord {
    /// A job recorded before anything is sent.
    pub fn pending(index: usize, request: Value) -> Self {
        JobRecord {
            index,
            status: JobStatus::Pending,
            sent_at: None,
            request,
            error: None,
            reconciled_at: None,
            orders: Vec::new(),
        }
    }

    /// Whether the platform may have received the request: it is `unknown`, or `pending` with a
    /// `sentAt` (the process stopped between recording the send and recording its outcome).
    /// Such a job must never be sent again before `status` settles it.
    pub fn in_doubt(&self) -> bool {
        match self.status {
            JobStatus::Unknown => true,
            JobStatus::Pending => self.sent_at.is_some(),
            JobStatus::Submitted | JobStatus::Rejected => false,
        }
    }

    /// Whether the job may have activated something: `submitted`, or [`in_doubt`](Self::in_doubt).
    pub fn maybe_activated(&self) -> bool {
        self.status == JobStatus::Submitted || self.in_doubt()
    }

    /// The (destination, segment) pairs in the request's `activationInfo`.
    ///
    /// Returns no pairs for a body without that object (a request body is always built with
    /// it).
    pub fn requested_pairs(&self) -> Vec<(String, String)> {
        let Some(info) = self
            .request
            .get("activationInfo")
            .and_then(Value::as_object)
        else {
            return Vec::new();
        };
        info.iter()
            .flat_map(|(dest, segments)| {
                segments
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(move |seg| (dest.clone(), seg.to_owned()))
            })
            .collect()
    }

    /// Records that the request is about to be sent (save the lockfile before sending).
    ///
    /// Allowed only on a `pending` job not yet sent.
    pub fn mark_sending(&mut self, run: u64, at: Timestamp) -> Result<()> {
        if self.status != JobStatus::Pending || self.sent_at.is_some() {
            return Err(self.transition(run, "pending (sending)"));
        }
        self.sent_at = Some(at);
        Ok(())
    }

    /// Records the platform's orders for a job whose response arrived.
    pub fn mark_submitted(&mut self, run: u64, orders: Vec<NewOrder>) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Submitted)?;
        self.status = JobStatus::Submitted;
        self.orders = orders.into_iter().map(OrderRecord::new).collect();
        Ok(())
    }

    /// Records the platform's refusal of a job.
    pub fn mark_rejected(&mut self, run: u64, error: JobError) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Rejected)?;
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        Ok(())
    }

    /// Records that the response was lost after the request was (or may have been) sent.
    pub fn mark_unknown(&mut self, run: u64, error: JobError) -> Result<()> {
        self.require_sent_pending(run, JobStatus::Unknown)?;
        self.status = JobStatus::Unknown;
        self.error = Some(error);
        Ok(())
    }

    /// Settles a job in doubt from the platform's runs: it did create these orders. The error
    /// recorded when the response was lost is kept, as history.
    pub fn reconcile_submitted(
        &mut self,
        run: u64,
        orders: Vec<NewOrder>,
        at: Timestamp,
    ) -> Result<()> {
        if !self.in_doubt() {
            return Err(self.transition(run, "submitted"));
        }
        self.status = JobStatus::Submitted;
        self.orders = orders.into_iter().map(OrderRecord::new).collect();
        self.reconciled_at = Some(at);
        Ok(())
    }

    /// Settles a job in doubt from the platform's runs: it created none, so nothing was
    /// activated. `error` says how that was established.
    pub fn reconcile_not_received(
        &mut self,
        run: u64,
        error: JobError,
        at: Timestamp,
    ) -> Result<()> {
        if !self.in_doubt() {
            return Err(self.transition(run, "rejected"));
        }
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        self.reconciled_at = Some(at);
        Ok(())
    }

    /// Settles a `pending` job that was never sent (`sentAt` null) of an apply that stopped
    /// (only `status`, under the plan's lock, so no apply is still working on it): nothing was
    /// activated. `error` says so.
    pub fn settle_never_sent(&mut self, run: u64, error: JobError, at: Timestamp) -> Result<()> {
        if self.status != JobStatus::Pending || self.sent_at.is_some() {
            return Err(self.transition(run, "rejected (never sent)"));
        }
        self.status = JobStatus::Rejected;
        self.error = Some(error);
        self.reconciled_at = Some(at);
        Ok(())
    }

    fn require_sent_pending(&self, run: u64, to: JobStatus) -> Result<()> {
        if self.status == JobStatus::Pending && self.sent_at.is_some() {
            Ok(())
        } else {
            Err(self.transition(run, to.as_str()))
        }
    }

    fn transition(&self, run: u64, to: &str) -> LockfileError {
        let from = match (self.status, self.sent_at) {
            (JobStatus::Pending, Some(_)) => "pending (sent)".to_owned(),
            (status, _) => status.to_string(),
        };
        LockfileError::Transition {
            run,
            job: self.index,
            from,
            to: to.to_owned(),
        }
    }
}

impl RunRecord {
    /// Whether every job was submitted: the run's intent is applied.
    pub fn fully_submitted(&self) -> bool {
        !self.jobs.is_empty() && self.jobs.iter().all(|j| j.status == JobStatus::Submitted)
    }

    /// The request bodies of the run's jobs, in order.
    pub fn requests(&self) -> Vec<&Value> {
        self.jobs.iter().map(|j| &j.request).collect()
    }

    /// Destination → segments over every job's request.
    pub fn activation(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut activation: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (dest, segment) in self.jobs.iter().flat_map(JobRecord::requested_pairs) {
            activation.entry(dest).or_default().insert(segment);
        }
        activation
    }

    /// The intent this run records, with `activation` as its destinations and segments (its
    /// own, or, for a resumed run, those of the run it resumed).
    fn intent_with(&self, activation: BTreeMap<String, BTreeSet<String>>) -> Intent<'_> {
        let exports = match self.exports.spec {
            ExportsSpec::Latest => IntentExports::Latest,
            ExportsSpec::Ids => IntentExports::Ids(self.exports.resolved.clone()),
            ExportsSpec::Omitted => IntentExports::Omitted,
        };
        Intent {
            sandbox: &self.sandbox,
            api_version: self.api_version.number(),
            exports,
            activation,
            run: self.run,
        }
    }

    /// The intent digest of what the run records: sandbox, API version, exports spec, the
    /// (destination, segment) pairs of its requests and its `run` number.
    pub fn recorded_digest(&self) -> String {
        self.intent_with(self.activation()).digest()
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

    /// Appends a run with every job `pending` and not yet sent.
    ///
    /// Returns the run's position in `runs`.
    pub fn append_run(&mut self, new: NewRun) -> usize {
        let jobs = new
            .requests
            .into_iter()
            .enumerate()
            .map(|(i, request)| JobRecord::pending(i, request))
            .collect();
        self.runs.push(RunRecord {
            run: new.run,
            intent_digest: new.intent_digest,
            applied_at: new.applied_at,
            endpoint: redact_endpoint(&new.endpoint),
            org: new.org,
            sandbox: new.sandbox,
            api_version: new.api_version,
            exports: new.exports,
            override_: new.override_,
            jobs,
        });
        self.runs.len() - 1
    }

    /// The job at `at`, to change it with [`JobRecord`]'s `mark_*`/`reconcile_*` methods.
    ///
    /// Returns the run's plan `run` number along with the job (the mutators take it for their
    /// error messages).
    pub fn job_mut(&mut self, at: JobRef) -> Result<(u64, &mut JobRecord)> {
        let run = self
            .runs
            .get_mut(at.run)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("run at position {}", at.run),
            })?;
        let number = run.run;
        let job = run
            .jobs
            .get_mut(at.job)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("job {} in run {number}", at.job),
            })?;
        Ok((number, job))
    }

    /// The order at `at`, to record a poll with [`OrderRecord::update`].
    pub fn order_mut(&mut self, at: OrderRef) -> Result<&mut OrderRecord> {
        let (_, job) = self.job_mut(JobRef {
            run: at.run,
            job: at.job,
        })?;
        job.orders
            .get_mut(at.order)
            .ok_or_else(|| LockfileError::NoEntry {
                what: format!("order {} in job {} of run {}", at.order, at.job, at.run),
            })
    }

    /// The latest run recorded for an intent digest, if any, with its position.
    pub fn latest_run_for(&self, intent_digest: &str) -> Option<(usize, &RunRecord)> {
        self.runs
            .iter()
            .enumerate()
            .rev()
            .find(|(_, r)| r.intent_digest == intent_digest)
    }

    /// The run that already applied this intent: one with this digest whose every job was
    /// submitted. `apply` then sends nothing and says "already applied (run N at …)".
    pub fn already_applied(&self, intent_digest: &str) -> Option<&RunRecord> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.intent_digest == intent_digest && r.fully_submitted())
    }

    /// Jobs that are `pending` or `unknown`, oldest first. Those that are
    /// [`in_doubt`](JobRecord::in_doubt) may have reached the platform: `status` settles them,
    /// and `apply` must not send their intent again until it has.
    pub fn unsettled_jobs(&self) -> Vec<JobRef> {
        self.job_refs()
            .filter(|(_, j)| matches!(j.status, JobStatus::Pending | JobStatus::Unknown))
            .map(|(at, _)| at)
            .collect()
    }

    /// Jobs that may have reached the platform without a recorded outcome (see
    /// [`JobRecord::in_doubt`]), oldest first.
    pub fn jobs_in_doubt(&self) -> Vec<JobRef> {
        self.job_refs()
            .filter(|(_, j)| j.in_doubt())
            .map(|(at, _)| at)
            .collect()
    }

    /// Orders whose run has not reached a final status, oldest first: what `status` polls, and
    /// the segments `plan` must treat as in flight.
    pub fn non_final_orders(&self) -> Vec<OrderRef> {
        self.job_refs()
            .flat_map(|(at, job)| {
                job.orders
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| !o.status.is_final())
                    .map(move |(order, _)| OrderRef {
                        run: at.run,
                        job: at.job,
                        order,
                    })
            })
            .collect()
    }

    /// The job at `at`, if it exists.
    pub fn job(&self, at: JobRef) -> Option<&JobRecord> {
        self.runs.get(at.run)?.jobs.get(at.job)
    }

    /// The order at `at`, if it exists.
    pub fn order(&self, at: OrderRef) -> Option<&OrderRecord> {
        self.runs
            .get(at.run)?
            .jobs
            .get(at.job)?
            .orders
            .get(at.order)
    }

    /// The (destination, segment) pairs that runs with this intent digest may have activated:
    /// those of every job `submitted` or in doubt, read from its request's `activationInfo`.
    ///
    /// `apply` resuming an intent whose last run did not submit every job (one was rejected,
    /// or never sent) must not send these pairs again; [`already_applied`](Self::already_applied)
    /// alone does not say which jobs remain.
    pub fn maybe_activated_pairs(&self, intent_digest: &str) -> BTreeSet<(String, String)> {
        self.runs
            .iter()
            .filter(|r| r.intent_digest == intent_digest)
            .flat_map(|r| &r.jobs)
            .filter(|j| j.maybe_activated())
            .flat_map(JobRecord::requested_pairs)
            .collect()
    }

    /// Segments that may still be running on the platform: those of orders not final, and
    /// those requested by jobs in doubt. `plan` and `apply` refuse (exit 75) a plan with one of
    /// them, since the platform runs one ad-hoc job per segment at a time.
    pub fn segments_in_flight(&self) -> BTreeSet<String> {
        let mut segments = BTreeSet::new();
        for (_, job) in self.job_refs() {
            if job.in_doubt() {
                segments.extend(job.requested_pairs().into_iter().map(|(_, s)| s));
            }
            segments.extend(
                job.orders
                    .iter()
                    .filter(|o| !o.status.is_final())
                    .map(|o| o.segment.clone()),
            );
        }
        segments
    }

    /// The latest run that may have activated something (a job `submitted` or in doubt): its
    /// [`requests`](RunRecord::requests) are what `plan` diffs the new request bodies against.
    pub fn last_applied_run(&self) -> Option<&RunRecord> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.jobs.iter().any(JobRecord::maybe_activated))
    }

    /// The flow run IDs of every recorded order: the platform's runs this lockfile accounts for.
    pub fn recorded_run_ids(&self) -> HashSet<&str> {
        self.runs
            .iter()
            .flat_map(|r| &r.jobs)
            .flat_map(|j| &j.orders)
            .filter_map(|o| o.run_id.as_deref())
            .collect()
    }

    /// Refuses a lockfile with runs for another target than (`endpoint`, `org`): runs sent to
    /// another organisation or platform never count as applied here, and their orders cannot be
    /// polled here.
    ///
    /// `endpoint` is what runs record: the platform's base URL without credentials, or
    /// `emulator` for the built-in emulator.
    pub fn check_target(&self, endpoint: &str, org: &str, path: &Path) -> Result<()> {
        let path = path.display().to_string();
        if let Some(run) = self.runs.iter().find(|r| r.org != org) {
            return Err(LockfileError::OtherOrg {
                path,
                run: run.run,
                found: run.org.clone(),
                expected: org.to_owned(),
            });
        }
        let Some(run) = self
            .runs
            .iter()
            .find(|r| !same_endpoint(&r.endpoint, endpoint))
        else {
            return Ok(());
        };
        let help = if is_local_endpoint(&run.endpoint) {
            format!(
                "`{}` is this machine: these are runs against a local emulator, which never \
                 count as activations. If the file holds only such runs, delete it (`--emulator` \
                 keeps its own records under `.aepact/` since lockfile version 2), then plan \
                 again",
                run.endpoint
            )
        } else {
            format!(
                "a lockfile records one platform's activations: if `{}` is the platform you mean, \
                 set `AEP_PLATFORM_URL` to it; aepact never treats runs sent elsewhere as applied",
                run.endpoint
            )
        };
        Err(LockfileError::OtherEndpoint {
            path,
            run: run.run,
            found: run.endpoint.clone(),
            expected: endpoint.to_owned(),
            help,
        })
    }

    /// Runs whose `intentDigest` is not the digest of what they record (see
    /// [`RunRecord::recorded_digest`]), each at its JSON pointer.
    ///
    /// A run that resumed an earlier one (an apply that stopped short, then sent only the
    /// pairs nothing had activated) records a subset of the intent's pairs: it matches when its
    /// digest is that of its own fields with the pairs of an earlier run of the same digest
    /// that itself matches.
    pub fn digest_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut sound: Vec<usize> = Vec::new();
        for (r, run) in self.runs.iter().enumerate() {
            let own = run.recorded_digest();
            let resumed = || {
                sound.iter().any(|&e| {
                    let earlier = &self.runs[e];
                    earlier.intent_digest == run.intent_digest
                        && run.intent_with(earlier.activation()).digest() == run.intent_digest
                })
            };
            if own == run.intent_digest || resumed() {
                sound.push(r);
                continue;
            }
            problems.push(Problem {
                pointer: format!("/runs/{r}/intentDigest"),
                message: format!(
                    "`intentDigest` of run {} is `{}`, but what the run records (sandbox, API version, exports, segments, run number) digests to `{own}`",
                    run.run, run.intent_digest
                ),
            });
        }
        problems
    }

    /// Refuses a lockfile with a run whose digest does not match what it records (see
    /// [`digest_problems`](Self::digest_problems)): `plan` and `apply` decide what was already
    /// sent by digest, and a damaged record is never a reason to send again.
    pub fn check_digests(&self, path: &Path) -> Result<()> {
        let Some(problem) = self.digest_problems().into_iter().next() else {
            return Ok(());
        };
        let index: usize = problem
            .pointer
            .split('/')
            .nth(2)
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        let run = &self.runs[index];
        Err(LockfileError::DigestMismatch {
            path: path.display().to_string(),
            run: run.run,
            pointer: problem.pointer.clone(),
            found: run.intent_digest.clone(),
            expected: run.recorded_digest(),
        })
    }

    /// Refuses a lockfile that records another plan.
    pub fn check_plan(&self, plan_name: &str, path: &Path) -> Result<()> {
        if self.plan == plan_name {
            Ok(())
        } else {
            Err(LockfileError::WrongPlan {
                path: path.display().to_string(),
                expected: plan_name.to_owned(),
                found: self.plan.clone(),
            })
        }
    }

    fn job_refs(&self) -> impl Iterator<Item = (JobRef, &JobRecord)> {
        self.runs.iter().enumerate().flat_map(|(run, r)| {
            r.jobs
                .iter()
                .enumerate()
                .map(move |(job, j)| (JobRef { run, job }, j))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and writing

impl Lockfile {
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

    /// Parses a lockfile's text; `path` names it in errors.
    ///
    /// Returns an error with the line and column for invalid JSON, an unknown or misspelt key,
    /// a missing field or a value of the wrong type, and for a `lockfileVersion` other than 1.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let lockfile = Lockfile::parse_format(text, path)?;
        lockfile.check_consistent(&path.display().to_string())?;
        Ok(lockfile)
    }

    /// Parses a lockfile's text as [`parse`](Self::parse) does, without the consistency checks
    /// of [`problems`](Self::problems): for `aepact lock verify`, which reports every problem
    /// instead of the first.
    ///
    /// Returns an error for merge-conflict markers, invalid JSON, a `lockfileVersion` other
    /// than 1, and anything that does not fit the format (with line and column).
    pub fn parse_format(text: &str, path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let source = || NamedSource::new(name.clone(), text.to_owned());
        if let Some((line, offset, marker)) = conflict_marker(text) {
            return Err(LockfileError::MergeConflict {
                path: name.clone(),
                marker: marker.to_owned(),
                line,
                src: source(),
                at: SourceSpan::from((offset, marker.len())),
            });
        }
        let value: Value = serde_json::from_str(text).map_err(|err| LockfileError::Syntax {
            path: name.clone(),
            message: strip_position(&err),
            line: err.line(),
            column: err.column(),
            src: source(),
            at: span_at(text, err.line(), err.column()),
        })?;
        if let Some(version) = value.get("lockfileVersion")
            && !version
                .as_u64()
                .is_some_and(|v| READABLE_VERSIONS.iter().any(|r| u64::from(*r) == v))
        {
            let at = text
                .find("\"lockfileVersion\"")
                .map(|i| SourceSpan::from((i, "\"lockfileVersion\"".len())))
                .unwrap_or_else(|| SourceSpan::from((0, 0)));
            return Err(LockfileError::UnsupportedVersion {
                path: name.clone(),
                found: version.to_string(),
                src: source(),
                at,
            });
        }
        let mut lockfile: Lockfile =
            serde_json::from_str(text).map_err(|err| LockfileError::Invalid {
                path: name.clone(),
                message: strip_position(&err),
                line: err.line(),
                column: err.column(),
                src: source(),
                at: span_at(text, err.line(), err.column()),
            })?;
        // In memory a lockfile is always the current format: an older one is upgraded when it
        // is next written (version 1 lacks only fields that read as `null`).
        lockfile.lockfile_version = LOCKFILE_VERSION;
        Ok(lockfile)
    }

    /// Refuses a lockfile with a [`problem`](Self::problems), naming the first one.
    fn check_consistent(&self, path: &str) -> Result<()> {
        let problems = self.problems();
        let Some(first) = problems.first() else {
            return Ok(());
        };
        let more = match problems.len() {
            1 => String::new(),
            2 => " (and 1 more problem: `aepact lock verify` lists it)".to_owned(),
            n => format!(
                " (and {} more problems: `aepact lock verify` lists them)",
                n - 1
            ),
        };
        Err(LockfileError::Inconsistent {
            path: path.to_owned(),
            message: format!("at `{}`: {}{more}", first.pointer, first.message),
        })
    }

    /// What the types cannot check but every lockfile aepact writes satisfies: each job's
    /// `index` is its position, each job's fields fit its status (see [`JobStatus`]), and an
    /// order's `runId` is the run its `statusUrl` names. A lockfile with such a problem was
    /// edited by hand (or merged badly): `apply` and `status` refuse it.
    ///
    /// Returns every problem found, in document order, each at its JSON pointer.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push =
            |pointer: String, message: String| problems.push(Problem { pointer, message });
        for (r, run) in self.runs.iter().enumerate() {
            for (i, job) in run.jobs.iter().enumerate() {
                let at = format!("/runs/{r}/jobs/{i}");
                if job.index != i {
                    push(
                        format!("{at}/index"),
                        format!(
                            "job {i} of run {} has `index` {}; jobs are numbered 0, 1, 2, … in order",
                            run.run, job.index
                        ),
                    );
                }
                let status = job.status;
                let sent = job.sent_at.is_some();
                // Sent, except a job `status` settled as never sent (`rejected`, `reconciledAt`).
                let needs_sent = match status {
                    JobStatus::Pending => false,
                    JobStatus::Rejected => job.reconciled_at.is_none(),
                    JobStatus::Submitted | JobStatus::Unknown => true,
                };
                if needs_sent && !sent {
                    push(
                        format!("{at}/sentAt"),
                        format!("a `{status}` job must have a `sentAt`: it was sent"),
                    );
                }
                if status != JobStatus::Submitted && !job.orders.is_empty() {
                    push(
                        format!("{at}/orders"),
                        format!("a `{status}` job has no orders; only `submitted` jobs do"),
                    );
                }
                let needs_error = matches!(status, JobStatus::Rejected | JobStatus::Unknown);
                if needs_error && job.error.is_none() {
                    push(
                        format!("{at}/error"),
                        format!("a `{status}` job must record its `error`"),
                    );
                }
                if status == JobStatus::Pending && job.error.is_some() {
                    push(
                        format!("{at}/error"),
                        "a `pending` job has no `error`: its outcome is not recorded yet"
                            .to_owned(),
                    );
                }
                if matches!(status, JobStatus::Pending | JobStatus::Unknown)
                    && job.reconciled_at.is_some()
                {
                    push(
                        format!("{at}/reconciledAt"),
                        format!("a `{status}` job is not settled, so it has no `reconciledAt`"),
                    );
                }
                for (o, order) in job.orders.iter().enumerate() {
                    if let (Some(id), Some(from_url)) =
                        (&order.run_id, run_id_from_status_url(&order.status_url))
                        && *id != from_url
                    {
                        push(
                            format!("{at}/orders/{o}/runId"),
                            format!(
                                "`runId` `{id}` is not the run `{from_url}` that `statusUrl` names"
                            ),
                        );
                    }
                }
            }
        }
        problems
    }

    /// Reads the lockfile at `path`.
    ///
    /// Returns `None` when there is no file (the plan was never applied), and an error for a
    /// file that cannot be read or is not a valid lockfile: such a file is never replaced.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        match fs::read(path) {
            Ok(bytes) => Lockfile::parse(&utf8(bytes, path)?, path).map(Some),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LockfileError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the lockfile to `path` atomically (see [`fsx::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_json().as_bytes())
    }
}

/// A consistency problem in a lockfile that parsed: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// RFC 6901 pointer to the offending value, e.g. `/runs/0/jobs/1/sentAt`.
    pub pointer: String,
    /// One sentence for people.
    pub message: String,
}

/// The first git merge-conflict marker in `text`: its 1-based line, byte offset and the marker.
///
/// A marker is a line starting with seven `<`, `=`, `|` or `>`, as git writes them (`<<<<<<<
/// HEAD`, `=======`, `|||||||` for diff3, `>>>>>>> branch`). No valid lockfile has such a
/// line: JSON strings never span lines, and keys and values are indented.
pub fn conflict_marker(text: &str) -> Option<(usize, usize, &'static str)> {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        for marker in ["<<<<<<<", "=======", "|||||||", ">>>>>>>"] {
            if let Some(rest) = line.strip_prefix(marker)
                && (rest.trim().is_empty() || rest.starts_with(' '))
            {
                return Some((i + 1, offset, marker));
            }
        }
        offset += line.len();
    }
    None
}

/// A lockfile's bytes as text; bytes that are not UTF-8 are a syntax error at their place.
fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|err| {
        let valid = err.utf8_error().valid_up_to();
        let bytes = err.into_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let before = String::from_utf8_lossy(&bytes[..valid]);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        LockfileError::Syntax {
            path: path.display().to_string(),
            message: "bytes that are not UTF-8".to_owned(),
            line,
            column,
            at: SourceSpan::from((before.len(), 0)),
            src: NamedSource::new(path.display().to_string(), text),
        }
    })
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) if err.line() > 0 => text[..i].to_owned(),
        _ => text,
    }
}

/// The byte span of serde_json's 1-based (line, column), clamped to the text.
fn span_at(text: &str, line: usize, column: usize) -> SourceSpan {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    SourceSpan::from((offset, 0))
}

// ---------------------------------------------------------------------------------------------
// A lockfile opened for change

/// A plan's lockfile opened for change by `apply` or `status`: the plan's lock, held until this
/// is dropped, and the lockfile as read.
///
/// [`Ledger::save`] writes atomically and only over the file this ledger read or last wrote: if
/// anything else changed the lockfile meanwhile, it refuses, leaves that file alone and writes
/// its own record beside it, so neither record is lost.
#[derive(Debug)]
pub struct Ledger {
    /// The plan's lock, when this ledger took it (`None`: the caller holds it, for longer).
    _guard: Option<LockGuard>,
    plan_path: PathBuf,
    path: PathBuf,
    lockfile: Lockfile,
    /// SHA-256 of the lockfile's bytes on disk as last read or written; `None`: no file.
    on_disk: Option<String>,
}

impl Ledger {
    /// Locks the plan at `plan_path` (waiting up to `timeout`, see [`LockGuard::acquire`]),
    /// then reads its lockfile, or starts an empty one when there is none.
    ///
    /// Returns an error when the lock is not granted in time, or when the lockfile cannot be
    /// read, is not a valid lockfile, or records another plan than `plan_name`.
    pub fn open(plan_path: &Path, plan_name: &str, timeout: Duration) -> Result<Ledger> {
        Ledger::open_at(plan_path, lockfile_path(plan_path), plan_name, timeout)
    }

    /// [`open`](Self::open), for a lockfile kept at `path` rather than beside the plan (the
    /// emulator's, under `.aepact/`).
    pub fn open_at(
        plan_path: &Path,
        path: PathBuf,
        plan_name: &str,
        timeout: Duration,
    ) -> Result<Ledger> {
        let guard = LockGuard::acquire(plan_path, timeout)?;
        let mut ledger = Ledger::read(guard.path().to_owned(), path, plan_name)?;
        ledger._guard = Some(guard);
        Ok(ledger)
    }

    /// Reads the lockfile at `path` (or starts an empty one) for the plan whose lock `guard`
    /// holds and goes on holding: for a caller that took the locks of several plans first, in
    /// a fixed order, and keeps them until it is done with all of them.
    ///
    /// Returns an error when the lockfile cannot be read, is not a valid lockfile, or records
    /// another plan than `plan_name`.
    pub fn under_lock(guard: &LockGuard, path: PathBuf, plan_name: &str) -> Result<Ledger> {
        Ledger::read(guard.path().to_owned(), path, plan_name)
    }

    fn read(plan_path: PathBuf, path: PathBuf, plan_name: &str) -> Result<Ledger> {
        let (lockfile, on_disk) = match read_bytes(&path)? {
            Some(bytes) => {
                // Not lossily: a replaced byte would be written back on the next save.
                let digest = sha256_hex(&bytes);
                let text = utf8(bytes, &path)?;
                let lockfile = Lockfile::parse(&text, &path)?;
                lockfile.check_plan(plan_name, &path)?;
                (lockfile, Some(digest))
            }
            None => (Lockfile::new(plan_name), None),
        };
        Ok(Ledger {
            _guard: None,
            plan_path,
            path,
            lockfile,
            on_disk,
        })
    }

    /// The lockfile as it stands in memory.
    pub fn lockfile(&self) -> &Lockfile {
        &self.lockfile
    }

    /// The lockfile, to change before [`save`](Self::save).
    pub fn lockfile_mut(&mut self) -> &mut Lockfile {
        &mut self.lockfile
    }

    /// Where the lockfile is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plan file whose lock is held.
    pub fn plan_path(&self) -> &Path {
        &self.plan_path
    }

    /// SHA-256 (hex) of the lockfile on disk as last read or written, `None` when there is no
    /// file: what a saved plan records to notice later that the lockfile changed.
    pub fn disk_digest(&self) -> Option<&str> {
        self.on_disk.as_deref()
    }

    /// Writes the lockfile atomically (see [`fsx::write_atomic`]), after checking that the file on
    /// disk is still the one read or last written.
    ///
    /// Returns [`LockfileError::ChangedOnDisk`] when it is not: the file on disk is left as it
    /// is and this ledger's record is written to `<lockfile>.conflict-<pid>` instead.
    pub fn save(&mut self) -> Result<()> {
        let text = self.lockfile.to_json();
        // The emulator's lockfiles live in directories made on first use.
        if self.on_disk.is_none()
            && let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            fs::create_dir_all(dir).map_err(|source| LockfileError::Write {
                path: self.path.display().to_string(),
                source,
            })?;
        }
        let current = read_bytes(&self.path)?.map(|bytes| sha256_hex(&bytes));
        if current != self.on_disk {
            let mut ours = self.path.clone().into_os_string();
            ours.push(format!(".conflict-{}", std::process::id()));
            let ours = PathBuf::from(ours);
            write_atomic(&ours, text.as_bytes())?;
            return Err(LockfileError::ChangedOnDisk {
                path: self.path.display().to_string(),
                ours: ours.display().to_string(),
            });
        }
        write_atomic(&self.path, text.as_bytes())?;
        self.on_disk = Some(sha256_hex(text.as_bytes()));
        Ok(())
    }
}

/// [`fsx::write_atomic`], failing with [`LockfileError::Write`].
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    fsx::write_atomic(path, bytes).map_err(|source| LockfileError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// A file's bytes, or `None` when it does not exist.
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockfileError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Locking

/// An exclusive advisory lock on a plan, held while `apply` or `status` reads, changes and saves
/// its lockfile. Released when dropped (or when the process exits, however it exits).
///
/// The lock is on the plan file itself, opened read-only, not on the lockfile: every save
/// replaces the lockfile by a rename, and a lock on a replaced file (inode) protects nothing,
/// because the next process opens the new one. The plan file is only read by aepact, so its
/// identity is stable. If something else replaces the plan between our open and our lock (an
/// editor's save, a `git checkout`), [`LockGuard::acquire`] notices that the path names another
/// file and locks that one instead.
///
/// The lock is advisory (`flock` on Unix, `LockFileEx` on Windows): it keeps aepact processes
/// apart, not other programs.
#[derive(Debug)]
pub struct LockGuard {
    lock: fsx::FileLock,
}

impl LockGuard {
    /// Takes the lock on `plan_path`, polling until `timeout` has passed (a zero timeout tries
    /// once).
    ///
    /// Returns [`LockfileError::LockTimeout`] when another process (or another guard in this
    /// process) still holds it, and [`LockfileError::Lock`] when the plan cannot be opened.
    pub fn acquire(plan_path: &Path, timeout: Duration) -> Result<LockGuard> {
        let path = plan_path.display().to_string();
        match fsx::FileLock::acquire(plan_path, timeout) {
            Ok(lock) => Ok(LockGuard { lock }),
            Err(fsx::LockError::Io(source)) => Err(LockfileError::Lock { path, source }),
            Err(fsx::LockError::Busy { waited }) => Err(LockfileError::LockTimeout {
                path,
                waited: format_duration(waited),
            }),
        }
    }

    /// The plan file whose lock this is.
    pub fn path(&self) -> &Path {
        self.lock.path()
    }
}

/// `1.5s`, `250ms`: how long we waited, for the timeout message.
fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_path_replaces_yaml_extensions() {
        let p = |s: &str| lockfile_path(Path::new(s));
        assert_eq!(
            p("plans/flash-sale.yaml"),
            Path::new("plans/flash-sale.lock.json")
        );
        assert_eq!(
            p("plans/flash-sale.yml"),
            Path::new("plans/flash-sale.lock.json")
        );
        assert_eq!(p("flash-sale.yaml"), Path::new("flash-sale.lock.json"));
        assert_eq!(p("plans/odd.plan"), Path::new("plans/odd.plan.lock.json"));
    }

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

    fn sent_job() -> JobRecord {
        let mut job = JobRecord::pending(0, Value::Null);
        job.mark_sending(1, Timestamp::from_unix_ms(0).unwrap())
            .unwrap();
        job
    }

    fn lost() -> JobError {
        JobError {
            http_status: None,
            message: "lost".into(),
            body: None,
        }
    }

    #[test]
    fn jobs_follow_the_state_machine() {
        let at = Timestamp::from_unix_ms(0).unwrap();
        // Nothing but sending is allowed before the send is recorded.
        let mut job = JobRecord::pending(0, Value::Null);
        assert!(!job.in_doubt());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.mark_rejected(1, lost()).is_err());
        assert!(job.mark_unknown(1, lost()).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());
        assert!(job.reconcile_not_received(1, lost(), at).is_err());
        job.mark_sending(1, at).unwrap();
        assert!(job.in_doubt());
        // Sending twice is refused: the first send may have arrived.
        let err = job.mark_sending(1, at).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job 0 of run 1 cannot go from `pending (sent)` to `pending (sending)`"
        );

        // submitted and rejected are final.
        let mut job = sent_job();
        job.mark_submitted(1, vec![]).unwrap();
        assert!(!job.in_doubt() && job.maybe_activated());
        assert!(job.mark_unknown(1, lost()).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());
        assert!(job.reconcile_not_received(1, lost(), at).is_err());
        let mut job = sent_job();
        job.mark_rejected(1, lost()).unwrap();
        assert!(!job.maybe_activated());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.reconcile_submitted(1, vec![], at).is_err());

        // unknown is settled only by reconciling.
        let mut job = sent_job();
        job.mark_unknown(1, lost()).unwrap();
        assert!(job.in_doubt());
        assert!(job.mark_submitted(1, vec![]).is_err());
        assert!(job.mark_rejected(1, lost()).is_err());
        job.reconcile_submitted(1, vec![], at).unwrap();
        assert_eq!(job.status, JobStatus::Submitted);
        assert_eq!(job.reconciled_at, Some(at));
        assert_eq!(job.error, Some(lost()), "the lost response stays on record");

        // A pending job that was sent can be reconciled too (crash before its outcome).
        let mut job = sent_job();
        job.reconcile_not_received(1, lost(), at).unwrap();
        assert_eq!(job.status, JobStatus::Rejected);
        assert!(!job.in_doubt());
    }

    #[test]
    fn order_updates_keep_what_a_poll_did_not_report() {
        let mut order = OrderRecord::new(NewOrder {
            segment: "s".into(),
            order: "o".into(),
            status_url: "http://x/runs/r1".into(),
        });
        assert_eq!(order.run_id.as_deref(), Some("r1"));
        let t = |ms| Timestamp::from_unix_ms(ms);
        order.update(OrderUpdate {
            status: OrderStatus::InProgress,
            run_id: None,
            created_at: t(1),
            started_at: t(2),
            finished_at: None,
            metrics: None,
            errors: vec![],
            checked_at: t(3).unwrap(),
        });
        order.update(OrderUpdate {
            status: OrderStatus::Success,
            run_id: Some("r2".into()),
            created_at: None,
            started_at: None,
            finished_at: t(4),
            metrics: Some(OrderMetrics {
                output_records: Some(9),
                ..OrderMetrics::default()
            }),
            errors: vec![],
            checked_at: t(5).unwrap(),
        });
        assert_eq!(order.run_id.as_deref(), Some("r2"));
        assert_eq!((order.created_at, order.started_at), (t(1), t(2)));
        assert_eq!((order.finished_at, order.checked_at), (t(4), t(5)));
        assert_eq!(order.metrics.unwrap().output_records, Some(9));
    }
}
