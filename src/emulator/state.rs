//! The emulated world and its rules: org and clients, sandboxes with their segments, dataflows,
//! export jobs and flow runs, the virtual clock, and what the platform would return for each,
//! as the client's own types (`api::types`): `to_api` on a run, a flow or an export job.
//!
//! Everything here is plain data and pure functions of (world, now), with no I/O and no async, so
//! the rules can be read and tested apart from HTTP. A run's status is never stored: it is
//! derived from its creation time, its duration and the clock, so reading a run writes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::types as api;

/// The state file's format version; a file with another version is refused, not guessed at.
///
/// 2 added [`Run::kind`] (runs the scheduler or the UI started); a format-1 file is still read,
/// its runs all ad hoc, and saved as format 2.
pub(super) const STATE_FORMAT: u32 = 2;

/// The oldest state file format this version reads.
pub(super) const OLDEST_STATE_FORMAT: u32 = 1;

/// The schema name of profile export jobs, the only kind ad-hoc activation accepts.
pub(super) use crate::api::types::PROFILE_SCHEMA;

/// The Flow Service spec ID our destination dataflows claim (any stable UUID does).
const DESTINATION_FLOW_SPEC: &str = "71471eba-b620-49e4-90fd-23f1fa0174d8";
/// The Flow Service spec ID our source dataflows claim.
const SOURCE_FLOW_SPEC: &str = "9753525b-82c7-4dce-8a9b-5ccfce2b9876";

/// Everything the emulator knows, as kept in the state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct World {
    pub format: u32,
    pub org_id: String,
    pub clients: Vec<Client>,
    /// Key of the keyed hash that signs access tokens, so tokens are checked without being stored.
    pub token_key: u64,
    /// Virtual clock: milliseconds added to the system clock (`POST /_emulator/clock`).
    pub clock_offset_ms: i64,
    /// When the world was built (epoch ms, virtual clock).
    pub created_at: i64,
    /// The next ID for a new export job (IDs are unique across sandboxes).
    pub next_export_job_id: u64,
    pub sandboxes: BTreeMap<String, Sandbox>,
}

/// An OAuth server-to-server credential of the org.
///
/// The state file keeps the SHA-256 of the secret, never the secret itself: the file may be
/// committed, shared or attached to a bug report. A file written before this (with `secret`)
/// is still read; the next save writes the digest instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "ClientOnDisk")]
pub(crate) struct Client {
    pub id: String,
    /// Lowercase hex SHA-256 of the client secret.
    pub secret_sha256: String,
}

impl Client {
    /// A client whose secret is `secret` (only its digest is kept).
    pub(crate) fn new(id: impl Into<String>, secret: &str) -> Self {
        Client {
            id: id.into(),
            secret_sha256: crate::digest::sha256_hex(secret.as_bytes()),
        }
    }

