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

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::model::RunsRead;
use crate::api::{ApiError, Client, Run};

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
