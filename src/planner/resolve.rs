//! Online resolution of checked plans: one export-jobs listing per sandbox and one dataflow
//! lookup per distinct destination, concurrently; then per plan: the export IDs, the dataflow
//! checks, runs still in flight, the request bodies and the comparison with the lockfile.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::model::{
    ChangeRecord, DestinationInfo, LastApplied, PlanSet, PlannedPlan, Refusal, ResolvedExports,
    SAVED_PLAN_VERSION, Verdict,
};
use crate::api::{ApiError, Client, ExportJob, Flow, Mapping, UtcDate};
use crate::diff;
use crate::lockfile::{self, Lockfile};
use crate::plan::model::Exports;
use crate::plan::request::{effective_sandbox, intent_digest, request_body};
use crate::plan::{CheckOptions, Plan};

/// What resolving found: the plans that can be planned, and why the others cannot.
#[derive(Debug)]
pub struct Resolution {
    pub set: PlanSet,
    pub refusals: Vec<Refusal>,
}

/// Errors that stop planning altogether (the platform cannot be asked, a lockfile is corrupt).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ResolveError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lockfile(#[from] lockfile::LockfileError),
}

/// Resolves `plans` against the platform behind `client`.
pub async fn resolve(
    client: &Arc<Client>,
    plans: &[Plan],
    options: &CheckOptions,
) -> Result<Resolution, ResolveError> {
    let version = options.api_version;
    let default_sandbox = client.config().sandbox.clone();
    let sandbox_of = |plan: &Plan| effective_sandbox(plan, default_sandbox.as_deref()).to_owned();

    // One export listing per sandbox, one flow per (sandbox, destination): all at once.
    let sandboxes: BTreeSet<String> = plans.iter().map(sandbox_of).collect();
    let destinations: BTreeSet<(String, String)> = plans
        .iter()
        .flat_map(|p| {
            let sandbox = sandbox_of(p);
            p.destinations
                .iter()
                .map(move |d| (sandbox.clone(), d.id.clone()))
        })
        .collect();
    let mut tasks = JoinSet::new();
    for sandbox in &sandboxes {
        let (client, sandbox) = (client.clone(), sandbox.clone());
        tasks.spawn(async move {
            let jobs = client.list_export_jobs(&sandbox).await;
            Fetched::Exports(sandbox, jobs)
        });
    }
    for (sandbox, dest) in &destinations {
        let (client, sandbox, dest) = (client.clone(), sandbox.clone(), dest.clone());
        tasks.spawn(async move {
            let flow = client.get_flow(&sandbox, &dest).await;
            Fetched::Flow(sandbox, dest, flow)
        });
    }
    let mut exports: HashMap<String, Vec<ExportJob>> = HashMap::new();
    let mut flows: HashMap<(String, String), Option<Flow>> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        match done.expect("invariant: planning tasks do not panic") {
            Fetched::Exports(sandbox, jobs) => {
                exports.insert(sandbox, jobs?);
            }
            Fetched::Flow(sandbox, dest, flow) => {
                flows.insert((sandbox, dest), flow?);
            }
        }
    }

    // Lockfiles, and the status of runs they record as still going.
    let mut lockfiles = Vec::with_capacity(plans.len());
    for plan in plans {
        let path = lockfile::lockfile_path(Path::new(&*plan.path));
        let lockfile = Lockfile::load(&path)?;
        if let Some(lockfile) = &lockfile {
            lockfile.check_plan(&plan.name, &path)?;
        }
        lockfiles.push(lockfile);
    }
    let plan_sandboxes: Vec<String> = plans.iter().map(sandbox_of).collect();
    let in_flight = runs_in_flight(client, plans, &plan_sandboxes, &lockfiles).await?;

    let today = UtcDate::today();
    let mut refusals = Vec::new();
    let mut planned = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let sandbox = sandbox_of(plan);
        let refuse = |message: String, help: &str, temporary: bool| Refusal {
            path: plan.path.clone(),
            plan: plan.name.clone(),
            message,
            help: help.to_owned(),
            temporary,
        };
        let before = refusals.len();
        let jobs_here = exports.get(&sandbox).map(Vec::as_slice).unwrap_or_default();
        let lockfile = lockfiles[i].as_ref();
        let intent = intent_digest(plan, &sandbox, version);
        // Nothing will be sent for an applied intent: what would only delay a send (an export
        // job running, runs in flight) does not refuse it.
        let applied = lockfile.and_then(|l| l.already_applied(&intent));

        if let Some(running) = jobs_here
            .iter()
            .find(|j| j.is_running())
            .filter(|_| applied.is_none())
        {
            refusals.push(refuse(
                format!(
                    "segment export job {} is {} in sandbox `{sandbox}`; ad-hoc jobs cannot run beside it",
                    running.id,
                    running.status.as_str()
                ),
                "wait for the scheduled export to finish, then plan again",
                true,
            ));
        }
        let resolved = match &plan.exports {
            Exports::Latest => match ExportJob::latest_succeeded_profile(jobs_here) {
                Some(job) => Some(ResolvedExports {
                    spec: "latest".into(),
                    ids: vec![job.id.to_string()],
                    finished_at: job.finished_at(),
                }),
                None => {
                    refusals.push(refuse(
                        format!("sandbox `{sandbox}` has no profile export job (`_xdm.context.profile`) that succeeded"),
                        "run a segment export job first, or list export job IDs in `exports`",
                        false,
                    ));
                    None
                }
            },
            Exports::Ids(ids) => {
                for id in ids {
                    let found = match jobs_here.iter().find(|j| j.id.to_string() == *id) {
                        Some(job) => Some(job.clone()),
                        None => match id.parse::<u64>() {
                            Ok(n) => client.get_export_job(&sandbox, n).await?,
                            // Beyond any integer ID the platform hands out.
                            Err(_) => None,
                        },
                    };
                    match found {
                        None => refusals.push(refuse(
                            format!("export job {id} does not exist in sandbox `{sandbox}`"),
                            "check the ID in `exports`, or use `exports: latest`",
                            false,
                        )),
                        Some(job) if !job.succeeded() => refusals.push(refuse(
                            format!("export job {id} is {}, not SUCCEEDED", job.status.as_str()),
                            "activate from an export job that succeeded",
                            job.is_running(),
                        )),
                        Some(_) => {}
                    }
                }
                Some(ResolvedExports {
                    spec: "ids".into(),
                    ids: ids.clone(),
                    finished_at: None,
                })
            }
            Exports::Omitted => Some(ResolvedExports {
                spec: "omitted".into(),
                ids: Vec::new(),
                finished_at: None,
            }),
        };

        let mut infos = Vec::new();
        for dest in &plan.destinations {
            let flow = flows
                .get(&(sandbox.clone(), dest.id.clone()))
                .and_then(Option::as_ref);
            let Some(flow) = flow else {
                refusals.push(refuse(
                    format!("destination `{}` is not a dataflow in sandbox `{sandbox}`", dest.id),
                    "use the activation dataflow's ID (Destinations > Browse, the right rail), and check the sandbox",
                    false,
                ));
                continue;
            };
            if !flow.is_enabled_destination() {
                refusals.push(refuse(
                    format!(
                        "dataflow `{}` (\"{}\") is not an enabled destination dataflow",
                        dest.id,
                        flow.name()
                    ),
                    "enable the dataflow in the Platform UI, or use a destination dataflow's ID",
                    false,
                ));
            }
            let mut unmapped = Vec::new();
            let mut out_of_schedule = Vec::new();
            for segment in &dest.segments {
                match flow.mapping(&segment.id, today) {
                    Mapping::Covered(_) => {}
                    Mapping::OutOfSchedule(_) => out_of_schedule.push(segment.id.as_str()),
                    Mapping::NotMapped => unmapped.push(segment.id.as_str()),
                }
            }
            if !unmapped.is_empty() {
                refusals.push(refuse(
                    format!(
                        "dataflow `{}` (\"{}\") does not map {}: {}",
                        dest.id,
                        flow.name(),
                        crate::output::plural(unmapped.len(), "segment", "segments"),
                        unmapped.join(", ")
                    ),
                    "add the segments to the dataflow in the Platform UI first (step 3 of the platform's workflow), or remove them from the plan",
                    false,
                ));
            }
            if !out_of_schedule.is_empty() {
                refusals.push(refuse(
                    format!(
                        "in dataflow `{}` the schedule of {} does not cover today ({today}): {}",
                        dest.id,
                        crate::output::plural(out_of_schedule.len(), "segment", "segments"),
                        out_of_schedule.join(", ")
                    ),
                    "extend the segments' schedule in the dataflow, or remove them from the plan",
                    false,
                ));
            }
            infos.push(DestinationInfo {
                id: dest.id.clone(),
                label: dest.name.clone(),
                platform_name: Some(flow.name().to_owned()),
                segments: dest.segments.len(),
            });
        }

        if let Some(lockfile) = lockfile {
            let in_doubt = lockfile.jobs_in_doubt();
            if let Some(job) = in_doubt.first() {
                refusals.push(refuse(
                    format!(
                        "run {} of this plan has a job whose outcome is not known (left `pending` or `unknown`)",
                        lockfile.runs[job.run].run
                    ),
                    "run `aepact status` on the plan to settle it before applying again",
                    false,
                ));
            }
        }
        for (segment, run_id) in in_flight[i].iter().filter(|_| applied.is_none()) {
            refusals.push(refuse(
                format!("segment `{segment}` has a run still in flight (run id {run_id})"),
                "wait for it to finish (`aepact status --wait`), then plan again",
                true,
            ));
        }

        if refusals.len() > before {
            continue;
        }
        let Some(resolved) = resolved else { continue };
        let export_ids = (plan.exports != Exports::Omitted).then_some(resolved.ids.as_slice());
        let mut bodies: Vec<serde_json::Value> = plan
            .jobs(options.segment_limit())
            .iter()
            .map(|job| request_body(job, export_ids))
            .collect();
        // A run of this intent that stopped short (an apply killed between jobs, a job
        // rejected) is resumed: only the pairs no submitted or in-doubt job requested are sent,
        // so no segment is activated twice for one intent and none is forgotten.
        let mut applied = applied;
        if applied.is_none()
            && let Some(lockfile) = lockfile
        {
            let done = lockfile.maybe_activated_pairs(&intent);
            if !done.is_empty() {
                bodies = without_pairs(bodies, &done);
                if bodies.is_empty() {
                    applied = lockfile.latest_run_for(&intent).map(|(_, run)| run);
                }
            }
        }
        let verdict = match applied {
            Some(run) => Verdict::AlreadyApplied {
                run: run.run,
                applied_at: run.applied_at.to_string(),
            },
            None => Verdict::Apply,
        };
        let last = lockfile.and_then(Lockfile::last_applied_run);
        let (last_applied, changes, diff_text) = match last {
            Some(run) => {
                let old: Vec<serde_json::Value> =
                    run.jobs.iter().map(|j| j.request.clone()).collect();
                let changes = diff::changes(&old, &bodies);
                let text = diff::unified(
                    &diff::bodies_text(&old),
                    &diff::bodies_text(&bodies),
                    &format!("applied (run {})", run.run),
                    "planned",
                );
                (
                    Some(LastApplied {
                        run: run.run,
                        applied_at: run.applied_at.to_string(),
                        intent_digest: run.intent_digest.clone(),
                    }),
                    changes,
                    text,
                )
            }
            None => (None, diff::changes(&[], &bodies), String::new()),
        };
        let lock_path = lockfile::lockfile_path(Path::new(&*plan.path));
        planned.push(PlannedPlan {
            path: plan.path.to_string(),
            name: plan.name.clone(),
            sandbox,
            plan_digest: digest_of(Path::new(&*plan.path))?.unwrap_or_default(),
            lockfile_digest: digest_of(&lock_path)?,
            intent_digest: intent,
            exports: resolved,
            destinations: infos,
            jobs: bodies,
            verdict,
            last_applied,
            changes: changes.iter().map(ChangeRecord::from).collect(),
            diff: diff_text,
        });
    }

    let config = client.config();
    Ok(Resolution {
        set: PlanSet {
            aepact_plan_version: SAVED_PLAN_VERSION,
            aepact_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: crate::time::rfc3339(crate::time::now_ms()),
            endpoint: lockfile::redact_endpoint(&config.platform_url),
            org: config.org_id.clone(),
            api_version: version.number(),
            max_segments_per_job: options.segment_limit(),
            split: options.split,
            plans: planned,
        },
        refusals,
    })
}

