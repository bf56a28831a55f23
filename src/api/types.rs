//! The Platform's JSON, as typed values: segment export jobs, Flow Service flows and runs, and
//! the ad-hoc activation response (`reference/aep-api.md` §2-4; the emulator returns the same).
//!
//! Parsing is lenient where the documentation is thin: unknown fields are ignored, most fields
//! are optional, and status strings we do not know are kept as they came (`Other`), so a new
//! platform value degrades a report instead of failing a command. Helpers answer the questions
//! `plan`, `apply` and `status` ask (is this flow usable, is this run final) in one place.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The schema name of profile export jobs, the only kind ad-hoc activation takes.
pub const PROFILE_SCHEMA: &str = "_xdm.context.profile";

// ---------------------------------------------------------------------------------------------
// Segment export jobs (`/data/core/ups/export/jobs`).

/// One segment export job, as listed or fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJob {
    /// An integer in the docs; digit strings are accepted too.
    #[serde(deserialize_with = "u64_or_string")]
    pub id: u64,
    pub status: ExportJobStatus,
    #[serde(default)]
    pub schema: Option<SchemaRef>,
    /// Epoch ms.
    #[serde(default)]
    pub creation_time: Option<i64>,
    /// Epoch ms.
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub metrics: Option<ExportJobMetrics>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJobMetrics {
    #[serde(default)]
    pub total_time: Option<TimeSpan>,
    #[serde(default)]
    pub total_exported_profile_counter: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeSpan {
    #[serde(default)]
    pub start_time_in_ms: Option<i64>,
    #[serde(default)]
    pub end_time_in_ms: Option<i64>,
}

/// An export job's `status`. `NEW`, `SUCCEEDED` and `FAILED` are documented; the others come
/// from the segment jobs' lifecycle (UNCONFIRMED for export jobs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ExportJobStatus {
    New,
    Queued,
    Processing,
    Succeeded,
    Failed,
    Cancelling,
    Cancelled,
    Other(String),
}

impl From<String> for ExportJobStatus {
    fn from(text: String) -> Self {
        match text.to_ascii_uppercase().as_str() {
            "NEW" => Self::New,
            "QUEUED" => Self::Queued,
            "PROCESSING" => Self::Processing,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "CANCELLING" => Self::Cancelling,
            "CANCELLED" => Self::Cancelled,
            _ => Self::Other(text),
        }
    }
}

impl From<ExportJobStatus> for String {
    fn from(status: ExportJobStatus) -> Self {
        status.as_str().to_owned()
    }
}

impl ExportJobStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::New => "NEW",
            Self::Queued => "QUEUED",
            Self::Processing => "PROCESSING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Cancelling => "CANCELLING",
            Self::Cancelled => "CANCELLED",
            Self::Other(text) => text,
        }
    }
}

impl fmt::Display for ExportJobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ExportJob {
    /// A profile export job (`schema.name` is `_xdm.context.profile`): what `exportIds` takes.
    pub fn is_profile_export(&self) -> bool {
        self.schema
            .as_ref()
            .is_some_and(|s| s.name == PROFILE_SCHEMA)
    }

    pub fn succeeded(&self) -> bool {
        self.status == ExportJobStatus::Succeeded
    }

    /// Still running, so ad-hoc jobs must wait: `NEW`, `QUEUED`, `PROCESSING` or `CANCELLING`.
    pub fn is_running(&self) -> bool {
        matches!(
            self.status,
            ExportJobStatus::New
                | ExportJobStatus::Queued
                | ExportJobStatus::Processing
                | ExportJobStatus::Cancelling
        )
    }

    /// When it finished (epoch ms): `metrics.totalTime.endTimeInMs`, else `updateTime` once it
    /// succeeded or failed.
    pub fn finished_at(&self) -> Option<i64> {
        let end = self
            .metrics
            .as_ref()
            .and_then(|m| m.total_time.as_ref())
            .and_then(|t| t.end_time_in_ms)
            .filter(|&ms| ms > 0);
        end.or_else(|| {
            matches!(
                self.status,
                ExportJobStatus::Succeeded | ExportJobStatus::Failed
            )
            .then_some(self.update_time)
            .flatten()
        })
    }

    /// The newest (by `creationTime`, then ID) succeeded profile export job: what
    /// `exports: latest` resolves to.
    pub fn latest_succeeded_profile(jobs: &[ExportJob]) -> Option<&ExportJob> {
        jobs.iter()
            .filter(|j| j.succeeded() && j.is_profile_export())
            .max_by_key(|j| (j.creation_time.unwrap_or(i64::MIN), j.id))
    }
}

