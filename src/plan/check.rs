//! The offline pipeline: find plan files, check each (in parallel), then check across them.
//!
//! Each file goes read -> YAML (one parse) -> schema -> serde -> guardrails, and stops at the first
//! stage that finds errors (later stages would only repeat them). Files are spread over the
//! cores with scoped threads; each worker keeps only diagnostics and a small summary per file, so
//! memory stays flat however many files are checked. Results come back in discovery order,
//! whatever order the workers finished in.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::across::{self, CrossPlan, SegmentUses};
use super::diags::{Code, Diagnostic, Severity};
use super::discover::{FileTarget, Target, Targets, discover};
use super::guardrails::{self, CheckOptions};
use super::identity::{self, PlanFile};
use super::model::RawPlan;
pub use super::report::{FileReport, JobSummary, Outcome, Render, Rendered, Rendering};
use super::schema;
use super::slots::{Slot, Slots};
use super::spill::{self, Spill};
use super::{load, read};
use crate::policy::find::{Policies, PolicyChoice};
use crate::policy::model::{FILE_NAME as POLICY_FILE, Policy};
use crate::policy::offline::{self as policy_rules, ApplyCount};

/// Everything one invocation found.
#[derive(Debug)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    /// YAML files met in directory walks that are not plans ([`file_kind`]), as found: not
    /// checked, only counted.
    pub skipped: Vec<Arc<str>>,
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

/// What a YAML file met in a directory walk is, as [`file_kind`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An activation plan, or a file that means to be one: checked.
    Plan,
    /// Some other YAML (a CI workflow, a Kubernetes manifest): skipped, and counted.
    Other,
    /// An aepact document that is not a plan (`apiVersion: aepact/policy-v1`, or another
    /// `aepact/<kind>-v<N>`): skipped for what it is, and counted.
    Document,
}

/// Decides whether a YAML file met in a directory walk is a plan, from the parse the check
/// makes anyway: `top` is the document's top level, `None` when the file is not valid YAML,
/// and `text` the file's text.
///
/// A plan is a mapping whose `apiVersion` is a string starting with `aepact/` (also a version
/// aepact does not know, so that its error shows), or, whatever its `apiVersion`, one with both
/// `name` and `destinations` (a plan whose `apiVersion` is missing or misspelt). A file that is
/// not valid YAML is taken for a plan when its text mentions `aepact/`. Everything else, such
/// as GitHub workflows and Kubernetes manifests (`apiVersion: apps/v1`), is other YAML. Files
/// named on the command line are plans without asking.
///
/// An `apiVersion` of the form `aepact/<kind>-<version>` (`aepact/policy-v1`) names another
/// aepact document: it is [`FileKind::Document`], never a plan with a wrong version.
///
/// Returns the kind.
pub fn file_kind(top: Option<&serde_json::Value>, text: &str) -> FileKind {
    let Some(top) = top else {
        return if text.contains("aepact/") {
            FileKind::Plan
        } else {
            FileKind::Other
        };
    };
    let Some(map) = top.as_object() else {
        return FileKind::Other;
    };
    match map.get("apiVersion").and_then(serde_json::Value::as_str) {
        Some(version) if version.starts_with("aepact/") => {
            if version["aepact/".len()..].contains('-') {
                FileKind::Document
            } else {
                FileKind::Plan
            }
        }
        _ if map.contains_key("name") && map.contains_key("destinations") => FileKind::Plan,
        _ => FileKind::Other,
    }
}

