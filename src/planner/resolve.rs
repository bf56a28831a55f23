//! Online resolution of checked plans: fetch what the decision needs, then decide each plan.
//!
//! Requests grow with the sandboxes and dataflows, not with the plans or orders: one export
//! job listing per sandbox, one dataflow lookup and one run listing per (sandbox, dataflow),
//! all concurrently; then only the explicit export IDs a listing lacked, and the recorded runs
//! still marked going that the run listings did not cover. Lockfiles are read (never written)
//! and refused when damaged, recorded for another target, or with digests that do not match.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::decide::{self, DEFAULT_GUARD_WINDOW, Facts, Rules};
use super::model::{PlanSet, SAVED_PLAN_VERSION};
use super::witness::Witness;
use crate::api::{ApiError, Client, ExportJob, Flow, UtcDate};
use crate::lockfile::{self, Lockfile};
use crate::plan::Plan;
use crate::plan::model::Exports;
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
    let mut since = crate::time::now_ms()
        - LOOKBACK_MS.max(i64::try_from(longest_window.as_millis()).unwrap_or(i64::MAX))
        - CLOCK_MARGIN_MS;
    if let Some(reviewed) = rules.reviewed {
        since = since.min(reviewed.runs_read.since);
    }

    let (mut exports, flows, witness) = fetch(client, &sandboxes, &flows_wanted, since).await?;
    fetch_named_exports(client, plans, &sandboxes, &mut exports).await?;
    let straggling = straggling_runs(client, plans, &sandboxes, &lockfiles, &witness).await?;
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
        api_version: version.number(),
        max_segments_per_job: rules.options.segment_limit(),
        split: rules.options.split,
        runs_read: witness.read,
        plans: planned,
    })
}

type Fetched = (
    HashMap<String, Vec<ExportJob>>,
    HashMap<(String, String), Option<Flow>>,
    Witness,
);

/// One export listing per sandbox, one flow per (sandbox, dataflow), and the runs of every
/// dataflow since `since`: all at once.
async fn fetch(
    client: &Arc<Client>,
    sandboxes: &[String],
    flows_wanted: &BTreeSet<(String, String)>,
    since: i64,
) -> Result<Fetched, ApiError> {
    enum Got {
        Exports(String, Result<Vec<ExportJob>, ApiError>),
        Flow(String, String, Result<Option<Flow>, ApiError>),
    }
    let mut tasks = JoinSet::new();
    for sandbox in sandboxes.iter().collect::<BTreeSet<_>>() {
        let (client, sandbox) = (client.clone(), sandbox.clone());
        tasks.spawn(async move {
            let jobs = client.list_export_jobs(&sandbox).await;
            Got::Exports(sandbox, jobs)
        });
    }
    for (sandbox, dest) in flows_wanted {
        let (client, sandbox, dest) = (client.clone(), sandbox.clone(), dest.clone());
        tasks.spawn(async move {
            let flow = client.get_flow(&sandbox, &dest).await;
            Got::Flow(sandbox, dest, flow)
        });
    }
    let witness = Witness::read(client, flows_wanted, since);
    let collect = async {
        let mut exports = HashMap::new();
        let mut flows = HashMap::new();
        while let Some(done) = tasks.join_next().await {
            match done.expect("invariant: planning tasks do not panic") {
                Got::Exports(sandbox, jobs) => {
                    exports.insert(sandbox, jobs?);
                }
                Got::Flow(sandbox, dest, flow) => {
                    flows.insert((sandbox, dest), flow?);
                }
            }
        }
        Ok::<_, ApiError>((exports, flows))
    };
    let (listed, witness) = tokio::join!(collect, witness);
    let (exports, flows) = listed?;
    Ok((exports, flows, witness?))
}

/// Export jobs a plan names that its sandbox's listing lacked (an older job on a later page
/// the platform did not return), looked up one by one.
async fn fetch_named_exports(
    client: &Arc<Client>,
    plans: &[Plan],
    sandboxes: &[String],
    exports: &mut HashMap<String, Vec<ExportJob>>,
) -> Result<(), ApiError> {
    let mut wanted: BTreeSet<(String, u64)> = BTreeSet::new();
    for (plan, sandbox) in plans.iter().zip(sandboxes) {
        let Exports::Ids(ids) = &plan.exports else {
            continue;
        };
        let listed = exports.get(sandbox).map(Vec::as_slice).unwrap_or_default();
        for id in ids {
            // Beyond any integer ID the platform hands out: it does not exist.
            let Ok(n) = id.parse::<u64>() else { continue };
            if !listed.iter().any(|j| j.id == n) {
                wanted.insert((sandbox.clone(), n));
            }
        }
    }
    for (sandbox, id) in wanted {
        if let Some(job) = client.get_export_job(&sandbox, id).await? {
            exports.entry(sandbox).or_default().push(job);
        }
    }
    Ok(())
}

/// Recorded orders not final whose run the witness did not list (older than its window),
/// looked up by ID: (sandbox, segment) → run ID of those the platform still reports going.
/// Every lockfile of the invocation counts, not only the plan's own: `apply a.yaml b.yaml`
/// must not send `b` into a run of `a` still going on a shared segment.
async fn straggling_runs(
    client: &Arc<Client>,
    plans: &[Plan],
    sandboxes: &[String],
    lockfiles: &[Option<Lockfile>],
    witness: &Witness,
) -> Result<BTreeMap<(String, String), String>, ApiError> {
    let wanted: BTreeSet<(&str, &str)> = plans
        .iter()
        .zip(sandboxes)
        .flat_map(|(p, sandbox)| {
            p.destinations
                .iter()
                .flat_map(|d| &d.segments)
                .map(move |s| (sandbox.as_str(), s.id.as_str()))
        })
        .collect();
    let mut tasks = JoinSet::new();
    let mut asked = BTreeSet::new();
    for lockfile in lockfiles.iter().flatten() {
        for at in lockfile.non_final_orders() {
            let Some(order) = lockfile.order(at) else {
                continue;
            };
            let sandbox = lockfile.runs[at.run].sandbox.clone();
            if !wanted.contains(&(sandbox.as_str(), order.segment.as_str())) {
                continue;
            }
            if order
                .run_id
                .as_deref()
                .is_some_and(|id| witness.knows(&sandbox, id))
            {
                continue;
            }
            // One lookup per recorded run, however many plans share it.
            if !asked.insert((sandbox.clone(), order.status_url.clone())) {
                continue;
            }
            let (client, url, run_id, segment) = (
                client.clone(),
                order.status_url.clone(),
                order.run_id.clone(),
                order.segment.clone(),
            );
            tasks.spawn(async move {
                let run = match run_id {
                    Some(id) => client.get_run_by_id(&sandbox, &id).await,
                    None => client.get_run(&sandbox, &url).await,
                };
                (sandbox, segment, run)
            });
        }
    }
    let mut found = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sandbox, segment, run) = done.expect("invariant: status tasks do not panic");
        if let Some(run) = run?
            && !run.is_final()
        {
            found.insert((sandbox, segment), run.id.clone());
        }
    }
    Ok(found)
}

/// `sha256:<hex>` of a file, or `None` when it does not exist.
pub fn digest_of(path: &Path) -> Result<Option<String>, lockfile::LockfileError> {
    if !path.exists() {
        return Ok(None);
    }
    lockfile::file_digest(path).map(Some)
}
