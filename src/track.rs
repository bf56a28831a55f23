//! Track and record: what `status` does for one plan, under its lock: settle the jobs left in
//! doubt (`pending` after a crash mid-send, or `unknown` after a lost response) from the runs
//! of their dataflows created after the send; record the jobs never sent (`pending` without
//! `sentAt`, an apply that stopped); poll every order not final and write back its status,
//! times and metrics, or `lost` when the platform does not know its run.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::Exit;
use crate::api::{Client, Run};
use crate::error::Result;
use crate::lockfile::{
    JobError, JobStatus, Ledger, NewOrder, OrderMetrics, OrderStatus, OrderUpdate, SegmentRecords,
    Timestamp,
};
use crate::target::Target;

/// How far before a job's recorded send time its runs may have been created (clock skew
/// between this machine and the platform).
const CLOCK_MARGIN_MS: i64 = 5 * 60 * 1000;
/// After this long without a run for a job in doubt, the platform did not take it.
const NOT_RECEIVED_AFTER_MS: i64 = 2 * 60 * 1000;

/// [`NOT_RECEIVED_AFTER_MS`], or `AEPACT_NOT_RECEIVED_AFTER_MS` (milliseconds; a test and ops
/// knob, see `docs/workflow.md`): tests set it low instead of waiting two minutes.
fn not_received_after_ms() -> i64 {
    std::env::var("AEPACT_NOT_RECEIVED_AFTER_MS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ms| *ms >= 0)
        .unwrap_or(NOT_RECEIVED_AFTER_MS)
}

/// A plan whose lockfile `status` works on.
pub(crate) struct Tracked {
    pub(crate) lockfile: PathBuf,
    /// The checked plan: its path as given or found, its canonical file (what is locked), its
    /// `name` (which its lockfile must record) and its `expect` bounds ([`crate::expect`]).
    pub(crate) plan: crate::plan::Plan,
}

/// Order counts over the plans polled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tally {
    pub(crate) succeeded: usize,
    pub(crate) failed: usize,
    pub(crate) in_flight: usize,
    /// Orders whose run the platform does not know (404).
    pub(crate) lost: usize,
    /// Orders whose run succeeded with numbers outside the plan's `expect` (a failed order
    /// that also breaks them counts as failed).
    pub(crate) unexpected: usize,
    /// Jobs whose outcome is still unknown after this poll.
    pub(crate) in_doubt: usize,
    /// Jobs found to have been received (settled) or not, this poll.
    pub(crate) settled: usize,
}

impl Tally {
    pub(crate) fn add(&mut self, other: &Tally) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.in_flight += other.in_flight;
        self.lost += other.lost;
        self.unexpected += other.unexpected;
        self.in_doubt += other.in_doubt;
        self.settled += other.settled;
    }

    /// Orders counted.
    pub(crate) fn total(&self) -> usize {
        self.succeeded + self.failed + self.in_flight + self.lost + self.unexpected
    }

    /// 1 when an order failed, was lost or is unexpected, else 0.
    pub(crate) fn exit(&self) -> Exit {
        if self.failed > 0 || self.lost > 0 || self.unexpected > 0 {
            Exit::Failure
        } else {
            Exit::Success
        }
    }
}

/// An order whose run the platform answered 404 for, found this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LostOrder {
    pub(crate) segment: String,
    /// The destination dataflow.
    pub(crate) destination: String,
    pub(crate) run_id: Option<String>,
}

/// An order whose run finished `failed`, `partialSuccess` or `cancelled`, with what the
/// platform said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailedOrder {
    pub(crate) segment: String,
    /// The destination dataflow.
    pub(crate) destination: String,
    /// The plan's `run` number of the activation.
    pub(crate) run: u64,
    pub(crate) run_id: Option<String>,
    pub(crate) status: String,
    /// `outputRecords` and `failedRecords` of the run, when reported.
    pub(crate) output_records: Option<u64>,
    pub(crate) failed_records: Option<u64>,
    /// The run's errors (`statusSummary.errors[]`) as recorded.
    pub(crate) errors: Vec<serde_json::Value>,
}

