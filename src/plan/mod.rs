//! Plans: the file format, loading with positions, the schema, the offline guardrails and the
//! diagnostics they produce.
//!
//! The flow is `load` (YAML -> JSON tree + span table) -> `schema` (jsonschema over the tree,
//! unless `accept` finds the plain forms of a valid plan) ->
//! `typed` (`RawPlan`, read from the tree by hand) -> `guardrails` (`Plan`); `check` runs it over
//! files and directories.

mod accept;
pub mod across;
pub mod check;
pub mod diags;
mod discover;
pub mod guardrails;
pub mod identity;
pub mod lines;
pub mod load;
pub mod model;
pub mod read;
mod report;
pub mod request;
pub mod schema;
mod slots;
pub mod source;
pub mod spans;
pub(crate) mod spill;
mod typed;
mod untagged;

pub use crate::api::AdhocApiVersion;
pub use check::{
    CheckReport, Checked, FileReport, Outcome, Render, Rendered, Rendering, check_each, check_paths,
};
pub use diags::{Code, Diagnostic, Severity};
pub use guardrails::CheckOptions;
pub use model::{Plan, RawPlan};
pub use source::SourceFile;
