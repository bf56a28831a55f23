//! The offline pipeline: find plan files, check each (in parallel), then check across them.
//!
//! Each file goes read -> YAML (one parse) -> schema -> serde -> guardrails, and stops at the first
//! stage that finds errors (later stages would only repeat them). Files are spread over the
//! cores with scoped threads; each worker keeps only diagnostics and a small summary per file, so
//! memory stays flat however many files are checked. Results come back in discovery order,
//! whatever order the workers finished in.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::diags::{Code, Diagnostic, Severity};
use super::guardrails::{self, CheckOptions, CrossPlan, SegmentUse};
use super::load;
use super::model::{Plan, RawPlan};
use super::schema;

/// The outcome of checking one path: a plan file, or a path that yielded no file.
///
/// Kept small (the plan boxed, no text): `validate` holds one per file until the end.
#[derive(Debug)]
pub struct FileReport {
    /// The path as given, or as found under a directory that was given.
    pub path: Arc<str>,
    pub diagnostics: Vec<Diagnostic>,
    /// The checked plan, when the caller asked to keep plans and the file has no errors.
    pub plan: Option<Box<Plan>>,
    /// The plan's name, when the file held a schema-valid plan.
    pub plan_name: Option<Box<str>>,
    /// Jobs the plan packs into when `--split` was given: segment IDs per job.
    pub jobs: Option<Vec<JobSummary>>,
}

/// One job of a split plan.
#[derive(Debug, Clone)]
pub struct JobSummary {
    pub segments: Vec<String>,
    pub destinations: Vec<String>,
}

impl FileReport {
    fn new(path: Arc<str>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            path,
            diagnostics,
            plan: None,
            plan_name: None,
            jobs: None,
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

/// Everything one invocation found.
#[derive(Debug)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    pub options: CheckOptions,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.files.iter().map(FileReport::errors).sum()
    }

    pub fn warnings(&self) -> usize {
        self.files.iter().map(FileReport::warnings).sum()
    }

    pub fn is_valid(&self) -> bool {
        self.errors() == 0
    }
}

/// What to check.
enum Target {
    File { path: PathBuf, display: Arc<str> },
    Problem(Box<Diagnostic>),
}

/// Expands the command line's paths into plan files, in order: a file as given; a directory as
/// every `*.yaml`/`*.yml` below it, sorted, skipping hidden entries and symlinked directories
/// (so a link loop cannot trap the walk). A path given twice is checked once.
fn discover(paths: &[PathBuf]) -> Vec<Target> {
    let mut found = Discovery::default();
    for path in paths {
        let display = display_path(path);
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => found.problem(
                Diagnostic::error(
                    Code::PathNotFound,
                    display.as_str(),
                    format!("`{display}` does not exist"),
                )
                .with_help("check the path; plans are `*.yaml` or `*.yml` files, or directories holding them"),
            ),
            Ok(meta) if meta.is_dir() => {
                let (before, met) = (found.targets.len(), found.met);
                found.walk(path);
                // Nothing met at all, not even a file already named (a problem from the walk,
                // such as an unreadable subdirectory, is reported on its own).
                if found.met == met && found.targets.len() == before {
                    found.problem(
                        Diagnostic::error(
                            Code::NoPlans,
                            display.as_str(),
                            format!("directory `{display}` holds no plan files"),
                        )
                        .with_help("plans are files named `*.yaml` or `*.yml`; check that this is the right directory"),
                    );
                }
            }
            // Files, and paths we cannot stat: reading will say what is wrong with them.
            _ => found.file(path.clone(), display),
        }
    }
    found.targets
}

#[derive(Default)]
struct Discovery {
    targets: Vec<Target>,
    seen: std::collections::HashSet<Arc<str>>,
    /// Plan files met, counting those already listed (a directory holding only a file that
    /// was also named on its own still holds plans).
    met: usize,
}

impl Discovery {
    fn problem(&mut self, diag: Diagnostic) {
        self.targets.push(Target::Problem(Box::new(diag)));
    }

    fn file(&mut self, path: PathBuf, display: String) {
        self.met += 1;
        let display: Arc<str> = display.into();
        if self.seen.insert(display.clone()) {
            self.targets.push(Target::File { path, display });
        }
    }

    fn walk(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => {
                let display = display_path(dir);
                return self.problem(
                    Diagnostic::error(
                        Code::Unreadable,
                        display.as_str(),
                        format!("cannot read directory `{display}`: {err}"),
                    )
                    .with_help("check that the directory exists and that you may read it"),
                );
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                self.walk(&path);
            } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !(kind.is_symlink() && path.is_dir())
            {
                let display = display_path(&path);
                self.file(path, display);
            }
        }
    }
}

/// The path as shown to users: as given, without `./` segments, with `/` separators.
fn display_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        return ".".to_owned();
    }
    let joined = parts.join("/");
    joined
        .strip_prefix("//")
        .map_or(joined.clone(), |rest| format!("/{rest}"))
}

