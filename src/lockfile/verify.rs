//! What `aepact lock verify` checks: lockfiles read without touching them, so CI can gate on
//! them.
//!
//! Separate from `apply` and `status`, which refuse a damaged lockfile at its first problem:
//! [`verify_paths`] finds the lockfiles under its paths, reads each one (never locks, never
//! writes) and reports every problem it can find, each at its line and column or JSON pointer:
//! - the parse: merge-conflict markers, invalid JSON, another `lockfileVersion`, anything that
//!   does not fit the format (what [`Lockfile::parse_format`] refuses);
//! - the consistency `apply` and `status` insist on ([`Lockfile::problems`]);
//! - every run's intent digest, recomputed from what the run records
//!   ([`Lockfile::digest_problems`]);
//! - history that aepact never writes: a plan name that is not the plan's, run numbering, the
//!   same intent sent twice, request bodies that are not ad-hoc bodies, orders the request did
//!   not ask for, export IDs that are not the run's, credentials in the endpoint.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::error::LockfileError;
use super::format::{ExportsSpec, JobRecord, JobStatus, Lockfile, redact_endpoint};
use super::parse::utf8;
use crate::api::{AdhocApiVersion, AdhocRequest};
use crate::plan::{CheckOptions, check_paths};

/// What `lock verify` found, per lockfile.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub lockfiles: Vec<LockfileReport>,
    /// Paths given that do not exist (each is a problem too).
    pub missing: Vec<String>,
}

/// One lockfile checked.
#[derive(Debug)]
pub struct LockfileReport {
    /// As found: the path given, or joined from the directory given.
    pub path: String,
    /// The plan file beside it, when there is one.
    pub plan_file: Option<String>,
    /// Runs recorded, when the lockfile parsed.
    pub runs: Option<usize>,
    pub problems: Vec<Problem>,
}

/// One problem: what kind, where (line and column for a parse error, else a JSON pointer) and
/// what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub pointer: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    fn at(kind: ProblemKind, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            kind,
            pointer: Some(pointer.into()),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem with the file as a whole (no line, no pointer).
    fn whole(kind: ProblemKind, message: String) -> Self {
        Problem {
            kind,
            pointer: None,
            line: None,
            column: None,
            message,
        }
    }
}

/// What kind of problem `lock verify` found (the `kind` of its JSON output).
///
/// One vocabulary with the lockfile's error codes: a kind that mirrors a refusal of `apply`,
/// `status` or `plan` (`read` to `wrong_plan`) is named as that error's code,
/// `aepact::lockfile::<kind>`; the others (`runs` to `endpoint`) are checks of the history only
/// `lock verify` makes, and no error code has their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// The file cannot be read ([`LockfileError::Read`]).
    Read,
    /// Not JSON, or not UTF-8 ([`LockfileError::Syntax`]).
    Syntax,
    /// Merge-conflict markers ([`LockfileError::MergeConflict`]).
    MergeConflict,
    /// JSON that does not fit the format ([`LockfileError::Invalid`]).
    Invalid,
    /// A `lockfileVersion` this aepact does not read ([`LockfileError::UnsupportedVersion`]).
    Version,
    /// Job fields that do not fit the job's status ([`LockfileError::Inconsistent`]).
    Inconsistent,
    /// An `intentDigest` that is not the digest of its run ([`LockfileError::DigestMismatch`]).
    DigestMismatch,
    /// `plan` is not the plan file's `name` ([`LockfileError::WrongPlan`]).
    WrongPlan,
    /// Run numbering, digests' form, runs without jobs, pairs of an intent sent twice.
    Runs,
    /// A request body that is not an ad-hoc body as aepact builds it.
    Request,
    /// Orders missing, doubled or not asked for.
    Orders,
    /// `exports` that do not fit the run's spec or API version.
    Exports,
    /// An endpoint that carries credentials, a query or a fragment.
    Endpoint,
}

impl ProblemKind {
    /// Every kind, those that mirror an error first (for a registry of every code).
    pub const ALL: [ProblemKind; 13] = [
        ProblemKind::Read,
        ProblemKind::Syntax,
        ProblemKind::MergeConflict,
        ProblemKind::Invalid,
        ProblemKind::Version,
        ProblemKind::Inconsistent,
        ProblemKind::DigestMismatch,
        ProblemKind::WrongPlan,
        ProblemKind::Runs,
        ProblemKind::Request,
        ProblemKind::Orders,
        ProblemKind::Exports,
        ProblemKind::Endpoint,
    ];

