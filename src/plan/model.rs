//! The plan format `aepact/v1`: raw types as written, and the checked [`Plan`].
//!
//! [`RawPlan`] mirrors the YAML exactly; serde reads it and schemars turns it (doc comments
//! included) into `schemas/plan.schema.json`. Only [`Plan`], built by the guardrails once a raw
//! plan has passed every check, flows on to planning and applying.

use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

/// Plan names: a slug, so it is safe in file names, URLs and lockfiles.
pub const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
/// Destination (dataflow) and segment IDs: lowercase UUIDs, as the platform returns them.
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// Export job IDs written as strings: digits only.
pub const EXPORT_ID_PATTERN: &str = "^[0-9]{1,20}$";
/// A duration as plans write it: `0`, or `<digits><unit>` parts from the largest unit to the
/// smallest, each unit at most once: `h`, `m`, `s`, `ms` (`90m`, `1h30m`), as `--guard-window`
/// reads it.
pub const DURATION_PATTERN: &str = "^(0|[0-9]+h([0-9]+m)?([0-9]+s)?([0-9]+ms)?|[0-9]+m([0-9]+s)?([0-9]+ms)?|[0-9]+s([0-9]+ms)?|[0-9]+ms)$";
/// Sandbox names: lowercase letters, digits and hyphens (our reading of the platform's rule;
/// it also keeps the value safe to send as an HTTP header).
pub const SANDBOX_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,255}$";

/// Whether `name` matches [`NAME_PATTERN`] (without a regex).
pub fn is_plan_name(name: &str) -> bool {
    is_slug(name, 63)
}

/// Whether `name` matches [`SANDBOX_PATTERN`] (without a regex). `policy::model` keeps its own
/// copy, as it does of the pattern: it does not import the plan model, which imports it.
pub fn is_sandbox_name(name: &str) -> bool {
    is_slug(name, 256)
}

/// `^[a-z0-9][a-z0-9-]{0,max-1}$`.
fn is_slug(text: &str, max: usize) -> bool {
    let bytes = text.as_bytes();
    (1..=max).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An aepact activation plan: which audience segments to activate ad hoc, to which batch
/// destinations, in which sandbox, from which segment export job.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "aepact activation plan")]
pub struct RawPlan {
    /// Format of this file. Always `aepact/v1`.
    pub api_version: FormatVersion,
    /// The plan's name: a slug of lowercase letters, digits and dashes (at most 63 characters,
    /// starting with a letter or digit), unique in the repository. It names the lockfile entry.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: String,
    /// What the activation is for; shown in plans, never sent.
    #[serde(default)]
    #[schemars(with = "String")]
    pub description: Option<String>,
    /// Sandbox to activate in, sent as `x-sandbox-name`. Defaults to `AEP_SANDBOX`, then `prod`.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = SANDBOX_PATTERN))]
    pub sandbox: Option<String>,
    /// Segment export job to activate from: `latest` (the newest profile export job that
    /// succeeded, resolved when planning) or a list of export job IDs. Required by ad-hoc API
    /// version 1; may be left out under version 2, where the platform uses its latest
    /// segmentation.
    #[serde(default)]
    #[schemars(with = "RawExports")]
    pub exports: Option<RawExports>,
    /// Where the segments go: one entry per destination dataflow, each with its segments.
    #[schemars(length(min = 1))]
    pub destinations: Vec<RawDestination>,
    /// Activation counter, 1 or more (default 1). Bump it to activate the same plan again.
    /// An integer; a number with a zero fractional part (`1.0`, `1e0`) counts as one.
    #[serde(default = "default_run")]
    #[schemars(range(min = 1), default = "default_run")]
    pub run: WholeNumber,
    /// How recent a delivery of one of the plan's (destination, segment) pairs on the platform
    /// must be for `apply` to refuse it when no lockfile records it (a lost lockfile, another
    /// copy of the plan, "Export file now" in the UI): `1h` by default (the platform's own
    /// wait after an activation), e.g. `30m`, `2h30m`, or `0` to turn the check off.
    /// `--guard-window` overrides it.
    #[serde(default)]
    #[schemars(with = "RawDuration")]
    pub guard_window: Option<RawDuration>,
}

fn default_run() -> WholeNumber {
    WholeNumber(1)
}

/// A whole number from 0 to 2^64 - 1, as a plan writes it: `11037`, or `11037.0` / `1.1037e4`.
///
/// JSON Schema counts a number with a zero fractional part as an integer (draft 2020-12,
/// section 6.3 of the validation vocabulary), so the schema's `"type": "integer"` accepts
/// `1.0`; serde's `u64` does not. This type reads both, so that what the schema accepts is what
/// aepact reads. Its schema carries `minimum`/`maximum` rather than schemars' non-standard
/// `"format": "uint64"`, which strict validators (ajv) refuse.
///
/// Serialises as the plain integer (the schema's `default` for `run` is written through it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct WholeNumber(pub u64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeNumberVisitor)
    }
}