/// Checks one file through every offline stage, reading and parsing it once.
///
/// Returns the report (its `file`, and its plan's, set to the canonical file) and the plan's
/// distinct segment keys, as [`check_source`] does; or `None` for a file met in a walk that
/// [`file_kind`] says is not a plan. A file that cannot be read is reported whatever it is.
fn check_file(
    targets: &Targets,
    target: &FileTarget,
    ctx: &PolicyContext<'_>,
    last_dir: &mut LastDir,
    keep_plan: bool,
) -> Option<(FileReport, Vec<u64>, Option<ApplyCount>)> {
    let display: Arc<str> = Arc::from(targets.display(target));
    let file = targets.file(target);
    let options = ctx.options;
    // A policy file met in a walk is read as a policy when a plan needs it, never as a plan.
    if !target.named && targets.file_name(target).is_some_and(|n| n == POLICY_FILE) {
        log_skipped(&display, "a policy file");
        return None;
    }
    let read = if target.regular {
        read::read_regular(&file, &display)
    } else {
        read::read_source(&file, &display)
    };
    let mut counted = None;
    let (mut report, distinct) = match read {
        Ok(source) => {
            let doc = load::parse(&source);
            let kind = file_kind(doc.as_ref().ok().map(|d| &d.value), source.text());
            if kind == FileKind::Document
                && let Ok(doc) = &doc
                && doc.value["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("aepact/policy-"))
            {
                if !target.named {
                    log_skipped(&display, "a policy file");
                    return None;
                }
                // Named on the command line: checked as the policy it is, and reported here only.
                ctx.policies.reported_as_named(&file);
                let diagnostics = Policy::parse(source.clone()).err().unwrap_or_default();
                return Some((
                    FileReport::of_policy(display, diagnostics),
                    Vec::new(),
                    None,
                ));
            }
            if !target.named && kind != FileKind::Plan {
                if kind == FileKind::Document {
                    log_skipped(&display, "an aepact document of another kind");
                }
                return None;
            }
            let policy = last_dir.policy(ctx.policies, targets.dir_of(target), &file);
            let governed = policy.as_ref().map(|policy| Governed {
                policy,
                default_sandbox: ctx.default_sandbox,
                counted: &mut counted,
            });
            check_document(&source, doc, display, options, keep_plan, governed)
        }
        Err(diag) => (FileReport::new(display, vec![diag]), Vec::new()),
    };
    // The canonical file is kept for the callers that keep plans (`plan`, `apply`); `validate`
    // shows none, and 10,000 of them would be a fifth of what it holds.
    if keep_plan {
        let file: Arc<Path> = Arc::from(file);
        if let Some(plan) = &mut report.plan {
            plan.file = file.clone();
        }
        report.file = Some(file);
    }
    Some((report, distinct, counted))
}

/// The policy of the walked directory a worker's last plan was found in, by the directory's
/// index in the targets: the plans of one directory come one after the other, and asking
/// [`Policies`] again for each took a lock and a hash of the directory's path.
#[derive(Default)]
struct LastDir(Option<(u32, Option<std::sync::Arc<Policy>>)>);

impl LastDir {
    /// The policy of the plan `file`, found in the walked directory `dir` (its index and path,
    /// from [`Targets::dir_of`]) or, for a file named on the command line, by its path.
    fn policy(
        &mut self,
        policies: &Policies,
        dir: Option<(u32, &Path)>,
        file: &Path,
    ) -> Option<std::sync::Arc<Policy>> {
        let Some((at, dir)) = dir else {
            return policies.for_plan(file);
        };
        match &self.0 {
            Some((known, policy)) if *known == at => policy.clone(),
            _ => {
                let policy = policies.for_plan_in(dir);
                self.0 = Some((at, policy.clone()));
                policy
            }
        }
    }
}

/// Says at `-v` why a walked file is not checked as a plan.
fn log_skipped(path: &str, what: &str) {
    tracing::info!("skipped `{path}`: {what}, not a plan");
}

/// What the check of every file shares about policies.
struct PolicyContext<'a> {
    options: &'a CheckOptions,
    policies: &'a Policies,
    /// `AEP_SANDBOX`: the sandbox of a plan that names none, as the online commands send it.
    default_sandbox: Option<&'a str>,
}

/// The policy a plan is checked against, and where to put what it counts toward
/// `maxSegmentsPerApply`.
struct Governed<'a> {
    policy: &'a std::sync::Arc<Policy>,
    default_sandbox: Option<&'a str>,
    counted: &'a mut Option<ApplyCount>,
}

