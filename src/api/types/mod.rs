//! The Platform's JSON, as typed values: segment export jobs, Flow Service flows and runs, and
//! the ad-hoc activation response (`reference/aep-api.md` §2-4; the emulator returns the same).
//!
//! Parsing is lenient where the documentation is thin: unknown fields are ignored, most fields
//! are optional, and status strings we do not know are kept as they came (`Other`), so a new
//! platform value degrades a report instead of failing a command. Helpers answer the questions
//! `plan`, `apply` and `status` ask (is this flow usable, is this run final) in one place.

mod adhoc;
mod exports;
mod flows;
mod runs;

use serde::Deserialize;

/// Moved to [`crate::time`], the one place for time; kept here so `api::types::UtcDate` works.
pub use crate::time::UtcDate;
pub(crate) use adhoc::AdhocResponse;
pub use adhoc::{AdhocOutcome, Order, RunAlreadyGoing, error_message};
pub(crate) use exports::ExportJobList;
pub use exports::{
    ExportJob, ExportJobMetrics, ExportJobStatus, PROFILE_SCHEMA, SchemaRef, TimeSpan,
};
pub use flows::{
    Flow, FlowProperties, InheritedAttributes, Mapping, Schedule, SegmentSelector,
    SegmentSelectors, SelectorValue, Transformation, TransformationParams,
};
pub use runs::{
    DurationSummary, EntitySummary, FileCounts, FileSummary, RecordCounts, RecordSummary, Run,
    RunError, RunMetrics, RunStatus, SizeSummary, StatusSummary, TargetSummary,
};

// ---------------------------------------------------------------------------------------------
// The Flow Service list shape, shared by flows and runs.

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