    /// Whether `secret` is this client's secret (compared in constant time, by digest).
    pub(crate) fn secret_matches(&self, secret: &str) -> bool {
        let given = crate::digest::sha256_hex(secret.as_bytes());
        let (a, b) = (given.as_bytes(), self.secret_sha256.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A client as read from a state file: with the secret's digest, or (older files) the secret.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientOnDisk {
    id: String,
    #[serde(default)]
    secret_sha256: Option<String>,
    #[serde(default)]
    secret: Option<String>,
}

impl TryFrom<ClientOnDisk> for Client {
    type Error = String;

    fn try_from(disk: ClientOnDisk) -> Result<Self, Self::Error> {
        match (disk.secret_sha256, disk.secret) {
            (Some(digest), None) => Ok(Client {
                id: disk.id,
                secret_sha256: digest,
            }),
            (None, Some(secret)) => Ok(Client::new(disk.id, &secret)),
            _ => Err(format!(
                "client `{}` needs exactly one of `secretSha256` and `secret`",
                disk.id
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Sandbox {
    pub id: String,
    pub segments: Vec<Segment>,
    pub flows: Vec<Flow>,
    pub export_jobs: Vec<ExportJob>,
    pub runs: Vec<Run>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Segment {
    pub id: String,
    pub name: String,
    /// Profiles a run of this segment exports (the run's record metrics).
    pub profiles: u64,
    /// How its runs end.
    pub outcome: Outcome,
}

/// How a finished run ends, as the world decides per segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Outcome {
    Success,
    Failed,
    PartialSuccess,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::PartialSuccess => "partialSuccess",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Flow {
    pub id: String,
    pub name: String,
    /// A destination (activation) dataflow; `false` for a source dataflow.
    pub destination: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub etag: String,
    pub source_connection_id: String,
    pub target_connection_id: String,
    pub selectors: Vec<Selector>,
}

/// A segment mapped to a destination dataflow, with its export schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Selector {
    pub segment_id: String,
    pub frequency: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub start_time: String,
    /// Whether the selector carries the segment's name (the seed's `named`); when it does not,
    /// only the Segmentation API tells it.
    #[serde(default = "named_by_default")]
    pub named: bool,
}

/// A stored selector from before `named` existed carries the name.
fn named_by_default() -> bool {
    true
}

impl Selector {
    /// Whether the schedule covers the day `today` (`YYYY-MM-DD` strings compare as dates).
    pub(crate) fn covers(&self, today: &str) -> bool {
        self.start_date.as_str() <= today && self.end_date.as_deref().is_none_or(|end| today <= end)
    }
}

/// Status of a segment export job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum JobStatus {
    New,
    Processing,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::New => "NEW",
            JobStatus::Processing => "PROCESSING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "NEW" => Some(JobStatus::New),
            "PROCESSING" => Some(JobStatus::Processing),
            "SUCCEEDED" => Some(JobStatus::Succeeded),
            "FAILED" => Some(JobStatus::Failed),
            _ => None,
        }
    }

    /// Whether the job still runs (blocks ad-hoc activation).
    pub(crate) fn is_running(self) -> bool {
        matches!(self, JobStatus::New | JobStatus::Processing)
    }
}

/// A segment (profile) export job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExportJob {
    pub id: u64,
    pub status: JobStatus,
    pub schema: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub profiles: u64,
    pub dataset_id: String,
    pub batch_id: String,
    pub request_id: String,
}

/// A run of one segment to one dataflow: an ad-hoc activation, or one the platform started
/// itself (`POST /_emulator/runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Run {
    pub id: String,
    pub flow_id: String,
    pub segment_id: String,
    /// The API client that asked for it (an ad-hoc run); empty for the other kinds.
    pub client_id: String,
    /// Who started it; absent in format-1 state files, where every run is ad hoc.
    #[serde(default)]
    pub kind: RunKind,
    pub created_at: i64,
    /// How long it takes from creation to its final status (fixed when it is created).
    pub duration_ms: u64,
    pub outcome: Outcome,
    pub profiles: u64,
    pub etag: String,
}

/// Who started a run, which shows in its `createdBy` and `createdClient`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum RunKind {
    /// An API client's ad-hoc activation (`POST …/adhocrun`).
    #[default]
    Adhoc,
    /// The dataflow's own schedule (last night's export).
    Scheduled,
    /// A click on "Export file now" in the UI.
    ExportNow,
}

/// What `createdBy`/`createdClient` say for runs nobody's API client started. The platform's
/// values are undocumented (UNCONFIRMED): these only have to differ from any API client's.
pub(super) const SCHEDULER_USER: &str = "scheduler@AdobeID";
pub(super) const SCHEDULER_CLIENT: &str = "scheduler";
pub(super) const UI_USER: &str = "emulator-ui-user@AdobeID";
pub(super) const UI_CLIENT: &str = "exc_app";

impl Run {
    /// `createdBy` and `createdClient`: the API client's for an ad-hoc run, else the
    /// scheduler's or the UI's.
    pub(crate) fn creator(&self) -> (String, String) {
        match self.kind {
            RunKind::Adhoc => (
                format!("{}@AdobeID", self.client_id),
                self.client_id.clone(),
            ),
            RunKind::Scheduled => (SCHEDULER_USER.into(), SCHEDULER_CLIENT.into()),
            RunKind::ExportNow => (UI_USER.into(), UI_CLIENT.into()),
        }
    }
}

/// Where a run stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Scheduled,
    InProgress,
    Done(Outcome),
}

impl Phase {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Phase::Scheduled => "scheduled",
            Phase::InProgress => "inProgress",
            Phase::Done(outcome) => outcome.as_str(),
        }
    }
}

