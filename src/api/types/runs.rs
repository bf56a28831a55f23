//! Flow Service runs (`/data/foundation/flowservice/runs`, reference §4): what an ad-hoc job's
//! `statusURL` points at, its metrics and status, and whether it has finished.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::common::lenient;

/// A dataflow run: what an ad-hoc `statusURL` points at.
///
/// The client reads the ID, flow, times and metrics; who made it, the sandbox, the etag and the
/// activities are there so the emulator writes the whole run from this type, and are read
/// leniently (`lenient`).
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
    /// `<client ID>@AdobeID` for an API client's run.
    #[serde(default, deserialize_with = "lenient")]
    pub created_by: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_by: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_client: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub updated_client: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub sandbox_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub sandbox_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub etag: Option<String>,
    #[serde(default)]
    pub metrics: RunMetrics,
    #[serde(default, deserialize_with = "lenient")]
    pub activities: Option<Vec<Activity>>,
}

// The summaries below are those of the run's `metrics` and of each of its activities. An
// activity's are empty (`{}`), which is why their fields are left out when absent.

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
    #[serde(
        rename = "startedAtUTC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at_utc: Option<i64>,
    /// Epoch ms; present once the run finished.
    #[serde(
        rename = "completedAtUTC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at_utc: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_record_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_record_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// `segment`.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub kind: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_file_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file_count: Option<u64>,
    /// The activities these counts come from.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub activity_refs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSummary {
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// The activities this status comes from.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub activity_refs: Option<Vec<String>>,
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

/// One step of a run (the emulator's runs have one, `exportActivity`), with its own summaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Activity {
    pub id: Option<String>,
    /// Epoch ms.
    #[serde(rename = "updatedAtUTC")]
    pub updated_at_utc: Option<i64>,
    pub duration_summary: DurationSummary,
    pub size_summary: SizeSummary,
    pub record_summary: RecordSummary,
    pub file_summary: FileSummary,
    pub status_summary: StatusSummary,
    pub target_info: Vec<TargetInfo>,
}

/// What an activity writes to: a target connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetInfo {
    pub id: Option<String>,
    /// `TargetConnection`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
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

    /// The record counts of one segment in this run, from its
    /// `recordSummary.targetSummaries[].entitySummaries[]` entry `segment:<id>` (the shape is
    /// UNCONFIRMED: the platform's documentation names the path, not its fields; we read
    /// `inputRecordCount`, `outputRecordCount` and `failedRecordCount`, as the run's own
    /// summary spells them). Entries of several targets are added up.
    ///
    /// Returns `None` when the run has no entry for the segment.
    pub fn segment_records(&self, segment: &str) -> Option<RecordCounts> {
        let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        self.metrics
            .record_summary
            .target_summaries
            .iter()
            .flat_map(|t| &t.entity_summaries)
            .filter(|e| {
                e.id.as_deref()
                    .and_then(|id| id.strip_prefix("segment:"))
                    .is_some_and(|id| id.eq_ignore_ascii_case(segment))
            })
            .map(|e| RecordCounts {
                input: e.input_record_count,
                output: e.output_record_count,
                failed: e.failed_record_count,
            })
            .reduce(|a, b| RecordCounts {
                input: add(a.input, b.input),
                output: add(a.output, b.output),
                failed: add(a.failed, b.failed),
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_run_statuses_are_kept() {
        let status: RunStatus = serde_json::from_value(json!("Failed")).unwrap();
        assert_eq!(status, RunStatus::Failed);
        let other: RunStatus = serde_json::from_value(json!("paused")).unwrap();
        assert_eq!(serde_json::to_value(&other).unwrap(), json!("paused"));
    }
}
