//! The Platform's JSON, as typed values: segment export jobs, Flow Service flows and runs,
//! segment definitions, and the ad-hoc activation response (`reference/aep-api.md` §2-4; the emulator returns the same).
//!
//! Parsing is lenient where the documentation is thin: unknown fields are ignored, most fields
//! are optional, and status strings we do not know are kept as they came (`Other`), so a new
//! platform value degrades a report instead of failing a command. Helpers answer the questions
//! `plan`, `apply` and `status` ask (is this flow usable, is this run final) in one place.
//!
//! The emulator writes its bodies with these same types (`docs/emulator.md`), so the two cannot
//! drift apart: a field renamed or retyped here changes both sides, or fails to compile. Fields
//! only the emulator needs are read with `lenient`. One file per service: `exports`,
//! `flows`, `runs`, `adhoc`, `segments`; `errors` holds the error bodies.

mod adhoc;
mod common;
mod errors;
mod exports;
mod flows;
mod runs;
mod segments;

/// Moved to [`crate::time`], the one place for time; kept here so `api::types::UtcDate` works.
pub use crate::time::UtcDate;
pub use adhoc::{AdhocApiVersion, AdhocOutcome, AdhocRequest, Order, RunAlreadyGoing};
pub(crate) use adhoc::{AdhocResponse, error_message};
pub(crate) use common::{Href, Items, Links, lenient};
pub(crate) use errors::{GatewayError, OAuthError, Problem};
pub use exports::{
    ComputeGatewayJobId, ExportDestination, ExportFilter, ExportJob, ExportJobError,
    ExportJobMetrics, ExportJobStatus, MergePolicyRef, PROFILE_SCHEMA, SchemaRef, TimeSpan,
};
pub(crate) use exports::{ExportJobLink, ExportJobList, ExportJobPage};
pub use flows::{
    ConnectionRef, Flow, FlowDetails, FlowProperties, FlowSpecRef, InheritedAttributes, Mapping,
    ProfileSelector, ProfileSelectorValue, ProfileSelectors, Schedule, SegmentSelector,
    SegmentSelectors, SelectorValue, Transformation, TransformationParams,
};
pub use runs::{
    Activity, DurationSummary, EntitySummary, FileCounts, FileSummary, RecordCounts, RecordSummary,
    Run, RunError, RunMetrics, RunStatus, SizeSummary, StatusSummary, TargetInfo, TargetSummary,
};
pub use segments::SegmentDefinition;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_only_the_emulator_needs_never_fail_a_body() {
        let job: ExportJob = serde_json::from_value(json!({
            "id": 7, "status": "SUCCEEDED", "jobType": 3, "mergePolicy": "mp",
            "errors": "none", "metrics": {"profileExportTime": [], "totalExportedProfileCounter": 5},
        }))
        .unwrap();
        assert_eq!((job.job_type, job.merge_policy), (None, None));
        assert!(job.errors.is_empty());
        assert_eq!(job.metrics.unwrap().total_exported_profile_counter, Some(5));
    }
}
