//! The platform as the second witness of what was sent: the Flow Service runs of every
//! dataflow the plans name, read once per (sandbox, dataflow) before anything is decided.
//!
//! The lockfile says what aepact sent; the runs say what the platform delivered, whoever asked
//! for it (this plan, a lost lockfile's apply, another copy of the plan, last night's schedule,
//! a click on "Export file now"). `decide` compares the two: the last delivery of each
//! (destination, segment) pair is shown, and recent deliveries no lockfile records refuse the
//! plan. One listing per dataflow (`property=flowId==…` and `property=createdAt>…`, pages
//! followed), never one request per order.
//!
//! Times are the platform's: each listing's `Date` header tells its clock, so a guard window is
//! measured against the platform's `createdAt`, not against this machine's clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::api::{ApiError, Client, Run, RunAlreadyGoing};
use crate::lockfile::JobStatus;
use crate::lockfile::Lockfile;
use crate::plan::Plan;
use crate::planner::model::RunsRead;

/// The runs read, by (sandbox, dataflow), newest first.
#[derive(Debug, Default)]
pub struct Witness {
    pub read: RunsRead,
    runs: HashMap<(String, String), Vec<Run>>,
}

impl Witness {
    /// Lists the runs created after `since` (epoch ms) of each (sandbox, dataflow) in `flows`,
    /// concurrently.
    ///
    /// Returns the first error of any listing: without the platform's account of what it
    /// delivered, nothing may be sent.
    pub async fn read(
        client: &Arc<Client>,
        flows: &BTreeSet<(String, String)>,
        since: i64,
    ) -> Result<Self, ApiError> {
        // One listing per sandbox, naming all its dataflows (`flowId==a,b,c`).
        let mut by_sandbox: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (sandbox, flow) in flows {
            by_sandbox.entry(sandbox).or_default().push(flow);
        }
        let mut tasks = JoinSet::new();
        for (sandbox, flows) in by_sandbox {
            let client = client.clone();
            let sandbox = sandbox.to_owned();
            let flows: Vec<String> = flows.into_iter().map(str::to_owned).collect();
            tasks.spawn(async move {
                let names: Vec<&str> = flows.iter().map(String::as_str).collect();
                let listing = client.list_runs_of(&sandbox, &names, since).await;
                (sandbox, flows, listing)
            });
        }
        let mut witness = Witness {
            read: RunsRead {
                since,
                platform_time: crate::time::now_ms(),
            },
            runs: HashMap::new(),
        };
        let mut clock: Option<i64> = None;
        while let Some(done) = tasks.join_next().await {
            let (sandbox, flows, listing) = done.expect("invariant: run listings do not panic");
            let listing = listing?;
            clock = clock.max(listing.platform_time);
            for flow in flows {
                witness
                    .runs
                    .entry((sandbox.clone(), flow.to_ascii_lowercase()))
                    .or_default();
            }
            for run in listing.runs {
                witness
                    .runs
                    .entry((sandbox.clone(), run.flow_id.to_ascii_lowercase()))
                    .or_default()
                    .push(run);
            }
        }
        for runs in witness.runs.values_mut() {
            runs.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        }
        if let Some(clock) = clock {
            witness.read.platform_time = clock;
        }
        Ok(witness)
    }

    /// The runs of one (destination, segment) pair in `sandbox`, newest first.
    pub fn runs_of<'a>(
        &'a self,
        sandbox: &str,
        destination: &str,
        segment: &'a str,
    ) -> impl Iterator<Item = &'a Run> + 'a {
        self.runs
            .get(&(sandbox.to_owned(), destination.to_ascii_lowercase()))
            .into_iter()
            .flatten()
            .filter(move |r| {
                r.segment_ids()
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(segment))
            })
    }

    /// The runs in `sandbox` of any dataflow read that export `segment` and have not finished:
    /// (dataflow, run).
    pub fn in_flight<'a>(
        &'a self,
        sandbox: &'a str,
        segment: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Run)> + 'a {
        self.runs
            .iter()
            .filter(move |((s, _), _)| s == sandbox)
            .flat_map(|((_, flow), runs)| runs.iter().map(move |r| (flow.as_str(), r)))
            .filter(move |(_, r)| {
                !r.is_final()
                    && r.segment_ids()
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(segment))
            })
    }

    /// Whether a run with this ID was read in `sandbox`.
    pub fn knows(&self, sandbox: &str, run_id: &str) -> bool {
        self.runs
            .iter()
            .filter(|((s, _), _)| s == sandbox)
            .any(|(_, runs)| runs.iter().any(|r| r.id.eq_ignore_ascii_case(run_id)))
    }
}