/// Checks a plan's text (already read) through every offline stage.
///
/// Returns the report and the [`guardrails::segment_key`]s of the plan's distinct segments
/// (empty unless the plan passed the schema), for the cross-plan checks.
pub fn check_source(
    source: &super::source::SourceFile,
    display: Arc<str>,
    options: &CheckOptions,
    keep_plan: bool,
) -> (FileReport, Vec<u64>) {
    check_document(
        source,
        load::parse(source),
        display,
        options,
        keep_plan,
        None,
    )
}

/// [`check_source`] on a parse already made.
fn check_document(
    source: &super::source::SourceFile,
    doc: Result<load::Document, Vec<Diagnostic>>,
    display: Arc<str>,
    options: &CheckOptions,
    keep_plan: bool,
    governed: Option<Governed<'_>>,
) -> (FileReport, Vec<u64>) {
    let mut doc = match doc {
        Ok(doc) => doc,
        Err(diags) => return (FileReport::new(display, diags), Vec::new()),
    };
    let diags = schema::check(&doc, source);
    if !diags.is_empty() {
        return (FileReport::new(display, diags), Vec::new());
    }
    // The lines of the plan's parts, for annotations of `plan`: read from the tree while it
    // is still here.
    let lines = keep_plan.then(|| super::lines::Lines::of_plan(&doc, source));
    // The tree is not needed after this (the guardrails blame through the span table): move
    // its strings into the typed plan rather than copy the tree first.
    let raw: RawPlan = match super::typed::raw_plan(std::mem::take(&mut doc.value)) {
        Ok(raw) => raw,
        Err(err) => {
            // The schema is generated from these types, so this means the two disagree.
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
    let policy = governed.map(|g| {
        *g.counted =
            policy_rules::check_plan(g.policy, &raw, &doc, source, g.default_sandbox, &mut diags);
        g.policy.clone()
    });
    let name = raw.name.clone().into_boxed_str();
    // The checked plan is built only for whoever uses it: `plan`/`apply`, and `--split`.
    let want_plan = keep_plan || options.split;
    let (distinct, checked) =
        guardrails::check_plan(raw, &doc, source, options, want_plan, &mut diags);
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
            let mut plan = plan;
            plan.lines = lines.unwrap_or_default();
            plan.policy = policy;
            report.plan = Some(Box::new(plan));
        }
    }
    (report, distinct)
}

/// Checks every plan under `paths`: each file on its own (in parallel), then across files.
///
/// `keep_plans` keeps the checked [`Plan`](super::Plan)s in the report (for `plan`/`apply`), with each
/// file's canonical path; `validate` leaves it off to keep memory flat.
pub fn check_paths(paths: &[PathBuf], options: &CheckOptions, keep_plans: bool) -> CheckReport {
    check_paths_with(paths, options, keep_plans, PolicyChoice::Off)
}

/// [`check_paths`] with policies: each plan is also checked against the offline rules of the
/// policy `policy` chooses for it (the nearest `aepact.policy.yaml`, or `--policy FILE`), and
/// a kept plan holds its policy for `plan` and `apply`. A policy file with problems is
/// reported as a file of its own, once.
pub fn check_paths_with(
    paths: &[PathBuf],
    options: &CheckOptions,
    keep_plans: bool,
    policy: PolicyChoice,
) -> CheckReport {
    let mut files = Vec::new();
    // Without a `render`, every outcome is a report.
    let checked = check_each(paths, options, keep_plans, policy, None, &mut |outcome| {
        if let Outcome::Report(file) = outcome {
            files.push(file);
        }
    });
    CheckReport {
        files,
        skipped: checked.skipped,
        options: *options,
    }
}

/// What [`check_each`] found besides the files' reports.
#[derive(Debug)]
pub struct Checked {
    /// As [`CheckReport::skipped`].
    pub skipped: Vec<Arc<str>>,
    /// Bytes the run wrote to its temporary file rather than holding them (issue 13).
    pub spilled: u64,
}