/// What one poll of one plan found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlanStatus {
    #[serde(flatten)]
    pub(crate) tally: Tally,
    pub(crate) lost_orders: Vec<LostOrder>,
    /// Every order of the lockfile whose run failed or partly failed.
    pub(crate) failed_orders: Vec<FailedOrder>,
    /// The plan's `expect` bounds broken by finished runs of its current intent.
    pub(crate) unexpected_orders: Vec<crate::expect::Unexpected>,
}

/// Polls one plan's lockfile under its lock and writes back what changed.
///
/// A lockfile that records another plan than `name` is refused, never rewritten.
///
/// Returns the counts, and the orders found lost this poll.
pub(crate) async fn poll_plan(
    client: &Arc<Client>,
    target: &Target,
    plan: &Tracked,
    lock_timeout: Duration,
    listed: &Listed,
) -> Result<PlanStatus> {
    let mut ledger = tokio::task::block_in_place(|| {
        Ledger::open_at(
            &plan.plan.file,
            plan.lockfile.clone(),
            &plan.plan.name,
            lock_timeout,
        )
    })?;
    let path = plan.lockfile.clone();
    ledger
        .lockfile()
        .check_target(&target.endpoint, &target.org, &path)?;
    let mut lockfile = ledger.lockfile().clone();
    let before = lockfile.clone();
    let mut lost_orders = Vec::new();
    let mut tally = Tally::default();
    tracing::info!(
        plan = %plan.plan.path,
        in_doubt = lockfile.jobs_in_doubt().len(),
        non_final = lockfile.non_final_orders().len(),
        "polling"
    );

    // Settle jobs in doubt from the runs of their dataflows.
    let mut known: HashSet<String> = lockfile
        .runs
        .iter()
        .flat_map(|r| &r.jobs)
        .flat_map(|j| &j.orders)
        .filter_map(|o| o.run_id.clone())
        .collect();
    for at in lockfile.jobs_in_doubt() {
        let sandbox = lockfile.runs[at.run].sandbox.clone();
        let Some(job) = lockfile.job(at) else {
            continue;
        };
        let Some(sent_at) = job.sent_at.map(Timestamp::unix_ms) else {
            continue;
        };
        let wanted: HashSet<(String, String)> = job.request.pairs().collect();
        let in_request_order = job.requested_pairs();
        // Candidates: (created before the send, distance from the send, run id, order).
        let mut found = Vec::new();
        for dest in wanted
            .iter()
            .map(|(d, _)| d.clone())
            .collect::<HashSet<_>>()
        {
            let runs = client
                .list_runs(&sandbox, &dest, sent_at - CLOCK_MARGIN_MS)
                .await?;
            for run in runs.into_iter().filter(|r| !known.contains(&r.id)) {
                let (before, distance) = match run.created_at {
                    Some(t) if t < sent_at => (true, sent_at - t),
                    Some(t) => (false, t - sent_at),
                    None => (false, i64::MAX),
                };
                for segment in run.segment_ids() {
                    if wanted.contains(&(dest.clone(), segment.clone())) {
                        found.push((
                            before,
                            distance,
                            run.id.clone(),
                            NewOrder {
                                segment,
                                order: dest.clone(),
                                status_url: format!(
                                    "{}/data/foundation/flowservice/runs/{}",
                                    client.config().platform_url,
                                    run.id
                                ),
                            },
                        ));
                    }
                }
            }
        }
        // One order per (destination, segment): the run created first after the send; one
        // created before it (within the clock-skew margin) only when there is none after, since
        // it may be another job's (another plan's, or an earlier run's).
        found.sort_by_key(|(before, distance, _, _)| (*before, *distance));
        let mut seen = HashSet::new();
        found.retain(|(_, _, _, o)| seen.insert((o.order.clone(), o.segment.clone())));
        found.sort_by_key(|(_, _, _, o)| {
            in_request_order
                .iter()
                .position(|(d, s)| *d == o.order && *s == o.segment)
        });
        // A run settles one job only.
        known.extend(found.iter().map(|(_, _, id, _)| id.clone()));
        let found: Vec<NewOrder> = found.into_iter().map(|(_, _, _, o)| o).collect();
        let now = Timestamp::now();
        let (run, job) = lockfile.job_mut(at)?;
        if !found.is_empty() {
            tracing::info!(
                run,
                job = at.job,
                orders = found.len(),
                "job in doubt settled: submitted"
            );
            job.reconcile_submitted(run, found, now)?;
            tally.settled += 1;
        } else if now.unix_ms() - sent_at > not_received_after_ms() {
            job.reconcile_not_received(
                run,
                JobError::no_answer(
                    "the platform created no run for this job: it was not received",
                ),
                now,
            )?;
            tracing::info!(run, job = at.job, "job in doubt settled: not received");
            tally.settled += 1;
        } else {
            tracing::info!(run, job = at.job, "job in doubt: no run yet, not settled");
            tally.in_doubt += 1;
        }
    }

    // Jobs never sent (`pending`, no `sentAt`) of an apply that stopped: under the lock no
    // apply is working on them, so nothing was or will be activated by them.
    for at in lockfile.unsettled_jobs() {
        let Some(job) = lockfile.job(at) else {
            continue;
        };
        if job.sent_at.is_some() || job.status != JobStatus::Pending {
            continue;
        }
        let (run, job) = lockfile.job_mut(at)?;
        job.settle_never_sent(
            run,
            JobError::no_answer("never sent: the apply stopped before sending this job"),
            Timestamp::now(),
        )?;
        tally.settled += 1;
    }

    // Poll every order that is not final.
    for at in lockfile.non_final_orders() {
        let sandbox = lockfile.runs[at.run].sandbox.clone();
        let Some(order) = lockfile.order(at) else {
            continue;
        };
        // By run ID where known: the status URL names the host the job was sent to, and a
        // client only follows URLs on its own platform host (an `--emulator` run moves port).
        // Listed already (every order of the invocation, by ID, one listing per sandbox), or
        // asked for on its own: an order recorded since the listing, one known by URL only,
        // and one the listing did not return (to tell a lost run by its 404).
        let run = match order
            .run_id
            .as_deref()
            .and_then(|id| listed.get(&sandbox, id))
        {
            Some(run) => Some(run.clone()),
            None => match &order.run_id {
                Some(id) => client.get_run_by_id(&sandbox, id).await?,
                None => client.get_run(&sandbox, &order.status_url).await?,
            },
        };
        let Some(run) = run else {
            tracing::info!(segment = %order.segment, "the platform does not know this order's run");
            lost_orders.push(LostOrder {
                segment: order.segment.clone(),
                destination: order.order.clone(),
                run_id: order.run_id.clone(),
            });
            let now = Timestamp::now();
            lockfile.order_mut(at)?.update(OrderUpdate {
                status: OrderStatus::Lost,
                run_id: None,
                created_at: None,
                started_at: None,
                finished_at: None,
                metrics: None,
                errors: Vec::new(),
                checked_at: now,
            });
            continue;
        };
        let update = order_update(&run, &order.segment);
        tracing::debug!(
            segment = %order.segment,
            run_id = %run.id,
            status = %update.status,
            "order polled"
        );
        lockfile.order_mut(at)?.update(update);
    }
    let (unexpected, marked) = crate::expect::check(&plan.plan, &lockfile);
    let mut failed_orders = Vec::new();
    for (r, run) in lockfile.runs.iter().enumerate() {
        for (j, job) in run.jobs.iter().enumerate() {
            for (o, order) in job.orders.iter().enumerate() {
                if order.status.is_final() && order.status != OrderStatus::Success {
                    failed_orders.push(FailedOrder {
                        segment: order.segment.clone(),
                        destination: order.order.clone(),
                        run: run.run,
                        run_id: order.run_id.clone(),
                        status: order.status.to_string(),
                        output_records: order.metrics.and_then(|m| m.output_records),
                        failed_records: order.metrics.and_then(|m| m.failed_records),
                        errors: order.errors.clone(),
                    });
                }
                if order.status == OrderStatus::Success && marked.contains(&(r, j, o)) {
                    tally.unexpected += 1;
                    continue;
                }
                count(&mut tally, &order.status);
            }
        }
    }
    if lockfile != before {
        *ledger.lockfile_mut() = lockfile;
        ledger.save()?;
        tracing::info!(lockfile = %path.display(), "lockfile updated");
    }
    Ok(PlanStatus {
        tally,
        lost_orders,
        failed_orders,
        unexpected_orders: unexpected,
    })
}