/// The request bodies without the (destination, segment) pairs in `done`; a destination left
/// with no segment is removed, and a body left with no destination is dropped.
pub fn without_pairs(
    bodies: Vec<serde_json::Value>,
    done: &BTreeSet<(String, String)>,
) -> Vec<serde_json::Value> {
    bodies
        .into_iter()
        .filter_map(|mut body| {
            let info = body.get_mut("activationInfo")?.as_object_mut()?;
            for (dest, segments) in info.iter_mut() {
                if let Some(list) = segments.as_array_mut() {
                    list.retain(|s| {
                        s.as_str()
                            .is_none_or(|s| !done.contains(&(dest.clone(), s.to_owned())))
                    });
                }
            }
            info.retain(|_, segments| segments.as_array().is_none_or(|l| !l.is_empty()));
            (!info.is_empty()).then_some(body)
        })
        .collect()
}

/// `sha256:<hex>` of a file, or `None` when it does not exist.
pub fn digest_of(path: &Path) -> Result<Option<String>, lockfile::LockfileError> {
    if !path.exists() {
        return Ok(None);
    }
    lockfile::file_digest(path).map(Some)
}

enum Fetched {
    Exports(String, Result<Vec<ExportJob>, ApiError>),
    Flow(String, String, Result<Option<Flow>, ApiError>),
}