    /// The name in output: `read`, `syntax`, `merge_conflict`, `invalid`, `version`,
    /// `inconsistent`, `digest_mismatch`, `wrong_plan`, `runs`, `request`, `orders`, `exports`
    /// or `endpoint`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Read => "read",
            ProblemKind::Syntax => "syntax",
            ProblemKind::MergeConflict => "merge_conflict",
            ProblemKind::Invalid => "invalid",
            ProblemKind::Version => "version",
            ProblemKind::Inconsistent => "inconsistent",
            ProblemKind::DigestMismatch => "digest_mismatch",
            ProblemKind::WrongPlan => "wrong_plan",
            ProblemKind::Runs => "runs",
            ProblemKind::Request => "request",
            ProblemKind::Orders => "orders",
            ProblemKind::Exports => "exports",
            ProblemKind::Endpoint => "endpoint",
        }
    }

    /// One line for the registry of codes ([`crate::codes`]).
    pub fn meaning(self) -> &'static str {
        match self {
            ProblemKind::Read => "the lockfile cannot be read (as `aepact::lockfile::read`)",
            ProblemKind::Syntax => "not valid JSON, or not UTF-8 (as `aepact::lockfile::syntax`)",
            ProblemKind::MergeConflict => {
                "git merge-conflict markers (as `aepact::lockfile::merge_conflict`)"
            }
            ProblemKind::Invalid => {
                "JSON that does not match the lockfile format (as `aepact::lockfile::invalid`)"
            }
            ProblemKind::Version => {
                "a `lockfileVersion` this aepact does not read (as `aepact::lockfile::version`)"
            }
            ProblemKind::Inconsistent => {
                "a job's fields contradict its status (as `aepact::lockfile::inconsistent`)"
            }
            ProblemKind::DigestMismatch => {
                "a run's intent digest is not that of what it records (as \
                 `aepact::lockfile::digest_mismatch`)"
            }
            ProblemKind::WrongPlan => {
                "the lockfile records another plan than the plan file beside it (as \
                 `aepact::lockfile::wrong_plan`)"
            }
            ProblemKind::Runs => {
                "run numbering, a malformed digest, a run without jobs, or a pair of one intent \
                 requested again after it may have been activated"
            }
            ProblemKind::Request => "a request body that is not an ad-hoc body as aepact builds it",
            ProblemKind::Orders => {
                "a submitted job without orders, or orders its request did not ask for or twice"
            }
            ProblemKind::Exports => "`exports` that do not fit the run's spec or API version",
            ProblemKind::Endpoint => "an endpoint that carries user info, a query or a fragment",
        }
    }
}

impl VerifyReport {
    /// Problems over every lockfile, missing paths included.
    pub fn problems(&self) -> usize {
        self.missing.len()
            + self
                .lockfiles
                .iter()
                .map(|l| l.problems.len())
                .sum::<usize>()
    }
}

/// Finds the lockfiles under `paths` and checks each one.
///
/// A `*.lock.json` file is checked as it is; a plan file (`*.yaml`, `*.yml`) stands for its
/// lockfile, if it has one; a directory is searched recursively for `*.lock.json` files
/// (hidden directories such as `.git` and `.aepact` are skipped, symbolic links are not
/// followed), so a lockfile whose plan was deleted or does not validate is checked too.
pub fn verify_paths(paths: &[PathBuf]) -> VerifyReport {
    let (found, missing) = super::history::find_lockfiles(paths);
    VerifyReport {
        missing: missing.iter().map(|p| p.display().to_string()).collect(),
        lockfiles: found.iter().map(|p| verify_file(p)).collect(),
    }
}