/// Recorded orders not final whose run the witness did not list (older than its window), and
/// the runs the platform named in a "Run already going on" refusal of the last apply, looked
/// up by ID: (sandbox, segment) → run ID of those the platform still reports going.
/// Every lockfile of the invocation counts, not only the plan's own: `apply a.yaml b.yaml`
/// must not send `b` into a run of `a` still going on a shared segment.
pub(super) async fn straggling(
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
    // sandbox -> run ID -> segment, for the runs listed by ID; and those known only by URL.
    let mut by_id: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut by_url: BTreeSet<(String, String, String)> = BTreeSet::new();
    for lockfile in lockfiles.iter().flatten() {
        for at in lockfile.non_final_orders() {
            let Some(order) = lockfile.order(at) else {
                continue;
            };
            let sandbox = lockfile.runs[at.run].sandbox.clone();
            if !wanted.contains(&(sandbox.as_str(), order.segment.as_str())) {
                continue;
            }
            match order.run_id.as_deref() {
                Some(id) if witness.knows(&sandbox, id) => {}
                Some(id) => {
                    by_id
                        .entry(sandbox)
                        .or_default()
                        .insert(id.to_ascii_lowercase(), order.segment.clone());
                }
                None => {
                    by_url.insert((sandbox, order.status_url.clone(), order.segment.clone()));
                }
            }
        }
        // The run the platform named when it refused a job of the last apply "Run already
        // going on": sending again before it is final would only be refused again (and add a
        // rejected run to the lockfile each time), so it counts as a run in flight.
        let Some(last) = lockfile.runs.last() else {
            continue;
        };
        for job in last.jobs.iter().filter(|j| j.status == JobStatus::Rejected) {
            let Some(going) = job
                .error
                .as_ref()
                .and_then(|e| e.body.as_ref())
                .and_then(RunAlreadyGoing::from_body)
            else {
                continue;
            };
            let (Some(id), Some(segment)) = (going.run_id, going.segment) else {
                continue;
            };
            let Some((_, segment)) = wanted
                .iter()
                .find(|(s, id)| *s == last.sandbox && id.eq_ignore_ascii_case(&segment))
            else {
                continue;
            };
            if !witness.knows(&last.sandbox, &id) {
                by_id
                    .entry(last.sandbox.clone())
                    .or_default()
                    .insert(id.to_ascii_lowercase(), (*segment).to_owned());
            }
        }
    }
    // One listing by ID per sandbox, however many plans and orders; URLs one by one.
    let mut tasks = JoinSet::new();
    for (sandbox, runs) in by_id {
        let client = client.clone();
        tasks.spawn(async move {
            let ids: Vec<&str> = runs.keys().map(String::as_str).collect();
            let listed = client.list_runs_by_id(&sandbox, &ids).await;
            let found: Result<Vec<(String, String, Run)>, ApiError> = listed.map(|listed| {
                listed
                    .into_iter()
                    .filter_map(|run| {
                        let segment = runs.get(&run.id.to_ascii_lowercase())?.clone();
                        Some((sandbox.clone(), segment, run))
                    })
                    .collect()
            });
            found
        });
    }
    for (sandbox, url, segment) in by_url {
        let client = client.clone();
        tasks.spawn(async move {
            let run = client.get_run(&sandbox, &url).await;
            run.map(|run| run.map(|r| (sandbox, segment, r)).into_iter().collect())
        });
    }
    let mut found = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        for (sandbox, segment, run) in done.expect("invariant: status tasks do not panic")? {
            if !run.is_final() {
                found.insert((sandbox, segment), run.id.clone());
            }
        }
    }
    Ok(found)
}