/// Reads a [`WholeNumber`] from any of serde's three number kinds; also used by the untagged
/// enums that hold one (`untagged.rs`).
pub(super) struct WholeNumberVisitor;

impl serde::de::Visitor<'_> for WholeNumberVisitor {
    type Value = WholeNumber;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a whole number from 0 to 18446744073709551615")
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<WholeNumber, E> {
        Ok(WholeNumber(n))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<WholeNumber, E> {
        u64::try_from(n)
            .map(WholeNumber)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<WholeNumber, E> {
        // 2^64 is exactly representable; every f64 below it with no fraction is a u64.
        if f.is_finite() && f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) {
            Ok(WholeNumber(f as u64))
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(f), &self))
        }
    }
}

impl JsonSchema for WholeNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WholeNumber".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "minimum": 0,
            "maximum": u64::MAX,
        })
    }
}

/// A duration as a plan writes it: text such as `1h30m`, or the number `0` (off).
// Like every untagged enum here, deserialised by hand (`untagged.rs`); `#[serde(untagged)]`
// stays for the schema.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum RawDuration {
    Text(#[schemars(regex(pattern = DURATION_PATTERN))] String),
    /// `0`: no window.
    Zero(#[schemars(range(min = 0, max = 0))] WholeNumber),
}

/// The plan format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum FormatVersion {
    /// The first plan format.
    #[serde(rename = "aepact/v1")]
    V1,
}

/// `latest`, or a non-empty list of export job IDs.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum RawExports {
    /// The keyword `latest`: resolve the newest succeeded profile export job when planning.
    Latest(LatestKeyword),
    /// Export job IDs, as integers or digit strings (sent as strings).
    Ids(#[schemars(length(min = 1))] Vec<RawExportId>),
}

/// The keyword `latest`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum LatestKeyword {
    #[serde(rename = "latest")]
    Latest,
}

/// A segment export job ID: an integer, or a string of digits.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum RawExportId {
    /// The ID as the export jobs API returns it: an integer (a number with a zero fractional
    /// part, such as `1.1037e4`, counts as one).
    Number(WholeNumber),
    /// The ID as a string of digits.
    Digits(#[schemars(regex(pattern = EXPORT_ID_PATTERN))] String),
}

impl RawExportId {
    /// The ID as sent to the platform: a string of digits.
    pub fn normalized(&self) -> String {
        match self {
            RawExportId::Number(n) => n.0.to_string(),
            RawExportId::Digits(s) => s.clone(),
        }
    }
}

/// A destination dataflow and the segments to activate to it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDestination {
    /// The activation dataflow's ID (the "destination ID" in the Platform UI): a lowercase UUID.
    #[schemars(regex(pattern = UUID_PATTERN))]
    pub id: String,
    /// A label for people, shown in plans and never sent.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: Option<String>,
    /// Segments (audiences) to activate: bare IDs or `{id, name}` entries.
    #[schemars(length(min = 1))]
    pub segments: Vec<RawSegment>,
    /// How many records an activation to this destination should export in all (the sum over
    /// its runs); `aepact status` marks its orders `unexpected` and exits 1 when the finished
    /// runs' numbers are outside these bounds. Not part of the intent: changing it does not
    /// activate the plan again.
    #[serde(default)]
    pub expect: Option<RawExpect>,
}

/// Bounds on the records an activation exports, checked by `aepact status` once its runs have
/// finished. Either bound may be left out; `minRecords` must not exceed `maxRecords`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawExpect {
    /// At least this many records exported.
    #[serde(default)]
    pub min_records: Option<WholeNumber>,
    /// At most this many records exported.
    #[serde(default)]
    pub max_records: Option<WholeNumber>,
}

impl RawExpect {
    /// The checked bounds (the guardrails check `min <= max` first).
    pub fn to_expect(&self) -> Expect {
        Expect {
            min_records: self.min_records.map(|n| n.0),
            max_records: self.max_records.map(|n| n.0),
        }
    }
}

/// A plan's bounds on the records exported, for `status` to compare finished runs with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expect {
    pub min_records: Option<u64>,
    pub max_records: Option<u64>,
}

impl Expect {
    /// What is wrong with `exported` records, in words ("the plan expects at least 100"), or
    /// `None` when it is within the bounds.
    pub fn broken_by(&self, exported: u64) -> Option<String> {
        match (self.min_records, self.max_records) {
            (Some(min), _) if exported < min => Some(format!("the plan expects at least {min}")),
            (_, Some(max)) if exported > max => Some(format!("the plan expects at most {max}")),
            _ => None,
        }
    }
}