/// The plan file a lockfile belongs to: `x.lock.json` → `x.yaml` or `x.yml`, if either exists.
fn plan_file_of(lock: &Path) -> Option<PathBuf> {
    let name = lock.file_name()?.to_str()?;
    let stem = name.strip_suffix(".lock.json")?;
    ["yaml", "yml"]
        .iter()
        .map(|ext| lock.with_file_name(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

/// Checks one lockfile.
pub fn verify_file(path: &Path) -> LockfileReport {
    let plan_file = plan_file_of(path);
    let mut report = LockfileReport {
        path: path.display().to_string(),
        plan_file: plan_file.as_ref().map(|p| p.display().to_string()),
        runs: None,
        problems: Vec::new(),
    };
    let text = match std::fs::read(path) {
        // Not UTF-8 is a syntax error at its place, as `apply` reports it.
        Ok(bytes) => match utf8(bytes, path) {
            Ok(text) => text,
            Err(err) => {
                report.problems.push(parse_problem(err));
                return report;
            }
        },
        Err(e) => {
            report.problems.push(Problem::whole(
                ProblemKind::Read,
                format!("cannot read it: {e}"),
            ));
            return report;
        }
    };
    let lockfile = match Lockfile::parse_format(&text, path) {
        Ok(lockfile) => lockfile,
        Err(err) => {
            report.problems.push(parse_problem(err));
            return report;
        }
    };
    report.runs = Some(lockfile.runs.len());
    report.problems.extend(
        lockfile
            .problems()
            .into_iter()
            .map(|p| Problem::at(ProblemKind::Inconsistent, p.pointer, p.message))
            .chain(
                lockfile
                    .digest_problems()
                    .into_iter()
                    .map(|p| Problem::at(ProblemKind::DigestMismatch, p.pointer, p.message)),
            ),
    );
    if let Some(plan) = &plan_file {
        let checked = check_paths(std::slice::from_ref(plan), &CheckOptions::default(), false);
        if let Some(name) = checked.files.first().and_then(|f| f.plan_name.as_deref())
            && name != lockfile.plan
        {
            report.problems.push(Problem::at(
                ProblemKind::WrongPlan,
                "/plan",
                format!(
                    "records plan `{}`, but `{}` is plan `{name}`",
                    lockfile.plan,
                    plan.display()
                ),
            ));
        }
    }
    report.problems.extend(history_problems(&lockfile));
    report
}

/// A parse error as a problem at its line and column.
fn parse_problem(err: LockfileError) -> Problem {
    let located = |kind, line, column, message: String| Problem {
        kind,
        pointer: None,
        line: Some(line),
        column: Some(column),
        message,
    };
    match err {
        LockfileError::MergeConflict { marker, line, .. } => located(
            ProblemKind::MergeConflict,
            line,
            1,
            format!(
                "unresolved merge conflict (`{marker}`): resolve it keeping both sides' runs, oldest first, and remove the conflict markers"
            ),
        ),
        LockfileError::Syntax {
            message,
            line,
            column,
            ..
        } => located(
            ProblemKind::Syntax,
            line,
            column,
            format!("not valid JSON: {message} (truncated or hand-edited? restore it from git)"),
        ),
        LockfileError::Invalid {
            message,
            line,
            column,
            ..
        } => located(
            ProblemKind::Invalid,
            line,
            column,
            format!("does not match the lockfile format: {message}"),
        ),
        LockfileError::UnsupportedVersion {
            found,
            line,
            column,
            ..
        } => Problem {
            pointer: Some("/lockfileVersion".to_owned()),
            ..located(
                ProblemKind::Version,
                line,
                column,
                format!("`lockfileVersion` is {found}; this aepact reads versions 1 to 3"),
            )
        },
        other => Problem::whole(ProblemKind::Read, other.to_string()),
    }
}

/// Checks of the history that [`Lockfile::problems`] leaves to this command: aepact never
/// writes these, but refusing them in `apply` or `status` would stop the polling of real
/// orders, so they are reported here for people to look at.
///
/// Run numbering: `run` is the plan's counter, copied into each run when it is applied, so it
/// is at least 1, and one intent (whose digest covers `run`) always has one run number. A
/// number may repeat: an apply whose jobs were all rejected or never sent is applied again
/// under the same number, and a plan changed without bumping `run` is recorded under the old
/// number with a new intent. What must never happen is a (destination, segment) pair of an
/// intent requested again after a run of that intent may have activated it (its job
/// `submitted`, or in doubt): that is the same activation sent twice. A run that resumed an
/// intent (an apply that stopped short, then sent only what nothing had activated) requests
/// other pairs, and is sound. Numbers need not increase (a reverted plan may go back to an
/// older number), so order is not checked.
fn history_problems(lockfile: &Lockfile) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    // Per intent digest: each pair some run may have activated, and the first such run.
    let mut activated: HashMap<&str, HashMap<(String, String), usize>> = HashMap::new();
    for (r, run) in lockfile.runs.iter().enumerate() {
        let at = format!("/runs/{r}");
        if run.run == 0 {
            problems.push(Problem::at(
                ProblemKind::Runs,
                format!("{at}/run"),
                "`run` is 0; plans count runs from 1",
            ));
        }
        let digest = run.intent_digest.as_str();
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            problems.push(Problem::at(
                ProblemKind::Runs,
                format!("{at}/intentDigest"),
                "`intentDigest` is not a SHA-256 digest (64 lowercase hex digits)",
            ));
        }
        if let Some(&first) = first_of.get(digest) {
            let earlier = &lockfile.runs[first];
            if earlier.run != run.run {
                problems.push(Problem::at(
                    ProblemKind::Runs,
                    format!("{at}/run"),
                    format!(
                        "run {} has the intent digest of run {} (`/runs/{first}`), but the digest covers `run`",
                        run.run, earlier.run
                    ),
                ));
            }
        }
        let again = activated.get(digest).and_then(|pairs| {
            run.jobs
                .iter()
                .flat_map(JobRecord::requested_pairs)
                .find_map(|pair| pairs.get(&pair).map(|&prior| (pair, prior)))
        });
        if let Some(((dest, segment), prior)) = again {
            problems.push(Problem::at(
                ProblemKind::Runs,
                format!("{at}/intentDigest"),
                format!(
                    "run {} of this intent requested segment `{segment}` to `{dest}` again after `/runs/{prior}` may already have activated it: it may have been activated twice",
                    run.run
                ),
            ));
        }
        first_of.entry(digest).or_insert(r);
        let pairs = activated.entry(digest).or_default();
        for job in run.jobs.iter().filter(|j| j.maybe_activated()) {
            for pair in job.requested_pairs() {
                pairs.entry(pair).or_insert(r);
            }
        }

        if run.jobs.is_empty() {
            problems.push(Problem::at(
                ProblemKind::Runs,
                format!("{at}/jobs"),
                "a run has at least one job",
            ));
        }
        if redact_endpoint(&run.endpoint) != run.endpoint {
            problems.push(Problem::at(
                ProblemKind::Endpoint,
                format!("{at}/endpoint"),
                "`endpoint` carries user info, a query or a fragment: aepact records the bare base URL (remove any credentials from the file and from git history)",
            ));
        }
        match (run.exports.spec, run.exports.resolved.is_empty()) {
            (ExportsSpec::Omitted, false) => problems.push(Problem::at(
                ProblemKind::Exports,
                format!("{at}/exports/resolved"),
                "`exports.spec` is `omitted`, so no export IDs were sent",
            )),
            (ExportsSpec::Latest | ExportsSpec::Ids, true) => problems.push(Problem::at(
                ProblemKind::Exports,
                format!("{at}/exports/resolved"),
                format!(
                    "`exports.spec` is `{}`, so the IDs it resolved to are recorded",
                    spec_name(run.exports.spec)
                ),
            )),
            _ => {}
        }
        if run.exports.spec == ExportsSpec::Omitted && run.api_version == AdhocApiVersion::V1 {
            problems.push(Problem::at(
                ProblemKind::Exports,
                format!("{at}/exports/spec"),
                "ad-hoc API version 1 requires export IDs; only version 2 may omit them",
            ));
        }
        for (j, job) in run.jobs.iter().enumerate() {
            let at = format!("{at}/jobs/{j}");
            let expected = (run.exports.spec != ExportsSpec::Omitted)
                .then_some(run.exports.resolved.as_slice());
            problems.extend(request_problems(&at, &job.request, expected));
            if job.status == JobStatus::Submitted && job.orders.is_empty() {
                problems.push(Problem::at(
                    ProblemKind::Orders,
                    format!("{at}/orders"),
                    "a `submitted` job records the orders the platform returned; there are none",
                ));
            }
            let pairs: BTreeSet<(String, String)> = job.requested_pairs().into_iter().collect();
            let mut seen = BTreeSet::new();
            for (o, order) in job.orders.iter().enumerate() {
                let pair = (order.order.clone(), order.segment.clone());
                if !pairs.contains(&pair) {
                    problems.push(Problem::at(
                        ProblemKind::Orders,
                        format!("{at}/orders/{o}"),
                        format!(
                            "segment `{}` to `{}` is not in the job's request",
                            order.segment, order.order
                        ),
                    ));
                }
                if !seen.insert(pair) {
                    problems.push(Problem::at(
                        ProblemKind::Orders,
                        format!("{at}/orders/{o}"),
                        format!(
                            "segment `{}` to `{}` is recorded twice in this job",
                            order.segment, order.order
                        ),
                    ));
                }
            }
        }
    }
    problems
}

fn spec_name(spec: ExportsSpec) -> &'static str {
    match spec {
        ExportsSpec::Latest => "latest",
        ExportsSpec::Ids => "ids",
        ExportsSpec::Omitted => "omitted",
    }
}

