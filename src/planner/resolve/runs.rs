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

use crate::api::{ApiError, Client, Run};
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
        let mut tasks = JoinSet::new();
        for (sandbox, flow) in flows {
            let (client, sandbox, flow) = (client.clone(), sandbox.clone(), flow.clone());
            tasks.spawn(async move {
                let listing = client.list_flow_runs(&sandbox, &flow, since).await;
                (sandbox, flow, listing)
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
            let (sandbox, flow, listing) = done.expect("invariant: run listings do not panic");
            let listing = listing?;
            clock = clock.max(listing.platform_time);
            let mut runs = listing.runs;
            runs.sort_by_key(|r| std::cmp::Reverse(r.created_at));
            witness
                .runs
                .insert((sandbox, flow.to_ascii_lowercase()), runs);
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

/// Recorded orders not final whose run the witness did not list (older than its window),
/// looked up by ID: (sandbox, segment) → run ID of those the platform still reports going.
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