/// The body of `GET /export/jobs`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExportJobList {
    #[serde(default)]
    pub(crate) records: Vec<ExportJob>,
    #[serde(default)]
    pub(crate) link: Option<ExportJobLink>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExportJobLink {
    #[serde(default)]
    pub(crate) next: Option<String>,
}

fn u64_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(deserializer)? {
        Id::Number(n) => Ok(n),
        Id::Text(text) => text.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("export job ID `{text}` is not a number"))
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Flow Service flows (`/data/foundation/flowservice/flows/{id}`).

/// A dataflow, with the parts `plan` checks: state, kind, and the segment selectors with their
/// schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub inherited_attributes: Option<InheritedAttributes>,
    #[serde(default)]
    pub transformations: Vec<Transformation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InheritedAttributes {
    #[serde(default)]
    pub properties: Option<FlowProperties>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowProperties {
    #[serde(default)]
    pub is_destination_flow: Option<bool>,
    #[serde(default)]
    pub is_source_flow: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transformation {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub params: Option<TransformationParams>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransformationParams {
    #[serde(default)]
    pub segment_selectors: Option<SegmentSelectors>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSelectors {
    #[serde(default)]
    pub selectors: Vec<SegmentSelector>,
}

/// One segment mapped to the dataflow (`type: PLATFORM_SEGMENT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSelector {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub value: SelectorValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorValue {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub export_mode: Option<String>,
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

/// A mapped segment's export schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub trigger_type: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`; absent or null: no end.
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
}

impl Schedule {
    /// Whether the schedule covers the whole day `day`: `startDate <= day <= endDate`, inclusive,
    /// UTC, no `startDate` or no `endDate` = open on that side. `startTime` and `frequency` are
    /// not used (inference: the platform's message speaks of the date only). A date that does
    /// not parse covers nothing.
    pub fn covers(&self, day: UtcDate) -> bool {
        let bound = |date: &Option<String>| match date.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(text) => UtcDate::parse(text).map(Some),
        };
        let (Some(start), Some(end)) = (bound(&self.start_date), bound(&self.end_date)) else {
            return false;
        };
        start.is_none_or(|s| s <= day) && end.is_none_or(|e| day <= e)
    }
}

/// How a segment stands in a dataflow on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping<'a> {
    /// Mapped with a schedule that covers the day.
    Covered(&'a SegmentSelector),
    /// Mapped, but its schedule has not started, has ended, or is missing.
    OutOfSchedule(&'a SegmentSelector),
    /// Not among the dataflow's segment selectors.
    NotMapped,
}

impl Flow {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `state` is `enabled`.
    pub fn is_enabled(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
    }

    /// A destination (activation) dataflow: `inheritedAttributes.properties.isDestinationFlow`.
    /// When the flag is absent, a flow with segment selectors counts as one (inference).
    pub fn is_destination(&self) -> bool {
        self.inherited_attributes
            .as_ref()
            .and_then(|a| a.properties.as_ref())
            .and_then(|p| p.is_destination_flow)
            .unwrap_or_else(|| self.selectors().next().is_some())
    }

    /// An enabled destination dataflow: the first online check of a plan's destination.
    pub fn is_enabled_destination(&self) -> bool {
        self.is_enabled() && self.is_destination()
    }

    /// Every segment selector of every transformation.
    pub fn selectors(&self) -> impl Iterator<Item = &SegmentSelector> {
        self.transformations
            .iter()
            .filter_map(|t| t.params.as_ref()?.segment_selectors.as_ref())
            .flat_map(|s| s.selectors.iter())
    }

    /// The selector of a segment ID (IDs compare without regard to case).
    pub fn selector(&self, segment_id: &str) -> Option<&SegmentSelector> {
        self.selectors().find(|s| {
            s.value
                .id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(segment_id))
        })
    }

    /// Whether `segment_id` is mapped, and whether its schedule covers `day` (today, UTC, for
    /// an ad-hoc job). When several selectors name the segment, any covering one counts.
    pub fn mapping(&self, segment_id: &str, day: UtcDate) -> Mapping<'_> {
        let mut found = None;
        for selector in self.selectors().filter(|s| {
            s.value
                .id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(segment_id))
        }) {
            if selector
                .value
                .schedule
                .as_ref()
                .is_some_and(|s| s.covers(day))
            {
                return Mapping::Covered(selector);
            }
            found.get_or_insert(selector);
        }
        found.map_or(Mapping::NotMapped, Mapping::OutOfSchedule)
    }

    /// Whether `segment_id` is mapped with a schedule covering `day`.
    pub fn covers_segment(&self, segment_id: &str, day: UtcDate) -> bool {
        matches!(self.mapping(segment_id, day), Mapping::Covered(_))
    }

    /// The name the dataflow gives a mapped segment, if any.
    pub fn segment_name(&self, segment_id: &str) -> Option<&str> {
        self.selector(segment_id)?
            .value
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
    }
}