/// Whether a recorded request is an ad-hoc body as aepact builds it:
/// `{"activationInfo": {destination: [segment, ...]}, "exportIds": [...]}`, with `exportIds`
/// the run's resolved IDs (absent when the plan omitted exports).
fn request_problems(
    job: &str,
    request: &AdhocRequest,
    export_ids: Option<&[String]>,
) -> Vec<Problem> {
    let at = format!("{job}/request");
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| {
        problems.push(Problem::at(ProblemKind::Request, pointer, message));
    };
    // The shape (an object with `activationInfo` and maybe `exportIds`, nothing else) is the
    // format's: a request of another shape does not parse. What is left is its content.
    if request.activation_info.is_empty() {
        bad(
            format!("{at}/activationInfo"),
            "`activationInfo` names no destination".into(),
        );
    }
    for (dest, segments) in &request.activation_info {
        let here = format!("{at}/activationInfo/{}", escape(dest));
        if dest.trim().is_empty() {
            bad(here.clone(), "a destination ID is empty".into());
        }
        if segments.is_empty() {
            bad(here, "a destination's segments are a non-empty list".into());
            continue;
        }
        let mut seen = BTreeSet::new();
        for (i, segment) in segments.iter().enumerate() {
            if segment.trim().is_empty() {
                bad(
                    format!("{here}/{i}"),
                    "a segment ID is a non-empty string".into(),
                );
            } else if !seen.insert(segment) {
                bad(
                    format!("{here}/{i}"),
                    format!("segment `{segment}` is listed twice"),
                );
            }
        }
    }
    match (export_ids, &request.export_ids) {
        (None, Some(_)) => bad(
            format!("{at}/exportIds"),
            "the run omitted exports, but the request has `exportIds`".into(),
        ),
        (Some(_), None) => bad(
            format!("{at}/exportIds"),
            "the request has no `exportIds`, but the run resolved export IDs".into(),
        ),
        (Some(expected), Some(sent)) if sent.as_slice() != expected => {
            bad(
                format!("{at}/exportIds"),
                format!(
                    "`exportIds` are not the run's `exports.resolved` ({})",
                    expected.join(", ")
                ),
            );
        }
        _ => {}
    }
    problems
}

