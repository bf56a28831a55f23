//! A file's report, as the checks of `check.rs` make it and hand it over.

use std::path::Path;
use std::sync::Arc;

use super::diags::{Code, Diagnostic, Severity};
use super::model::Plan;

/// The outcome of checking one path: a plan file, or a path that yielded no file.
///
/// Kept small (the plan boxed, no text): `plan` and `apply` hold one per file until the end.
#[derive(Debug)]
pub struct FileReport {
    /// The path as given, or as found under a directory that was given.
    pub path: Arc<str>,
    /// The canonical file (symlinks resolved; the path as given when that failed): with the
    /// plan's name, what identifies the plan. Set only when plans are kept ([`check_paths`](super::check_paths)'s
    /// `keep_plans`, for `plan` and `apply`): `None` for `validate`, for a path that yielded no
    /// file, and for text checked on its own ([`check_source`](super::check::check_source)).
    pub file: Option<Arc<Path>>,
    pub diagnostics: Vec<Diagnostic>,
    /// The checked plan, when the caller asked to keep plans and the file has no errors.
    pub plan: Option<Box<Plan>>,
    /// The plan's name, when the file held a schema-valid plan.
    pub plan_name: Option<Box<str>>,
    /// Jobs the plan packs into when `--split` was given: segment IDs per job.
    pub jobs: Option<Vec<JobSummary>>,
    /// The report is of a policy file (`aepact/policy-v1`), not of a plan: summaries count it
    /// apart.
    pub policy: bool,
}

/// One job of a split plan.
#[derive(Debug, Clone)]
pub struct JobSummary {
    pub segments: Vec<String>,
    pub destinations: Vec<String>,
}

impl FileReport {
    pub(super) fn new(path: Arc<str>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            path,
            file: None,
            diagnostics,
            plan: None,
            plan_name: None,
            jobs: None,
            policy: false,
        }
    }

    /// The report of a policy file.
    pub(super) fn of_policy(path: Arc<str>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            policy: true,
            ..Self::new(path, diagnostics)
        }
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Whether this entry is a plan file (rather than a missing path or an empty directory).
    pub fn is_plan_file(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| matches!(d.code, Code::PathNotFound | Code::NoPlans))
    }
}

/// A file's report as [`check_each`](super::check_each) hands it over.
#[derive(Debug)]
pub enum Outcome {
    Report(FileReport),
    /// A plan file with nothing to report (only with a `render`: without one, such a file is
    /// a [`FileReport`] that names its plan).
    Valid,
    /// The report of a file with diagnostics, rendered by `check_each`'s `render` as soon as
    /// the file was checked.
    Rendered(Rendered),
}

/// A file's report as `render` wrote it, with what a summary counts of it.
#[derive(Debug)]
pub struct Rendered {
    pub text: Box<str>,
    pub errors: usize,
    pub warnings: usize,
    /// As [`FileReport::policy`].
    pub policy: bool,
}

/// Renders a file's report (its diagnostics) for [`check_each`](super::check_each).
pub type Render<'r> = &'r (dyn Fn(&FileReport) -> String + Sync);

/// How [`check_each`](super::check_each) renders files as they are checked.
#[derive(Clone, Copy)]
pub struct Rendering<'r> {
    /// A file's part of the report.
    pub render: Render<'r>,
    /// Hand a valid plan over as a report that names it (for documents that list every
    /// plan: its name is kept, about 70 bytes a plan), not as [`Outcome::Valid`].
    pub names: bool,
}