/// Counts an order by its status.
fn count(tally: &mut Tally, status: &OrderStatus) {
    match status {
        OrderStatus::Success => tally.succeeded += 1,
        OrderStatus::Lost => tally.lost += 1,
        s if s.is_final() => tally.failed += 1,
        _ => tally.in_flight += 1,
    }
}

/// What a polled run says about the order of `segment`: its status, times, errors, and its
/// metrics (the run's records, files and bytes, and the segment's own records when the run has
/// an `entitySummaries` entry `segment:<id>` for it).
fn order_update(run: &Run, segment: &str) -> OrderUpdate {
    let records = run.records();
    let files = run.files();
    let size = &run.metrics.size_summary;
    OrderUpdate {
        status: OrderStatus::from_platform(run.status().as_str()),
        run_id: Some(run.id.clone()),
        created_at: run.created_at.and_then(Timestamp::from_unix_ms),
        started_at: run.started_at().and_then(Timestamp::from_unix_ms),
        finished_at: run.completed_at().and_then(Timestamp::from_unix_ms),
        metrics: Some(OrderMetrics {
            input_records: records.input,
            output_records: records.output,
            failed_records: records.failed,
            input_files: files.input,
            output_files: files.output,
            input_bytes: size.input_bytes,
            output_bytes: size.output_bytes,
            segment: run.segment_records(segment).map(|r| SegmentRecords {
                input_records: r.input,
                output_records: r.output,
                failed_records: r.failed,
            }),
        }),
        errors: run
            .errors()
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        checked_at: Timestamp::now(),
    }
}

