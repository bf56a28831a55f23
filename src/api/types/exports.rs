//! Segment export jobs (`/data/core/ups/export/jobs`, reference §2): one job, the list page,
//! and the questions `plan` asks of them (is it a succeeded profile export, the latest one).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::common::lenient;

/// The schema name of profile export jobs, the only kind ad-hoc activation takes.
pub const PROFILE_SCHEMA: &str = "_xdm.context.profile";

/// One segment export job, as listed or fetched.
///
/// The client reads `id`, `status`, `schema`, the times and `metrics.totalTime`; the other
/// fields are there so the emulator writes the whole job from this type, and read leniently
/// (`lenient`): a shape we did not expect there reads as absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJob {
    /// An integer in the docs; digit strings are accepted too.
    #[serde(deserialize_with = "u64_or_string")]
    pub id: u64,
    /// `BATCH`.
    #[serde(default, deserialize_with = "lenient")]
    pub job_type: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub destination: Option<ExportDestination>,
    /// The exported fields, comma-separated.
    #[serde(default, deserialize_with = "lenient")]
    pub fields: Option<String>,
    #[serde(default)]
    pub schema: Option<SchemaRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub ims_org_id: Option<String>,
    pub status: ExportJobStatus,
    #[serde(default, deserialize_with = "lenient")]
    pub filter: Option<ExportFilter>,
    #[serde(default, deserialize_with = "lenient")]
    pub merge_policy: Option<MergePolicyRef>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_instance_id: Option<String>,
    #[serde(default)]
    pub metrics: Option<ExportJobMetrics>,
    #[serde(default, deserialize_with = "lenient")]
    pub compute_gateway_job_id: Option<ComputeGatewayJobId>,
    /// Epoch ms.
    #[serde(default)]
    pub creation_time: Option<i64>,
    /// Epoch ms.
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub request_id: Option<String>,
    /// Present on a failed job only.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub errors: Vec<ExportJobError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaRef {
    pub name: String,
}

/// Where a job writes its profiles: a dataset, one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportDestination {
    pub dataset_id: Option<String>,
    pub segment_per_batch: Option<bool>,
    pub batch_id: Option<String>,
}

/// Which profiles a job exports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportFilter {
    /// Segment filters (`{segmentId, segmentNs, status}` in the docs); the emulator's jobs
    /// have none.
    pub segments: Vec<Value>,
    pub empty_profiles: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergePolicyRef {
    pub id: Option<String>,
    pub version: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ComputeGatewayJobId {
    pub export_job: Option<String>,
}

/// One entry of a failed job's `errors`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportJobError {
    pub code: Option<String>,
    pub msg: Option<String>,
    pub call_stack: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJobMetrics {
    #[serde(default)]
    pub total_time: Option<TimeSpan>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_export_time: Option<TimeSpan>,
    #[serde(default)]
    pub total_exported_profile_counter: Option<u64>,
    /// Exported profiles per identity namespace (`ECID`, `Email`, ...); empty until the job
    /// succeeded.
    #[serde(default, deserialize_with = "lenient")]
    pub exported_profile_by_namespace_counter: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeSpan {
    #[serde(default)]
    pub start_time_in_ms: Option<i64>,
    #[serde(default)]
    pub end_time_in_ms: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub total_time_in_ms: Option<i64>,
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

/// The body of `GET /export/jobs`: `{records, page, link}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportJobList {
    #[serde(default)]
    pub(crate) records: Vec<ExportJob>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) page: Option<ExportJobPage>,
    #[serde(default)]
    pub(crate) link: Option<ExportJobLink>,
}

/// Where a page of export jobs stands: its sort and the cursor of its last record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ExportJobPage {
    pub(crate) sort_field: Option<String>,
    pub(crate) sort: Option<String>,
    pub(crate) page_offset: Option<String>,
    pub(crate) page_size: Option<u64>,
}

/// `link`: `{}` on the last page, else `{next}`, a path relative to the Segmentation service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportJobLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn export_job_statuses_are_read() {
        let job: ExportJobStatus = serde_json::from_value(json!("SUCCEEDED")).unwrap();
        assert_eq!(job, ExportJobStatus::Succeeded);
    }
}