/// [`check_paths`], handing each file's report to `each` in discovery order (the order of
/// [`CheckReport::files`]) instead of collecting them, once every file is checked and the
/// cross-plan checks are done: a caller that writes each report as it comes and drops it
/// holds no report per file (issue 13: memory stays flat for `validate`'s human and github
/// output).
///
/// With `render`, a file with diagnostics (and no plan or jobs kept) is rendered as soon as it
/// is checked, and handed over as [`Outcome::Rendered`]: its diagnostics, and the text of the
/// file they hold, are dropped then rather than held until every file is checked. A valid plan
/// is handed over as [`Outcome::Valid`], having left only the key of its name (or, with
/// [`Rendering::names`], as a report that names it, having left its name). A rendered or
/// valid file that the cross-plan checks then find something in is checked again, so that
/// those findings take their places among its own diagnostics, and handed over as a report.
///
/// `policy` chooses each plan's policy, as in [`check_paths_with`]; a policy file with
/// problems is handed over last, as a report of its own.
pub fn check_each(
    paths: &[PathBuf],
    options: &CheckOptions,
    keep_plans: bool,
    policy: PolicyChoice,
    render: Option<Rendering<'_>>,
    each: &mut dyn FnMut(Outcome),
) -> Checked {
    let policies = Policies::new(policy);
    // Only a policy's rules need the sandbox a plan without one activates in.
    let default_sandbox = (!policies.is_off())
        .then(|| std::env::var("AEP_SANDBOX").ok())
        .flatten()
        .filter(|s| !s.is_empty());
    let ctx = PolicyContext {
        options,
        policies: &policies,
        default_sandbox: default_sandbox.as_deref(),
    };
    let counts: std::sync::Mutex<Vec<(usize, ApplyCount)>> = std::sync::Mutex::default();
    // What the run holds past a budget (segment uses, rendered reports) goes to a temporary
    // file: memory stays flat however many files (issue 13).
    let spill = Spill::new(spill::budget());
    let held_text = AtomicUsize::new(0);
    let targets = discover(paths);
    let count = targets.list.len();
    let keys: Vec<AtomicU64> = (0..count).map(|_| AtomicU64::new(0)).collect();
    let others: std::sync::Mutex<Vec<(u32, Slot)>> = std::sync::Mutex::default();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(count)
        .max(1);
    // Each worker returns the segments of the plans it checked (no per-file allocation) and
    // how many targets it checked.
    let work = || {
        let mut uses = SegmentUses::spilling(&spill);
        let mut last_dir = LastDir::default();
        let mut done = 0;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(target) = targets.list.get(i) else {
                break;
            };
            let slot = match target {
                Target::File(file) => {
                    match check_file(&targets, file, &ctx, &mut last_dir, keep_plans) {
                        Some((report, distinct, counted)) => {
                            uses.push_plan(i, distinct);
                            if let Some(count) = counted {
                                counts
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push((i, count));
                            }
                            if let Some(name) = &report.plan_name {
                                keys[i].store(across::name_key(name), Ordering::Relaxed);
                            }
                            Slot::of(report, render).map(|slot| slot.spilled(&spill, &held_text))
                        }
                        None => Some(Slot::Skipped),
                    }
                }
                Target::Problem(diag) => Some(Slot::Report(Box::new(FileReport::new(
                    diag.path.clone(),
                    vec![(**diag).clone()],
                )))),
                Target::Dir(_) => Some(Slot::Dir),
            };
            if let Some(slot) = slot {
                others
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i as u32, slot));
            }
            done += 1;
        }
        Some((uses, done))
    };
    let checked = if workers == 1 {
        work()
    } else {
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let mut checked = work();
            // A worker only panics on a bug; its files then have no report (handled below).
            for other in others {
                match (&mut checked, other.join().ok().flatten()) {
                    (Some((all, done)), Some((part, more))) => {
                        all.append(part);
                        *done += more;
                    }
                    _ => checked = None,
                }
            }
            checked
        })
    };
    let mut others = others.into_inner().unwrap_or_else(|e| e.into_inner());
    others.sort_unstable_by_key(|(i, _)| *i);
    let keys: Vec<u64> = keys.into_iter().map(AtomicU64::into_inner).collect();
    let slots = Slots::new(&keys, others);
    // A rendered report written to the temporary file, read back; `None` (checked again, as a
    // file with findings across plans is) when it cannot be.
    let unspilled = |slot: Option<Slot>| match slot {
        Some(Slot::Written(written)) => {
            let (at, mut rendered) = *written;
            let mut bytes = Vec::new();
            spill.read(at, &mut bytes).ok()?;
            rendered.text = String::from_utf8(bytes).ok()?.into_boxed_str();
            Some(Slot::Rendered(Box::new(rendered)))
        }
        slot => slot,
    };
    let Some(uses) = checked
        .filter(|(_, done)| *done == count)
        .map(|(uses, _)| uses)
    else {
        // Only after a worker panicked; report what was checked, giving up on the cross-plan
        // checks rather than reporting them against the wrong files.
        for ((_, slot, named), target) in slots.into_ordered().zip(&targets.list) {
            match unspilled(slot) {
                Some(Slot::Rendered(rendered)) => each(Outcome::Rendered(*rendered)),
                Some(slot) => {
                    if let Some(report) = report_of(slot, target, &targets) {
                        each(Outcome::Report(report));
                    }
                }
                None if named => each(Outcome::Valid),
                None => {}
            }
        }
        return Checked {
            skipped: Vec::new(),
            spilled: spill.written(),
        };
    };

    let reload = |i: usize| match &targets.list[i] {
        Target::File(file) => read::read_source(&targets.file(file), &targets.display(file)).ok(),
        Target::Problem(_) | Target::Dir(_) => None,
    };
    let plan = |i: usize| CrossPlan {
        path: match &targets.list[i] {
            Target::File(file) if slots.is_plan_file(i) => targets.display(file),
            Target::Problem(diag) => Cow::Borrowed(&*diag.path),
            _ => Cow::Borrowed(""),
        },
        name: slots.get(i).and_then(Slot::name),
    };
    let (mut found, unread) = match across::check_across(keys, &plan, uses, &reload) {
        Ok(found) => (found, None),
        Err(err) => (Vec::new(), Some(err)),
    };
    let plan_file = |i: usize| match &targets.list[i] {
        Target::File(file) if slots.is_plan_file(i) => Some(PlanFile {
            display: targets.display(file),
            file: targets.file(file),
        }),
        _ => None,
    };
    let file_name = |i: usize| match &targets.list[i] {
        Target::File(file) if slots.is_plan_file(i) => targets.file_name(file),
        _ => None,
    };
    found.extend(identity::shared_lockfiles(
        count, &file_name, &plan_file, &reload,
    ));
    let mut counts = counts.into_inner().unwrap_or_else(|e| e.into_inner());
    counts.sort_by_key(|(i, _)| *i);
    found.extend(over_apply_limit(&counts, &reload));
    // In file order: a file's own diagnostics come before those found across files, as the
    // reports held them.
    found.sort_by_key(|(i, _)| *i);
    let mut found = found.into_iter().peekable();
    // Directories that held no plan (only other YAML), decided while every slot is here.
    let no_plan_dirs: Vec<usize> = (0..count)
        .filter(|&i| match &targets.list[i] {
            Target::Dir(dir) => {
                !dir.problems && dir.met.iter().all(|j| slots.is_skipped(j as usize))
            }
            _ => false,
        })
        .collect();
    let mut skipped = Vec::new();
    for ((i, slot, named), target) in slots.into_ordered().zip(&targets.list) {
        let found_here = found.peek().is_some_and(|(j, _)| *j == i);
        let report = match (unspilled(slot), target) {
            (None, Target::File(_)) if named && !found_here => {
                each(Outcome::Valid);
                continue;
            }
            (Some(Slot::Rendered(rendered)), Target::File(_)) if !found_here => {
                each(Outcome::Rendered(*rendered));
                continue;
            }
            // Findings across plans go among the file's own diagnostics: check it again for
            // those (a file that changed meanwhile is reported as it reads now).
            (None | Some(Slot::Rendered(_)), Target::File(file)) => Some(
                check_file(&targets, file, &ctx, &mut LastDir::default(), keep_plans).map_or_else(
                    || FileReport::new(targets.display(file).into(), Vec::new()),
                    |(report, _, _)| report,
                ),
            ),
            (Some(Slot::Skipped), Target::File(file)) => {
                skipped.push(targets.display(file).into());
                None
            }
            // A problem from the walk (an unreadable subdirectory) is reported on its own.
            (Some(Slot::Dir), Target::Dir(dir)) if no_plan_dirs.binary_search(&i).is_ok() => {
                Some(FileReport::new(
                    (*dir.display).into(),
                    vec![no_plans(&dir.display, dir.met.len())],
                ))
            }
            (Some(slot), target) => report_of(slot, target, &targets),
            (None, _) => None,
        };
        let Some(mut report) = report else {
            debug_assert!(!found_here, "a finding for target {i}, which has no report");
            continue;
        };
        while let Some((_, diag)) = found.next_if(|(j, _)| *j == i) {
            if diag.severity == Severity::Error {
                report.plan = None;
            }
            report.diagnostics.push(diag);
        }
        report.diagnostics.sort_by_key(Diagnostic::sort_key);
        each(Outcome::Report(report));
    }
    if let Some(err) = unread {
        each(Outcome::Report(FileReport::new(
            "(temporary file)".into(),
            vec![unread_spill(&err)],
        )));
    }
    // A policy file with problems is reported once, after the plans it governs.
    for (path, diagnostics) in policies.problems() {
        each(Outcome::Report(FileReport::of_policy(path, diagnostics)));
    }
    Checked {
        skipped,
        spilled: spill.written(),
    }
}