/// The Flow Service list shape `{items: [...], _links: {next: {href}}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Items<T> {
    #[serde(default = "Vec::new")]
    pub(crate) items: Vec<T>,
    #[serde(default, rename = "_links")]
    pub(crate) links: Option<Links>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Links {
    #[serde(default)]
    pub(crate) next: Option<Href>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Href {
    pub(crate) href: String,
}

// ---------------------------------------------------------------------------------------------
// Flow Service runs (`/data/foundation/flowservice/runs`).

/// A dataflow run: what an ad-hoc `statusURL` points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: String,
    #[serde(default)]
    pub flow_id: String,
    /// Epoch ms.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Epoch ms.
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub metrics: RunMetrics,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMetrics {
    #[serde(default)]
    pub duration_summary: DurationSummary,
    #[serde(default)]
    pub size_summary: SizeSummary,
    #[serde(default)]
    pub record_summary: RecordSummary,
    #[serde(default)]
    pub file_summary: FileSummary,
    #[serde(default)]
    pub status_summary: StatusSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationSummary {
    /// Epoch ms; absent while the run is scheduled.
    #[serde(rename = "startedAtUTC", default)]
    pub started_at_utc: Option<i64>,
    /// Epoch ms; present once the run finished.
    #[serde(rename = "completedAtUTC", default)]
    pub completed_at_utc: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeSummary {
    #[serde(default)]
    pub input_bytes: Option<u64>,
    #[serde(default)]
    pub output_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSummary {
    #[serde(default)]
    pub input_record_count: Option<u64>,
    #[serde(default)]
    pub output_record_count: Option<u64>,
    #[serde(default)]
    pub failed_record_count: Option<u64>,
    /// Per target connection, per entity (`id` `segment:<audienceId>`); shape UNCONFIRMED.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_summaries: Vec<TargetSummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSummary {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub entity_summaries: Vec<EntitySummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitySummary {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub input_record_count: Option<u64>,
    #[serde(default)]
    pub output_record_count: Option<u64>,
    #[serde(default)]
    pub failed_record_count: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSummary {
    #[serde(default)]
    pub input_file_count: Option<u64>,
    #[serde(default)]
    pub output_file_count: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusSummary {
    #[serde(default)]
    pub status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RunError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `metrics.statusSummary.status`. Compared without regard to case (the docs filter on
/// `Failed` where runs say `failed`); unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RunStatus {
    Scheduled,
    InProgress,
    Success,
    Failed,
    PartialSuccess,
    /// Not documented for runs; accepted in case the platform reports it.
    Cancelled,
    Other(String),
}

impl From<String> for RunStatus {
    fn from(text: String) -> Self {
        match text.to_ascii_lowercase().as_str() {
            "scheduled" => Self::Scheduled,
            "inprogress" | "in_progress" => Self::InProgress,
            "success" => Self::Success,
            "failed" => Self::Failed,
            "partialsuccess" | "partial_success" => Self::PartialSuccess,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Other(text),
        }
    }
}

impl From<RunStatus> for String {
    fn from(status: RunStatus) -> Self {
        status.as_str().to_owned()
    }
}

impl RunStatus {
    /// The platform's spelling (`scheduled`, `inProgress`, `success`, `failed`,
    /// `partialSuccess`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Scheduled => "scheduled",
            Self::InProgress => "inProgress",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::PartialSuccess => "partialSuccess",
            Self::Cancelled => "cancelled",
            Self::Other(text) => text,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Record counts of a run (0 or absent until it finishes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordCounts {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub failed: Option<u64>,
}

/// File counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileCounts {
    pub input: Option<u64>,
    pub output: Option<u64>,
}

impl Run {
    /// The status; a run that reports none is taken as `scheduled`.
    pub fn status(&self) -> RunStatus {
        self.metrics
            .status_summary
            .status
            .clone()
            .unwrap_or(RunStatus::Scheduled)
    }

    /// Whether the run has finished: `success`, `failed`, `partialSuccess` or `cancelled`; for
    /// a status we do not know, when `completedAtUTC` is present (inference, as aepp does).
    pub fn is_final(&self) -> bool {
        match self.status() {
            RunStatus::Scheduled | RunStatus::InProgress => false,
            RunStatus::Success
            | RunStatus::Failed
            | RunStatus::PartialSuccess
            | RunStatus::Cancelled => true,
            RunStatus::Other(_) => self.completed_at().is_some(),
        }
    }

    /// Whether the run finished with every record delivered.
    pub fn succeeded(&self) -> bool {
        self.status() == RunStatus::Success
    }

    /// `metrics.durationSummary.startedAtUTC` (epoch ms).
    pub fn started_at(&self) -> Option<i64> {
        self.metrics.duration_summary.started_at_utc
    }

    /// `metrics.durationSummary.completedAtUTC` (epoch ms).
    pub fn completed_at(&self) -> Option<i64> {
        self.metrics.duration_summary.completed_at_utc
    }

    pub fn records(&self) -> RecordCounts {
        let r = &self.metrics.record_summary;
        RecordCounts {
            input: r.input_record_count,
            output: r.output_record_count,
            failed: r.failed_record_count,
        }
    }

    pub fn files(&self) -> FileCounts {
        let f = &self.metrics.file_summary;
        FileCounts {
            input: f.input_file_count,
            output: f.output_file_count,
        }
    }

    /// The errors the run reports (`statusSummary.errors[]`).
    pub fn errors(&self) -> &[RunError] {
        &self.metrics.status_summary.errors
    }

    /// The segment IDs the run exported, from `recordSummary.targetSummaries[].entitySummaries[]`
    /// entries `segment:<id>` (lowercased). Used to match a run to a job whose response was lost.
    pub fn segment_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .metrics
            .record_summary
            .target_summaries
            .iter()
            .flat_map(|t| &t.entity_summaries)
            .filter_map(|e| e.id.as_deref()?.strip_prefix("segment:"))
            .map(str::to_ascii_lowercase)
            .collect();
        ids.dedup();
        ids
    }
}

// ---------------------------------------------------------------------------------------------
// Ad-hoc activation (`POST /data/core/activation/disflowprovider/adhocrun`).

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
#[derive(Debug, Clone, Deserialize)]
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
    Unknown { error: super::ApiError },
    /// The request was never sent (no token, no connection): safe to report as not submitted.
    NotSent { error: super::ApiError },
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
pub fn error_message(body: &Value) -> Option<&str> {
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

// ---------------------------------------------------------------------------------------------
// Calendar days.

/// A calendar day in UTC (days since 1970-01-01), for schedule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDate(i64);

impl UtcDate {
    /// Today, by the system clock.
    pub fn today() -> Self {
        Self::from_epoch_ms(crate::time::now_ms())
    }

    pub fn from_epoch_ms(ms: i64) -> Self {
        Self(ms.div_euclid(86_400_000))
    }

    /// Parses `YYYY-MM-DD` (anything after the tenth character, such as a time, is ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let date = text.get(..10)?;
        if !date
            .bytes()
            .enumerate()
            .all(|(i, b)| matches!(i, 4 | 7) || b.is_ascii_digit())
        {
            return None;
        }
        crate::time::days_of(date).map(Self)
    }

    /// The day `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Self {
        Self(self.0 + n)
    }
}

impl fmt::Display for UtcDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = crate::time::civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_round_trip_and_reject_nonsense() {
        let day = UtcDate::parse("2026-11-29").unwrap();
        assert_eq!(day.to_string(), "2026-11-29");
        assert_eq!(UtcDate::from_epoch_ms(0).to_string(), "1970-01-01");
        assert_eq!(
            UtcDate::parse("2024-02-29")
                .unwrap()
                .add_days(1)
                .to_string(),
            "2024-03-01"
        );
        assert_eq!(UtcDate::parse("2026-11-29T08:00:00Z"), Some(day));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "26-11-29",
            "2026-1-290",
            "",
            "2026-11-3x",
        ] {
            assert_eq!(UtcDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn schedules_cover_inclusive_ranges() {
        let day = UtcDate::parse("2026-11-29").unwrap();
        let schedule = |start: Option<&str>, end: Option<&str>| Schedule {
            frequency: None,
            trigger_type: None,
            start_date: start.map(str::to_owned),
            end_date: end.map(str::to_owned),
            start_time: None,
        };
        assert!(schedule(Some("2026-11-29"), Some("2026-11-29")).covers(day));
        assert!(schedule(Some("2026-01-01"), None).covers(day));
        assert!(schedule(None, None).covers(day));
        assert!(!schedule(Some("2026-11-30"), None).covers(day));
        assert!(!schedule(Some("2026-01-01"), Some("2026-11-28")).covers(day));
        assert!(!schedule(Some("soon"), None).covers(day));
    }

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

    #[test]
    fn unknown_statuses_are_kept() {
        let status: RunStatus = serde_json::from_value(json!("Failed")).unwrap();
        assert_eq!(status, RunStatus::Failed);
        let other: RunStatus = serde_json::from_value(json!("paused")).unwrap();
        assert_eq!(serde_json::to_value(&other).unwrap(), json!("paused"));
        let job: ExportJobStatus = serde_json::from_value(json!("SUCCEEDED")).unwrap();
        assert_eq!(job, ExportJobStatus::Succeeded);
    }
}