/// The runs of the recorded orders still to poll, listed by ID before the plans are polled: one
/// listing per sandbox for every order of every plan, instead of one request per order.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    runs: std::collections::HashMap<(String, String), Run>,
}

impl Listed {
    /// Lists, by ID, the runs of the orders not final in these plans' lockfiles (read without
    /// their locks: an order recorded meanwhile is polled on its own).
    pub(crate) async fn read(client: &Arc<Client>, plans: &[Tracked]) -> Result<Listed> {
        let mut by_sandbox: std::collections::BTreeMap<String, Vec<String>> =
            std::collections::BTreeMap::new();
        for plan in plans {
            let Some(lockfile) = crate::lockfile::Lockfile::load(&plan.lockfile)? else {
                continue;
            };
            for at in lockfile.non_final_orders() {
                if let Some(id) = lockfile.order(at).and_then(|o| o.run_id.clone()) {
                    by_sandbox
                        .entry(lockfile.runs[at.run].sandbox.clone())
                        .or_default()
                        .push(id);
                }
            }
        }
        let mut listed = Listed::default();
        for (sandbox, mut ids) in by_sandbox {
            ids.sort();
            ids.dedup();
            let names: Vec<&str> = ids.iter().map(String::as_str).collect();
            for run in client.list_runs_by_id(&sandbox, &names).await? {
                listed
                    .runs
                    .insert((sandbox.clone(), run.id.to_ascii_lowercase()), run);
            }
        }
        Ok(listed)
    }

    fn get(&self, sandbox: &str, run_id: &str) -> Option<&Run> {
        self.runs
            .get(&(sandbox.to_owned(), run_id.to_ascii_lowercase()))
    }
}