impl Run {
    /// The run's phase at `now`: scheduled for the first quarter of its duration, in progress
    /// until the duration has passed, then finished. A run created after `now` (only
    /// `POST /_emulator/runs` makes one) is scheduled, whatever its duration.
    pub(crate) fn phase(&self, now: i64) -> Phase {
        let Ok(elapsed) = u64::try_from(now.saturating_sub(self.created_at)) else {
            return Phase::Scheduled;
        };
        if elapsed >= self.duration_ms {
            Phase::Done(self.outcome)
        } else if elapsed < self.duration_ms / 4 {
            Phase::Scheduled
        } else {
            Phase::InProgress
        }
    }

    pub(crate) fn started_at(&self) -> i64 {
        self.created_at.saturating_add(ms_i64(self.duration_ms / 4))
    }

    pub(crate) fn completed_at(&self) -> i64 {
        self.created_at.saturating_add(ms_i64(self.duration_ms))
    }

    /// The run as `GET /runs/{id}` returns it.
    pub(crate) fn to_api(&self, sandbox_name: &str, sandbox: &Sandbox, now: i64) -> api::Run {
        let phase = self.phase(now);
        let (input, output, failed) = match phase {
            Phase::Scheduled | Phase::InProgress => (0, 0, 0),
            Phase::Done(Outcome::Success) => (self.profiles, self.profiles, 0),
            Phase::Done(Outcome::PartialSuccess) => {
                let failed = (self.profiles / 10).max(1).min(self.profiles);
                (self.profiles, self.profiles - failed, failed)
            }
            Phase::Done(Outcome::Failed) => (self.profiles, 0, self.profiles),
        };
        let done = matches!(phase, Phase::Done(_));
        let updated_at = match phase {
            Phase::Scheduled => self.created_at,
            Phase::InProgress => self.started_at(),
            Phase::Done(_) => self.completed_at(),
        };
        let target = sandbox
            .flow(&self.flow_id)
            .map(|f| f.target_connection_id.clone())
            .unwrap_or_default();
        let error = |code: &str, message: String| {
            vec![api::RunError {
                code: Some(code.into()),
                message: Some(message),
            }]
        };
        let errors = match phase {
            Phase::Done(Outcome::Failed) => error(
                "DEST-ADH-500",
                format!(
                    "The destination rejected all {} records of segment {}.",
                    self.profiles, self.segment_id
                ),
            ),
            Phase::Done(Outcome::PartialSuccess) => error(
                "DEST-ADH-207",
                format!(
                    "The destination rejected {failed} of {input} records of segment {}.",
                    self.segment_id
                ),
            ),
            _ => Vec::new(),
        };
        // About 120 bytes per exported profile row.
        let bytes = |records: u64| records.saturating_mul(120);
        let files = u64::from(done && output > 0);
        let (created_by, created_client) = self.creator();
        let status = api::RunStatus::from(phase.as_str().to_owned());
        let activity = || Some(vec![EXPORT_ACTIVITY.to_owned()]);
        api::Run {
            id: self.id.clone(),
            flow_id: self.flow_id.clone(),
            created_at: Some(self.created_at),
            updated_at: Some(updated_at),
            created_by: Some(created_by.clone()),
            updated_by: Some(created_by),
            created_client: Some(created_client.clone()),
            updated_client: Some(created_client),
            sandbox_id: Some(sandbox.id.clone()),
            sandbox_name: Some(sandbox_name.to_owned()),
            etag: Some(self.etag.clone()),
            metrics: api::RunMetrics {
                duration_summary: api::DurationSummary {
                    started_at_utc: (phase != Phase::Scheduled).then(|| self.started_at()),
                    completed_at_utc: done.then(|| self.completed_at()),
                },
                size_summary: api::SizeSummary {
                    input_bytes: Some(bytes(input)),
                    output_bytes: Some(bytes(output)),
                },
                record_summary: api::RecordSummary {
                    input_record_count: Some(input),
                    output_record_count: Some(output),
                    failed_record_count: Some(failed),
                    target_summaries: vec![api::TargetSummary {
                        id: Some(target.clone()),
                        entity_summaries: vec![api::EntitySummary {
                            id: Some(format!("segment:{}", self.segment_id)),
                            kind: Some("segment".into()),
                            input_record_count: Some(input),
                            output_record_count: Some(output),
                            failed_record_count: Some(failed),
                        }],
                    }],
                },
                file_summary: api::FileSummary {
                    input_file_count: Some(0),
                    output_file_count: Some(files),
                    activity_refs: activity(),
                },
                status_summary: api::StatusSummary {
                    status: Some(status.clone()),
                    activity_refs: activity(),
                    errors,
                },
            },
            activities: Some(vec![api::Activity {
                id: Some(EXPORT_ACTIVITY.into()),
                updated_at_utc: Some(updated_at),
                status_summary: api::StatusSummary {
                    status: Some(status),
                    ..Default::default()
                },
                target_info: vec![api::TargetInfo {
                    id: Some(target),
                    kind: Some("TargetConnection".into()),
                }],
                ..Default::default()
            }]),
        }
    }
}