/// The plans past their policy's `maxSegmentsPerApply`, each diagnostic on the plan's
/// `destinations` (its file is read again: this is the rare case).
fn over_apply_limit(
    counts: &[(usize, ApplyCount)],
    reload: &dyn Fn(usize) -> Option<super::source::SourceFile>,
) -> Vec<(usize, Diagnostic)> {
    policy_rules::over_apply_limit(counts)
        .into_iter()
        .filter_map(|(i, problem)| {
            let source = reload(i)?;
            let doc = load::parse(&source).ok()?;
            let span = doc
                .spans
                .key("/destinations")
                .unwrap_or_else(|| doc.spans.node(""));
            Some((
                i,
                Diagnostic::at(Code::PolicyMaxSegmentsPerApply, &source, span, problem.message)
                    .with_pointer("/destinations")
                    .with_label_text(problem.label)
                    .with_help(
                        "give the command fewer plans at once (apply them in several steps), or raise the limit in a reviewed change",
                    )
                    .with_related(problem.related),
            ))
        })
        .collect()
}

/// The error for a run whose temporary file could not be read back: the checks across plans
/// were not done, which must not pass as "no findings".
fn unread_spill(err: &std::io::Error) -> Diagnostic {
    Diagnostic::error(
        Code::Unreadable,
        "(temporary file)",
        format!(
            "cannot read back the run's temporary file ({err}): the checks across plans (unique names, a segment in two plans) were not done"
        ),
    )
    .with_help("check that the temporary directory (TMPDIR) is healthy and has room, or check fewer plans at a time")
}

