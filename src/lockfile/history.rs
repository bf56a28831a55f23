//! The activation history that `aepact log` prints: every (run, job, destination, segment) a
//! lockfile records, as one [`Entry`], from the lockfiles alone (no platform call, no
//! credentials). Kept beside the format because it only reads what the format holds.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::format::{JobStatus, Lockfile};
use crate::time::Timestamp;

/// One delivery (or attempt) of one segment to one destination, as a lockfile records it.
///
/// Field order is the key order of `log --format json` and the column order of
/// `--format csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When the apply started (the run's `appliedAt`).
    pub at: Timestamp,
    /// The plan's `name`.
    pub plan: String,
    /// The lockfile it comes from, as found.
    pub lockfile: String,
    /// The plan's `run` number of the activation.
    pub run: u64,
    /// Where it went: the platform (`endpoint`, `emulator` for the built-in emulator), the
    /// organisation and the sandbox.
    pub endpoint: String,
    pub org: String,
    pub sandbox: String,
    /// Who applied it (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN` or `USER` at apply time), if known.
    pub applied_by: Option<String>,
    /// The destination dataflow ID.
    pub destination: String,
    /// The segment (audience) ID.
    pub segment: String,
    /// The order's latest status (`success`, `failed`, `partialSuccess`, `inProgress`, `lost`,
    /// ...) when the platform returned an order; else the job's: `rejected`, `pending` or
    /// `unknown`.
    pub outcome: String,
    /// Records exported for the segment (its own count when the run reports one, else the
    /// run's), once reported.
    pub records: Option<u64>,
    /// Records that failed, once reported.
    pub failed_records: Option<u64>,
    /// The platform's flow run, when known.
    pub run_id: Option<String>,
    /// When the run finished, when known.
    pub finished_at: Option<Timestamp>,
}

/// Every entry of `lockfile` (read from `path`), in lockfile order: per run, per job, its orders,
/// or for a job without orders (rejected, pending, unknown) each pair it requested.
pub fn entries(lockfile: &Lockfile, path: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for run in &lockfile.runs {
        let entry = |destination: &str, segment: &str, outcome: String| Entry {
            at: run.applied_at,
            plan: lockfile.plan.clone(),
            lockfile: path.display().to_string(),
            run: run.run,
            endpoint: run.endpoint.clone(),
            org: run.org.clone(),
            sandbox: run.sandbox.clone(),
            applied_by: run.applied_by.clone(),
            destination: destination.to_owned(),
            segment: segment.to_owned(),
            outcome,
            records: None,
            failed_records: None,
            run_id: None,
            finished_at: None,
        };
        for job in &run.jobs {
            if job.status == JobStatus::Submitted {
                for order in &job.orders {
                    let metrics = order.metrics;
                    out.push(Entry {
                        records: metrics.and_then(|m| m.segment_exported()),
                        failed_records: metrics.and_then(|m| {
                            m.segment
                                .and_then(|s| s.failed_records)
                                .or(m.failed_records)
                        }),
                        run_id: order.run_id.clone(),
                        finished_at: order.finished_at,
                        ..entry(&order.order, &order.segment, order.status.to_string())
                    });
                }
            } else {
                for (destination, segment) in job.requested_pairs() {
                    out.push(entry(&destination, &segment, job.status.to_string()));
                }
            }
        }
    }
    out
}

/// The lockfiles named by `paths`: a `*.lock.json` as given, a plan file (`*.yaml`, `*.yml`)
/// for its lockfile beside it (when it has one), a directory for every `*.lock.json` below it
/// (hidden directories skipped, links not followed), in name order, each once.
///
/// Returns the lockfiles, and the paths that do not exist.
pub fn find_lockfiles(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(_) if std::fs::symlink_metadata(path).is_err() => missing.push(path.clone()),
            Ok(meta) if meta.is_dir() => walk(path, &mut found),
            _ => {
                let name = path.to_string_lossy();
                if name.ends_with(".yaml") || name.ends_with(".yml") {
                    let lock = super::lockfile_path(path);
                    if lock.exists() {
                        found.push(lock);
                    }
                } else {
                    found.push(path.clone());
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|p| seen.insert(p.clone()));
    (found, missing)
}

/// Every `*.lock.json` below `dir`, in name order.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(std::result::Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // `file_type` does not follow symbolic links: a link loop cannot trap the walk.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&entry.path(), found);
            }
        } else if kind.is_file() && name.ends_with(".lock.json") {
            found.push(entry.path());
        }
    }
}