/// The one activity of an emulated run.
const EXPORT_ACTIVITY: &str = "exportActivity";

impl World {
    /// The virtual now, in epoch milliseconds.
    pub(crate) fn now(&self) -> i64 {
        system_now_ms().saturating_add(self.clock_offset_ms)
    }

    pub(crate) fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Finds an export job by ID in any sandbox.
    pub(crate) fn export_job_mut(&mut self, id: u64) -> Option<(&str, &mut ExportJob)> {
        self.sandboxes.iter_mut().find_map(|(name, sb)| {
            sb.export_jobs
                .iter_mut()
                .find(|j| j.id == id)
                .map(|j| (name.as_str(), j))
        })
    }
}

impl Sandbox {
    pub(crate) fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }

    pub(crate) fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    pub(crate) fn run(&self, id: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.id == id)
    }

    pub(crate) fn export_job(&self, id: u64) -> Option<&ExportJob> {
        self.export_jobs.iter().find(|j| j.id == id)
    }

    /// A segment export job that is still running, if any.
    pub(crate) fn running_export_job(&self) -> Option<&ExportJob> {
        self.export_jobs.iter().find(|j| j.status.is_running())
    }

    /// A run of `segment_id` that has not finished at `now`, if any.
    pub(crate) fn active_run(&self, segment_id: &str, now: i64) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.segment_id == segment_id && !matches!(r.phase(now), Phase::Done(_)))
    }
}

impl Flow {
    /// The flow as Flow Service returns it.
    pub(crate) fn to_api(&self, sandbox_name: &str, sandbox: &Sandbox) -> api::Flow {
        let selectors = self
            .selectors
            .iter()
            .map(|s| api::SegmentSelector {
                kind: "PLATFORM_SEGMENT".into(),
                value: api::SelectorValue {
                    id: Some(s.segment_id.clone()),
                    name: s.named.then(|| {
                        sandbox
                            .segment(&s.segment_id)
                            .map(|seg| seg.name.clone())
                            .unwrap_or_default()
                    }),
                    filename_template: Some(
                        "%DESTINATION_NAME%_%SEGMENT_ID%_%DATETIME(YYYYMMdd_HHmmss)%".into(),
                    ),
                    export_mode: Some("DAILY_FULL_EXPORT".into()),
                    schedule: Some(api::Schedule {
                        frequency: Some(s.frequency.clone()),
                        trigger_type: Some("SCHEDULED".into()),
                        start_date: Some(s.start_date.clone()),
                        end_date: s.end_date.clone(),
                        start_time: Some(s.start_time.clone()),
                    }),
                },
            })
            .collect();
        let exists = |path: &str| api::ProfileSelector {
            kind: "JSON_PATH".into(),
            value: api::ProfileSelectorValue {
                path: path.into(),
                operator: "EXISTS".into(),
            },
        };
        let transformations = if self.destination {
            vec![api::Transformation {
                name: "GeneralTransform".into(),
                params: Some(api::TransformationParams {
                    segment_selectors: Some(api::SegmentSelectors { selectors }),
                    profile_selectors: Some(api::ProfileSelectors {
                        selectors: vec![
                            exists("personalEmail.address"),
                            exists("person.name.firstName"),
                        ],
                    }),
                }),
            }]
        } else {
            Vec::new()
        };
        let spec = if self.destination {
            DESTINATION_FLOW_SPEC
        } else {
            SOURCE_FLOW_SPEC
        };
        let connection = |id: &str| Some(vec![api::ConnectionRef { id: id.to_owned() }]);
        api::Flow {
            id: self.id.clone(),
            name: self.name.clone(),
            state: Some(if self.enabled { "enabled" } else { "disabled" }.into()),
            details: Box::new(api::FlowDetails {
                flow_spec: Some(api::FlowSpecRef {
                    id: Some(spec.into()),
                    version: Some("1.0".into()),
                }),
                version: Some(self.etag.clone()),
                etag: Some(self.etag.clone()),
                created_at: Some(self.created_at),
                updated_at: Some(self.created_at),
                sandbox_id: Some(sandbox.id.clone()),
                sandbox_name: Some(sandbox_name.to_owned()),
                source_connection_ids: Some(vec![self.source_connection_id.clone()]),
                target_connection_ids: Some(vec![self.target_connection_id.clone()]),
                runs: Some(format!("/runs?property=flowId=={}", self.id)),
            }),
            inherited_attributes: Some(api::InheritedAttributes {
                properties: Some(api::FlowProperties {
                    is_destination_flow: Some(self.destination),
                    is_source_flow: Some(!self.destination),
                }),
                source_connections: connection(&self.source_connection_id),
                target_connections: connection(&self.target_connection_id),
            }),
            transformations,
        }
    }
}