/// The report a slot stands for: a file's, or `None` for a skipped file or a directory.
fn report_of(slot: Slot, target: &Target, targets: &Targets) -> Option<FileReport> {
    match (slot, target) {
        (Slot::Report(report), _) => Some(*report),
        (Slot::Named(name), Target::File(file)) => {
            let mut report = FileReport::new(targets.display(file).into(), Vec::new());
            report.plan_name = Some(name);
            Some(report)
        }
        _ => None,
    }
}

/// The error for a directory given on the command line that held no plan: no YAML file at all,
/// or only `skipped` other YAML files.
fn no_plans(display: &str, skipped: usize) -> Diagnostic {
    if skipped == 0 {
        return Diagnostic::error(
            Code::NoPlans,
            display,
            format!("directory `{display}` holds no plan files"),
        )
        .with_help(
            "plans are files named `*.yaml` or `*.yml`; check that this is the right directory",
        );
    }
    let files = if skipped == 1 {
        "1 other YAML file".to_owned()
    } else {
        format!("{skipped} other YAML files")
    };
    Diagnostic::error(
        Code::NoPlans,
        display,
        format!("directory `{display}` holds no plan files ({files} skipped)"),
    )
    .with_help(
        "a plan is a `*.yaml` or `*.yml` file whose top level has `apiVersion: aepact/v1`; \
         check that this is the right directory, or name a file to check it as a plan",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::discover::display_path;

    fn kind(text: &str) -> FileKind {
        let source = super::super::source::SourceFile::new("x.yaml", text);
        let doc = load::parse(&source);
        file_kind(doc.as_ref().ok().map(|d| &d.value), text)
    }

    #[test]
    fn file_kind_tells_plans_from_other_yaml() {
        for plan in [
            "apiVersion: aepact/v1\nname: a\n",
            "apiVersion: aepact/v9\n",
            "apiVersion: aepact/\n",
            "name: a\ndestinations: []\n",
            "apiVersion: v1\nname: a\ndestinations: []\n",
            "apiVersion: 1\nname: a\ndestinations: []\n",
            "apiVersion: aepact/v1\nname: [broken\n",
            "# aepact/v1\n",
        ] {
            assert_eq!(kind(plan), FileKind::Plan, "{plan:?}");
        }
        for other in [
            "apiVersion: apps/v1\nkind: Deployment\n",
            "apiVersion: 1\n",
            "apiVersion: [aepact/v1]\n",
            "name: ci\non: push\njobs: {}\n",
            "destinations: []\n",
            "- apiVersion: aepact/v1\n",
            "aepact/v1\n",
            "",
            "key: [broken\n",
            "a: 1\n---\nb: 2\n",
        ] {
            assert_eq!(kind(other), FileKind::Other, "{other:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_named_alone_is_checked_as_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("plans/real.yaml");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(
            &target,
            "apiVersion: aepact/v1\nname: real\nexports: latest\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    segments: [00000000-0000-4000-8000-000000000001]\n",
        )
        .unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let report = check_paths(std::slice::from_ref(&link), &CheckOptions::default(), true);
        assert_eq!(report.files.len(), 1);
        let file = &report.files[0];
        assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
        let canonical = std::fs::canonicalize(&target).unwrap();
        assert_eq!(&*file.path, display_path(&link));
        assert_eq!(file.file.as_deref(), Some(canonical.as_path()));
        let plan = file.plan.as_ref().unwrap();
        assert_eq!(&*plan.file, canonical.as_path());
        assert_eq!(&*plan.path, display_path(&link));
    }

    #[cfg(unix)]
    #[test]
    fn a_walk_gives_each_file_its_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("plans");
        std::fs::create_dir_all(plans.join("sub")).unwrap();
        std::fs::write(plans.join("sub/a.yaml"), "apiVersion: aepact/v1\n").unwrap();
        // The walk starts from a symlink to the directory, named with a `./` segment.
        std::os::unix::fs::symlink(&plans, dir.path().join("via")).unwrap();
        // Canonical paths are reported when plans are kept (`validate` keeps neither).
        let report = check_paths(&[dir.path().join("./via")], &CheckOptions::default(), true);
        let canonical = std::fs::canonicalize(plans.join("sub/a.yaml")).unwrap();
        assert_eq!(report.files.len(), 1);
        assert_eq!(report.files[0].file.as_deref(), Some(canonical.as_path()));
        let report = check_paths(&[dir.path().join("./via")], &CheckOptions::default(), false);
        assert_eq!(report.files[0].file, None);
    }

    #[test]
    fn a_path_that_cannot_be_resolved_keeps_the_path_as_given() {
        // Through a file as if it were a directory: neither "not found" nor resolvable.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain.yaml"), "").unwrap();
        let path = dir.path().join("plain.yaml/x.yaml");
        assert!(std::fs::canonicalize(&path).is_err());
        let report = check_paths(std::slice::from_ref(&path), &CheckOptions::default(), true);
        assert_eq!(report.files[0].diagnostics[0].code, Code::Unreadable);
        assert_eq!(report.files[0].file.as_deref(), Some(path.as_path()));
    }
}