/// A segment: a bare ID, or an `{id, name}` mapping.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum RawSegment {
    /// The segment's ID: a lowercase UUID.
    Bare(#[schemars(regex(pattern = UUID_PATTERN))] String),
    /// The segment's ID with a label.
    Detailed(RawSegmentDetail),
}

/// A segment with a label.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSegmentDetail {
    /// The segment's (audience's) ID: a lowercase UUID.
    #[schemars(regex(pattern = UUID_PATTERN))]
    pub id: String,
    /// A label for people, shown in plans and never sent.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: Option<String>,
    /// How many records activating this segment to this destination should export;
    /// `aepact status` marks the order `unexpected` and exits 1 when the finished run's number
    /// is outside these bounds. Not part of the intent: changing it does not activate the plan
    /// again.
    #[serde(default)]
    pub expect: Option<RawExpect>,
}

impl RawSegment {
    pub fn id(&self) -> &str {
        match self {
            RawSegment::Bare(id) => id,
            RawSegment::Detailed(d) => &d.id,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            RawSegment::Bare(_) => None,
            RawSegment::Detailed(d) => d.name.as_deref(),
        }
    }

    /// The checked segment, taking the strings over.
    pub fn into_segment(self) -> Segment {
        match self {
            RawSegment::Bare(id) => Segment {
                id,
                name: None,
                expect: None,
            },
            RawSegment::Detailed(d) => Segment {
                id: d.id,
                name: d.name,
                expect: d.expect.as_ref().map(RawExpect::to_expect),
            },
        }
    }
}

/// A plan that passed the schema and every offline guardrail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The file it came from, as given or as found under a directory given.
    pub path: Arc<str>,
    /// The canonical file (symbolic links resolved): the plan's identity, which its lockfile is
    /// named after.
    pub file: Arc<Path>,
    pub name: String,
    pub description: Option<String>,
    pub sandbox: Option<String>,
    pub exports: Exports,
    pub destinations: Vec<Destination>,
    pub run: u64,
    /// The plan's `guardWindow`, when it sets one.
    pub guard_window: Option<std::time::Duration>,
    /// Where in the file its parts are, for annotations of what the platform says about them.
    pub lines: Lines,
    /// The policy that governs the plan (`aepact.policy.yaml`, or `--policy`), if any: its
    /// time and history rules are checked by `plan` and `apply`.
    pub policy: Option<crate::policy::model::SharedPolicy>,
}

pub use super::lines::Lines;

/// Which export job(s) the activation uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exports {
    /// Resolve the newest succeeded profile export job when planning.
    Latest,
    /// These export job IDs, normalised to digit strings.
    Ids(Vec<String>),
    /// Left out (API version 2 only): the platform uses its latest segmentation.
    Omitted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: String,
    pub name: Option<String>,
    pub segments: Vec<Segment>,
    /// The destination's `expect`: bounds on the records of all its runs together.
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub name: Option<String>,
    /// The segment's `expect`: bounds on the records of its run to this destination.
    pub expect: Option<Expect>,
}

/// One ad-hoc activation request: destinations, each with the segments it gets in this job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Distinct segments of the job, in plan order.
    pub segments: Vec<String>,
    /// Destination ID -> its segments in this job, in plan order; destinations without any
    /// segment in this job are left out.
    pub activation: Vec<(String, Vec<String>)>,
}

impl Plan {
    /// Distinct segment IDs across all destinations, in order of first appearance.
    pub fn distinct_segments(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.destinations
            .iter()
            .flat_map(|d| &d.segments)
            .map(|s| s.id.as_str())
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// Packs the plan into jobs of at most `limit` distinct segments each, keeping every segment
    /// whole: a segment goes to all of its destinations in one job, never split over two.
    ///
    /// Segments are taken in order of first appearance, so the packing is stable and uses the
    /// fewest jobs possible (`ceil(distinct / limit)`).
    pub fn jobs(&self, limit: usize) -> Vec<Job> {
        let limit = limit.max(1);
        self.distinct_segments()
            .chunks(limit)
            .map(|chunk| {
                let in_job: std::collections::HashSet<&str> = chunk.iter().copied().collect();
                let activation = self
                    .destinations
                    .iter()
                    .filter_map(|d| {
                        let segs: Vec<String> = d
                            .segments
                            .iter()
                            .filter(|s| in_job.contains(s.id.as_str()))
                            .map(|s| s.id.clone())
                            .collect();
                        (!segs.is_empty()).then(|| (d.id.clone(), segs))
                    })
                    .collect();
                Job {
                    segments: chunk.iter().map(|s| (*s).to_owned()).collect(),
                    activation,
                }
            })
            .collect()
    }
}