/// Checks one plan file through every offline stage.
///
/// Returns the report and the plan's distinct segment IDs, as [`check_source`] does.
pub fn check_file(
    path: &Path,
    display: Arc<str>,
    options: &CheckOptions,
    keep_plan: bool,
) -> (FileReport, Vec<u128>) {
    let source = match load::read_source(path, &display) {
        Ok(source) => source,
        Err(diag) => return (FileReport::new(display, vec![diag]), Vec::new()),
    };
    let (mut report, distinct) = check_source(&source, display, options, keep_plan);
    if let Some(plan) = report.plan.as_mut() {
        plan.file = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_owned())
            .into();
    }
    (report, distinct)
}

/// Checks a plan's text (already read) through every offline stage.
///
/// Returns the report and the plan's distinct segment IDs (empty unless the plan passed the
/// schema), for the cross-plan checks.
pub fn check_source(
    source: &super::source::SourceFile,
    display: Arc<str>,
    options: &CheckOptions,
    keep_plan: bool,
) -> (FileReport, Vec<u128>) {
    let doc = match load::parse(source) {
        Ok(doc) => doc,
        Err(diags) => return (FileReport::new(display, diags), Vec::new()),
    };
    let diags = schema::check(&doc, source);
    if !diags.is_empty() {
        return (FileReport::new(display, diags), Vec::new());
    }
    let raw: RawPlan = match serde_json::from_value(doc.value.clone()) {
        Ok(raw) => raw,
        Err(err) => {
            // The schema is generated from these types, so this means they disagree.
            let diag = Diagnostic::at(
                Code::InvalidValue,
                source,
                doc.spans.node(""),
                format!("the plan passed the schema but could not be read: {err}"),
            )
            .with_help("this is a bug in aepact: please report it with this file");
            return (FileReport::new(display, vec![diag]), Vec::new());
        }
    };
    let mut diags = Vec::new();
    let name = raw.name.clone().into_boxed_str();
    let (distinct, checked) = guardrails::check_plan(raw, &doc, source, options, &mut diags);
    let mut report = FileReport::new(display, diags);
    report.plan_name = Some(name);
    if let Some(plan) = checked {
        if options.split {
            report.jobs = Some(
                plan.jobs(options.segment_limit())
                    .into_iter()
                    .map(|job| JobSummary {
                        segments: job.segments,
                        destinations: job.activation.into_iter().map(|(d, _)| d).collect(),
                    })
                    .collect(),
            );
        }
        if keep_plan {
            report.plan = Some(Box::new(plan));
        }
    }
    (report, distinct)
}

/// Checks every plan under `paths`: each file on its own (in parallel), then across files.
///
/// `keep_plans` keeps the checked [`Plan`]s in the report (for `plan`/`apply`); `validate`
/// leaves it off to keep memory flat.
pub fn check_paths(paths: &[PathBuf], options: &CheckOptions, keep_plans: bool) -> CheckReport {
    let mut targets = discover(paths);
    targets.shrink_to_fit();
    let slots: Vec<std::sync::Mutex<Option<FileReport>>> = targets
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(targets.len())
        .max(1);
    // Each worker returns the segments of the plans it checked, flat (no per-file allocation).
    let work = || {
        let mut uses = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(target) = targets.get(i) else { break };
            let report = match target {
                Target::File { path, display } => {
                    let (report, distinct) = check_file(path, display.clone(), options, keep_plans);
                    uses.extend(distinct.into_iter().map(|id| SegmentUse::new(id, i)));
                    report
                }
                Target::Problem(diag) => FileReport::new(diag.path.clone(), vec![(**diag).clone()]),
            };
            // Each slot is written by exactly one worker; the lock is never contended.
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
        }
        uses
    };
    // One list of segment uses per worker; the cross-plan checks merge them as they read.
    let mut uses: Vec<Vec<SegmentUse>> = if workers == 1 {
        vec![work()]
    } else {
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let mut parts = vec![work()];
            // A worker only panics on a bug; its files then have no report (handled below).
            parts.extend(others.into_iter().map(|o| o.join().unwrap_or_default()));
            parts
        })
    };
    let mut files: Vec<FileReport> = slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    if files.len() != targets.len() {
        // Only after a worker panicked; keep indices aligned with `targets` by giving up on the
        // cross-plan checks rather than reporting them against the wrong files.
        return CheckReport {
            files,
            options: *options,
        };
    }

    let plans: Vec<CrossPlan<'_>> = files
        .iter()
        .map(|f| CrossPlan {
            path: &f.path,
            name: f.plan_name.as_deref(),
        })
        .collect();
    let reload = |i: usize| match &targets[i] {
        Target::File { path, display } => load::read_source(path, display).ok(),
        Target::Problem(_) => None,
    };
    let found = guardrails::check_across(&plans, &mut uses, &reload);
    drop(plans);
    for (i, diag) in found {
        let file = &mut files[i];
        if diag.severity == Severity::Error {
            file.plan = None;
        }
        file.diagnostics.push(diag);
    }
    for file in &mut files {
        file.diagnostics.sort_by_key(Diagnostic::sort_key);
    }
    CheckReport {
        files,
        options: *options,
    }
}