impl ExportJob {
    /// The job as `GET /export/jobs` returns it.
    pub(crate) fn to_api(&self, org_id: &str) -> api::ExportJob {
        let finished = matches!(self.status, JobStatus::Succeeded | JobStatus::Failed);
        let succeeded = self.status == JobStatus::Succeeded;
        let start = self.created_at;
        let end = if finished { self.updated_at } else { 0 };
        let span = || api::TimeSpan {
            start_time_in_ms: Some(start),
            end_time_in_ms: Some(end),
            total_time_in_ms: Some(if finished { end - start } else { 0 }),
        };
        let by_namespace = if succeeded {
            BTreeMap::from([
                ("ECID".to_owned(), self.profiles),
                ("Email".to_owned(), self.profiles / 2),
            ])
        } else {
            BTreeMap::new()
        };
        let errors = if self.status == JobStatus::Failed {
            vec![api::ExportJobError {
                code: Some("0100000003".into()),
                msg: Some("Error in Export Job".into()),
                call_stack: Some("com.adobe.aep.unifiedprofile.exception.ExportJobException: profile export failed (emulated)".into()),
            }]
        } else {
            Vec::new()
        };
        api::ExportJob {
            id: self.id,
            job_type: Some("BATCH".into()),
            destination: Some(api::ExportDestination {
                dataset_id: Some(self.dataset_id.clone()),
                segment_per_batch: Some(false),
                batch_id: Some(self.batch_id.clone()),
            }),
            fields: Some("identities.id,personalEmail.address,person.name.firstName".into()),
            schema: Some(api::SchemaRef {
                name: self.schema.clone(),
            }),
            ims_org_id: Some(org_id.to_owned()),
            status: api::ExportJobStatus::from(self.status.as_str().to_owned()),
            filter: Some(api::ExportFilter {
                segments: Vec::new(),
                empty_profiles: Some(false),
            }),
            merge_policy: Some(api::MergePolicyRef {
                id: Some("timestampOrdered-none-mp".into()),
                version: Some(1),
            }),
            profile_instance_id: Some("ups".into()),
            metrics: Some(api::ExportJobMetrics {
                total_time: Some(span()),
                profile_export_time: Some(span()),
                total_exported_profile_counter: Some(if succeeded { self.profiles } else { 0 }),
                exported_profile_by_namespace_counter: Some(by_namespace),
            }),
            compute_gateway_job_id: Some(api::ComputeGatewayJobId {
                export_job: Some(self.request_id.clone()),
            }),
            creation_time: Some(self.created_at),
            update_time: Some(self.updated_at),
            request_id: Some(self.request_id.clone()),
            errors,
        }
    }
}

/// A duration in ms as a time offset (state files are data: a huge value must not overflow).
fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The system clock in epoch milliseconds.
pub(super) fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh random lowercase UUID.
pub(super) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh etag, quoted as Flow Service quotes them.
pub(super) fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4().simple())
}

/// A 24-hex-digit ID, the shape of dataset IDs.
pub(super) fn new_hex24() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

/// Whether `text` is a lowercase or uppercase hyphenated UUID.
pub(super) fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