/// A JSON-pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use std::fs;

    use miette::Diagnostic;
    use serde_json::json;

    use super::*;
    use crate::lockfile::{ExportsRecord, NewRun, Timestamp};
    use crate::plan::model::Exports;

    /// A lockfile of plan `black-friday-flash-sale` (the example's name) with one run never sent,
    /// whose digest is right.
    fn sound() -> Lockfile {
        let mut lock = Lockfile::new("black-friday-flash-sale");
        lock.append_run(NewRun {
            run: 1,
            intent_digest: String::new(),
            applied_at: Timestamp::from_unix_ms(0).unwrap(),
            applied_by: None,
            endpoint: "https://platform.adobe.io".into(),
            org: "ORG@AdobeOrg".into(),
            sandbox: "prod".into(),
            api_version: AdhocApiVersion::V1,
            exports: ExportsRecord::new(&Exports::Latest, vec!["1".into()]),
            requests: vec![
                serde_json::from_value(json!({"activationInfo": {"d": ["s"]}, "exportIds": ["1"]}))
                    .unwrap(),
            ],
            override_: None,
        });
        lock.runs[0].intent_digest = lock.runs[0].recorded_digest();
        lock
    }

    /// The kinds no lockfile error mirrors.
    const VERIFY_ONLY: [ProblemKind; 5] = [
        ProblemKind::Runs,
        ProblemKind::Request,
        ProblemKind::Orders,
        ProblemKind::Exports,
        ProblemKind::Endpoint,
    ];

    /// Each kind that mirrors an error, a lockfile (or path) with that problem, and how `apply`,
    /// `status` or `plan` refuse it; the refusal's code is `aepact::lockfile::<kind>` and
    /// `lock verify` reports the problem under that kind.
    #[test]
    fn kinds_that_mirror_an_error_are_named_as_its_code() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("x.yaml");
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flash-sale.yaml");
        fs::copy(example, &plan).unwrap();
        let lock = dir.path().join("x.lock.json");
        let good = sound().to_json();
        let load = |p: &Path| Lockfile::load(p).unwrap_err();
        let loaded = |p: &Path| Lockfile::load(p).unwrap().unwrap();
        type Refusal = Box<dyn Fn(&Path) -> LockfileError>;
        let cases: Vec<(ProblemKind, Option<Vec<u8>>, Refusal)> = vec![
            (ProblemKind::Read, None, Box::new(load)),
            (ProblemKind::Syntax, Some(b"{".to_vec()), Box::new(load)),
            // Not UTF-8.
            (
                ProblemKind::Syntax,
                Some(b"{\"plan\": \"\xff\"}".to_vec()),
                Box::new(load),
            ),
            (
                ProblemKind::MergeConflict,
                Some(format!("<<<<<<< HEAD\n{good}").into_bytes()),
                Box::new(load),
            ),
            (ProblemKind::Invalid, Some(b"[]".to_vec()), Box::new(load)),
            (
                ProblemKind::Version,
                Some(
                    good.replacen("\"lockfileVersion\": 3", "\"lockfileVersion\": 9", 1)
                        .into_bytes(),
                ),
                Box::new(load),
            ),
            (
                ProblemKind::Inconsistent,
                Some(
                    good.replacen("\"pending\"", "\"submitted\"", 1)
                        .into_bytes(),
                ),
                Box::new(load),
            ),
            (
                ProblemKind::DigestMismatch,
                Some(good.replacen("\"sha256:", "\"sha256:0", 1).into_bytes()),
                Box::new(move |p: &Path| loaded(p).check_digests(p).unwrap_err()),
            ),
            (
                ProblemKind::WrongPlan,
                Some(
                    good.replacen("black-friday-flash-sale", "another-plan", 1)
                        .into_bytes(),
                ),
                Box::new(move |p: &Path| {
                    loaded(p)
                        .check_plan("black-friday-flash-sale", p)
                        .unwrap_err()
                }),
            ),
        ];
        let covered: BTreeSet<ProblemKind> = cases.iter().map(|(kind, ..)| *kind).collect();
        let mirrored: BTreeSet<ProblemKind> = ProblemKind::ALL
            .into_iter()
            .filter(|k| !VERIFY_ONLY.contains(k))
            .collect();
        assert_eq!(
            covered, mirrored,
            "a case for every kind that mirrors an error"
        );
        for (kind, text, refusal) in cases {
            // `Read`: a directory where the lockfile should be.
            let path = match &text {
                Some(text) => {
                    fs::write(&lock, text).unwrap();
                    lock.clone()
                }
                None => dir.path().to_owned(),
            };
            let code = refusal(&path).code().unwrap().to_string();
            assert_eq!(code, format!("aepact::lockfile::{}", kind.as_str()));
            let report = verify_file(&path);
            assert!(
                report.problems.iter().any(|p| p.kind == kind),
                "{kind:?}: {:?}",
                report.problems
            );
        }
        fs::write(&lock, &good).unwrap();
        assert_eq!(
            verify_file(&lock).problems,
            [],
            "the sound lockfile is sound"
        );
    }

    /// The lockfile's error codes, from the registry of every code aepact prints (itself checked
    /// against the source): every kind that mirrors an error is one, and no other kind is.
    #[test]
    fn kinds_of_verify_only_checks_are_no_error_code() {
        let codes: BTreeSet<&str> = crate::codes::ERRORS
            .iter()
            .filter_map(|(code, _)| code.strip_prefix("aepact::lockfile::"))
            .collect();
        assert!(codes.len() > 10, "{codes:?}");
        for kind in ProblemKind::ALL {
            assert_eq!(
                codes.contains(kind.as_str()),
                !VERIFY_ONLY.contains(&kind),
                "{kind:?}"
            );
        }
        let names: BTreeSet<&str> = ProblemKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ProblemKind::ALL.len(), "kinds are unique");
    }
}
