//! Online resolution of checked plans: fetch what the decision needs, then decide each plan.
//!
//! Requests grow with the sandboxes and dataflows, not with the plans or orders: one export
//! job listing per sandbox, one dataflow lookup and one run listing per (sandbox, dataflow),
//! all concurrently; then only the explicit export IDs a listing lacked, the recorded runs
//! still marked going that the run listings did not cover, and the Segmentation API's names of
//! segments whose dataflow selectors have none. Lockfiles are read (never written)
//! and refused when damaged, recorded for another target, or with digests that do not match.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::decide::{self, DEFAULT_GUARD_WINDOW, Facts, Rules};
use super::model::{PlanSet, SAVED_PLAN_VERSION};
use crate::api::{ApiError, Client, UtcDate};
use crate::lockfile::{self, Lockfile};
use crate::plan::Plan;
use crate::plan::request::{effective_sandbox, intent_digest};
use crate::target::Target;

/// How far back the platform's runs are read at least: last night's scheduled runs are the
/// deliveries a reviewer wants to see, whatever the guard window.
const LOOKBACK_MS: i64 = 24 * 3600 * 1000;
/// Extra margin for the clock difference between this machine and the platform.
const CLOCK_MARGIN_MS: i64 = 5 * 60 * 1000;

/// Errors that stop planning altogether (the platform cannot be asked, a lockfile is refused).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ResolveError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lockfile(#[from] lockfile::LockfileError),
}

impl From<ResolveError> for crate::error::Error {
    fn from(err: ResolveError) -> Self {
        match err {
            ResolveError::Api(e) => crate::error::Error::Api(e),
            ResolveError::Lockfile(e) => crate::error::Error::Lockfile(e),
        }
    }
}

/// Resolves `plans` against the platform behind `client` and decides each one.
///
/// Returns every plan with its verdict, in the order given.
pub async fn resolve(
    client: &Arc<Client>,
    target: &Target,
    plans: &[Plan],
    rules: &Rules<'_>,
) -> Result<PlanSet, ResolveError> {
    let version = rules.options.api_version;
    let default_sandbox = client.config().sandbox.clone();
    let sandboxes: Vec<String> = plans
        .iter()
        .map(|p| effective_sandbox(p, default_sandbox.as_deref()).to_owned())
        .collect();

    // Lockfiles first: a refused one stops everything before any request.
    let mut lockfiles = Vec::with_capacity(plans.len());
    let mut lockfile_paths = Vec::with_capacity(plans.len());
    for plan in plans {
        let path = target.lockfile_for(&plan.file);
        let lockfile = Lockfile::load(&path)?;
        if let Some(lockfile) = &lockfile {
            lockfile.check_plan(&plan.name, &path)?;
            lockfile.check_target(&target.endpoint, &target.org, &path)?;
            lockfile.check_digests(&path)?;
        }
        lockfiles.push(lockfile);
        lockfile_paths.push(path);
    }

    let flows_wanted: BTreeSet<(String, String)> = plans
        .iter()
        .zip(&sandboxes)
        .flat_map(|(p, sandbox)| {
            p.destinations
                .iter()
                .map(move |d| (sandbox.clone(), d.id.clone()))
        })
        .collect();
    let longest_window = plans
        .iter()
        .map(|p| {
            rules
                .guard_window
                .or(p.guard_window)
                .unwrap_or(DEFAULT_GUARD_WINDOW)
        })
        .max()
        .unwrap_or(DEFAULT_GUARD_WINDOW);
    // A policy's `minInterval` looks back as far as it says.
    let longest_window = plans
        .iter()
        .zip(&sandboxes)
        .filter_map(|(p, sandbox)| p.policy.as_ref()?.rules_for(sandbox)?.min_interval)
        .fold(longest_window, std::cmp::Ord::max);
    let mut since = crate::time::now_ms()
        - LOOKBACK_MS.max(i64::try_from(longest_window.as_millis()).unwrap_or(i64::MAX))
        - CLOCK_MARGIN_MS;
    if let Some(reviewed) = rules.reviewed {
        since = since.min(reviewed.runs_read.since);
    }

    // One export listing per sandbox, one flow and one run listing per (sandbox, dataflow):
    // all at once.
    let distinct: BTreeSet<String> = sandboxes.iter().cloned().collect();
    let (exports, flows, witness) = tokio::join!(
        exports::list(client, &distinct),
        flows::get(client, &flows_wanted),
        Witness::read(client, &flows_wanted, since),
    );
    let (mut exports, flows, witness) = (exports?, flows?, witness?);
    let (named, straggling, segment_names) = tokio::join!(
        exports::fetch_named(client, plans, &sandboxes, &mut exports),
        runs::straggling(client, plans, &sandboxes, &lockfiles, &witness),
        flows::segment_names(client, plans, &sandboxes, &flows),
    );
    let (straggling, segment_names) = (straggling?, segment_names?);
    named?;
    let no_names = HashMap::new();
    let mut recorded_elsewhere: HashMap<String, String> = HashMap::new();
    for lockfile in lockfiles.iter().flatten() {
        for id in lockfile.recorded_run_ids() {
            recorded_elsewhere
                .entry(id.to_owned())
                .or_insert_with(|| lockfile.plan.clone());
        }
    }

    let today = UtcDate::today();
    let mut planned = Vec::with_capacity(plans.len());
    for (i, plan) in plans.iter().enumerate() {
        let sandbox = sandboxes[i].as_str();
        let lock_path = &lockfile_paths[i];
        let facts = Facts {
            plan,
            sandbox,
            intent_digest: intent_digest(plan, sandbox, version),
            plan_digest: digest_of(Path::new(&*plan.path))?.unwrap_or_default(),
            lockfile_path: lock_path.display().to_string(),
            lockfile_digest: digest_of(lock_path)?,
            lockfile: lockfiles[i].as_ref(),
            export_jobs: exports.get(sandbox).map(Vec::as_slice).unwrap_or_default(),
            flows: plan
                .destinations
                .iter()
                .map(|d| {
                    flows
                        .get(&(sandbox.to_owned(), d.id.clone()))
                        .and_then(Option::as_ref)
                })
                .collect(),
            segment_names: segment_names.get(sandbox).unwrap_or(&no_names),
            witness: &witness,
            recorded_elsewhere: &recorded_elsewhere,
            straggling: &straggling,
            today,
        };
        planned.push(decide::plan(&facts, rules));
    }
    decide::order_across(&mut planned);

    Ok(PlanSet {
        aepact_plan_version: SAVED_PLAN_VERSION,
        aepact_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: crate::time::rfc3339(crate::time::now_ms()),
        endpoint: target.endpoint.clone(),
        org: target.org.clone(),
        api_version: version,
        max_segments_per_job: rules.options.segment_limit(),
        split: rules.options.split,
        runs_read: witness.read,
        plans: planned,
    })
}

mod exports;
mod flows;
pub mod runs;

pub use runs::Witness;

/// `sha256:<hex>` of a file, or `None` when it does not exist.
pub fn digest_of(path: &Path) -> Result<Option<String>, lockfile::LockfileError> {
    if !path.exists() {
        return Ok(None);
    }
    lockfile::file_digest(path).map(Some)
}