/// For each plan, the (segment, run id) pairs of runs recorded as not final that the platform
/// still reports as going, for the plan's segments in its sandbox. Every lockfile of the
/// invocation counts, not only the plan's own: `apply a.yaml b.yaml` after `a` was applied must
/// not send `b` into a run of `a` still going on a shared segment.
async fn runs_in_flight(
    client: &Arc<Client>,
    plans: &[Plan],
    sandboxes: &[String],
    lockfiles: &[Option<Lockfile>],
) -> Result<Vec<Vec<(String, String)>>, ResolveError> {
    let segments: Vec<BTreeSet<&str>> = plans
        .iter()
        .map(|plan| {
            plan.destinations
                .iter()
                .flat_map(|d| d.segments.iter().map(|s| s.id.as_str()))
                .collect()
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
            let wanted: Vec<usize> = (0..plans.len())
                .filter(|&i| {
                    sandboxes[i] == sandbox && segments[i].contains(order.segment.as_str())
                })
                .collect();
            // One lookup per recorded run, however many plans share it.
            if wanted.is_empty() || !asked.insert((sandbox.clone(), order.status_url.clone())) {
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
                (wanted, segment, run)
            });
        }
    }
    let mut found: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); plans.len()];
    while let Some(done) = tasks.join_next().await {
        let (wanted, segment, run) = done.expect("invariant: status tasks do not panic");
        if let Some(run) = run?
            && !run.is_final()
        {
            for i in wanted {
                found[i].insert(segment.clone(), run.id.clone());
            }
        }
    }
    Ok(found.into_iter().map(|m| m.into_iter().collect()).collect())
}