pub(super) use crate::time::{date_of, days_of};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400_000), "2000-02-29");
        for date in ["1999-12-31", "2000-02-29", "2026-11-29", "2100-03-01"] {
            let days = days_of(date).unwrap();
            assert_eq!(date_of(days * 86_400_000), date);
        }
        assert_eq!(days_of("2026-02-29"), None);
        assert_eq!(days_of("2026-13-01"), None);
        assert_eq!(days_of("26-01-01"), None);
    }

    #[test]
    fn runs_move_through_their_phases() {
        let run = Run {
            id: "r".into(),
            flow_id: "f".into(),
            segment_id: "s".into(),
            client_id: "c".into(),
            kind: RunKind::Adhoc,
            created_at: 1_000,
            duration_ms: 400,
            outcome: Outcome::PartialSuccess,
            profiles: 10,
            etag: String::new(),
        };
        assert_eq!(run.phase(1_000), Phase::Scheduled);
        assert_eq!(run.phase(1_099), Phase::Scheduled);
        assert_eq!(run.phase(1_100), Phase::InProgress);
        assert_eq!(run.phase(1_399), Phase::InProgress);
        assert_eq!(run.phase(1_400), Phase::Done(Outcome::PartialSuccess));
        let instant = Run {
            duration_ms: 0,
            ..run
        };
        assert_eq!(instant.phase(1_000), Phase::Done(Outcome::PartialSuccess));
        assert_eq!(instant.phase(999), Phase::Scheduled, "not created yet");
    }

    /// What the emulator writes, read back through JSON by the client's own code, answers the
    /// client's questions as the world says: a client/emulator mismatch fails here.
    #[test]
    fn the_client_reads_what_the_emulator_writes() {
        fn through_json<T: Serialize + serde::de::DeserializeOwned>(value: T) -> T {
            serde_json::from_value(serde_json::to_value(value).unwrap()).unwrap()
        }
        let now = 1_796_000_000_000;
        let world = crate::emulator::Seed::demo().build(now, 0);
        let prod = &world.sandboxes["prod"];
        let gold = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
        let holiday = "599702c1-937c-4df4-bcb9-dfd8b2913966";

        let email = through_json(
            prod.flow("0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
                .unwrap()
                .to_api("prod", prod),
        );
        let today = crate::time::UtcDate::from_epoch_ms(now);
        assert!(email.is_enabled_destination());
        assert!(email.covers_segment(gold, today));
        assert_eq!(email.segment_name(gold), Some("Loyalty gold"));
        assert!(matches!(
            email.mapping(holiday, today),
            api::Mapping::OutOfSchedule(_)
        ));
        let source = through_json(
            prod.flow("26201c81-429c-4f90-93d5-1582c98ed1b6")
                .unwrap()
                .to_api("prod", prod),
        );
        assert!(!source.is_destination());

        let jobs: Vec<api::ExportJob> = prod
            .export_jobs
            .iter()
            .map(|j| through_json(j.to_api(&world.org_id)))
            .collect();
        let latest = api::ExportJob::latest_succeeded_profile(&jobs).unwrap();
        assert_eq!(latest.id, 11044);
        let failed = jobs.iter().find(|j| j.id == 11040).unwrap();
        assert!(!failed.succeeded() && !failed.is_running() && failed.finished_at().is_some());

        let run = Run {
            id: "r".into(),
            flow_id: email.id.clone(),
            segment_id: gold.into(),
            client_id: "c".into(),
            kind: RunKind::Adhoc,
            created_at: now,
            duration_ms: 400,
            outcome: Outcome::PartialSuccess,
            profiles: 10,
            etag: String::new(),
        };
        let at = |t: i64| through_json(run.to_api("prod", prod, t));
        let scheduled = at(now);
        assert_eq!(scheduled.status(), api::RunStatus::Scheduled);
        assert_eq!(
            (scheduled.started_at(), scheduled.completed_at()),
            (None, None)
        );
        assert_eq!(at(now + 100).status(), api::RunStatus::InProgress);
        let done = at(now + 400);
        assert!(done.is_final() && !done.succeeded());
        assert_eq!(done.status(), api::RunStatus::PartialSuccess);
        assert_eq!(
            (done.started_at(), done.completed_at()),
            (Some(now + 100), Some(now + 400))
        );
        assert_eq!(done.segment_ids(), [gold]);
        assert_eq!(
            (
                done.records().input,
                done.records().output,
                done.records().failed
            ),
            (Some(10), Some(9), Some(1))
        );
        assert_eq!(done.errors()[0].code.as_deref(), Some("DEST-ADH-207"));
    }
}
