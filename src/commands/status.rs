//! `aepact status`: poll the orders recorded in the lockfiles and record what the platform says.
//!
//! Per plan, under the plan's lock: jobs left in doubt (`pending` after a crash mid-send, or
//! `unknown` after a lost response) are settled from the runs of their dataflows created after
//! the send; jobs never sent (`pending` without `sentAt`, an apply that stopped) are recorded
//! as such; then every non-final order's statusURL is polled and its status, times and metrics
//! written back. `--wait` repeats until every order is final.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Exit;
use crate::api::{Client, Run};
use crate::cli::StatusArgs;
use crate::commands::online;
use crate::error::Result;
use crate::lockfile::{
    JobError, JobStatus, Ledger, Lockfile, NewOrder, OrderMetrics, OrderStatus, OrderUpdate,
    Timestamp,
};
use crate::output::{self, Style};
use crate::plan::request::activation_pairs;
use crate::plan::{CheckOptions, check_paths};
use crate::target::Target;

/// How far before a job's recorded send time its runs may have been created (clock skew
/// between this machine and the platform).
const CLOCK_MARGIN_MS: i64 = 5 * 60 * 1000;
/// After this long without a run for a job in doubt, the platform did not take it.
const NOT_RECEIVED_AFTER_MS: i64 = 2 * 60 * 1000;

/// [`NOT_RECEIVED_AFTER_MS`], or `AEPACT_NOT_RECEIVED_AFTER` (milliseconds; a test and ops
/// knob, see `docs/workflow.md`): tests set it low instead of waiting two minutes.
fn not_received_after_ms() -> i64 {
    std::env::var("AEPACT_NOT_RECEIVED_AFTER_MS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ms| *ms >= 0)
        .unwrap_or(NOT_RECEIVED_AFTER_MS)
}

/// A plan whose lockfile `status` works on.
struct Tracked {
    /// As given or found.
    shown: PathBuf,
    /// The canonical plan file: what is locked.
    file: PathBuf,
    lockfile: PathBuf,
    name: Option<String>,
}

pub fn run(args: &StatusArgs, style: Style) -> Result<Exit> {
    let report = check_paths(&args.paths, &CheckOptions::default(), false);
    let connection = online::connect(&args.emulator)?;
    let (client, target) = (&connection.client, &connection.target);
    // Each plan file with a lockfile (this target's), and the plan's name when it could be read.
    let plans: Vec<Tracked> = report
        .files
        .iter()
        .filter(|f| f.is_plan_file())
        .map(|f| {
            let shown = PathBuf::from(&*f.path);
            let file = std::fs::canonicalize(&shown).unwrap_or_else(|_| shown.clone());
            Tracked {
                lockfile: target.lockfile_for(&file),
                shown,
                file,
                name: f.plan_name.as_deref().map(str::to_owned),
            }
        })
        .filter(|t| t.lockfile.exists())
        .collect();
    if plans.is_empty() {
        output::write_stdout(
            "No lockfiles found for these plans: nothing has been applied yet.\n",
        )?;
        return Ok(Exit::Success);
    }
    let runtime = online::runtime()?;
    // A progress bar on a terminal; plain lines otherwise (logs, pipelines).
    let bar = (args.wait && std::io::stdout().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} orders final {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    runtime.block_on(async {
        let started = Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            let mut tally = Tally::default();
            let mut lines = String::new();
            for plan in &plans {
                let (t, lost) = poll_plan(client, target, plan, args.lock_timeout).await?;
                lines.push_str(&t.line(&plan.shown));
                lines.push_str(&lost);
                tally.add(&t);
            }
            // Lost orders are not waited for: the platform will not tell more about them.
            let done = tally.in_flight == 0 && tally.in_doubt == 0;
            if let Some(bar) = &bar {
                bar.set_length(tally.total() as u64);
                bar.set_position((tally.total() - tally.in_flight) as u64);
                bar.set_message(format!("({} failed)", tally.failed));
                if done || started.elapsed() >= args.timeout {
                    bar.finish_and_clear();
                }
            }
            if done || !args.wait {
                output::write_stdout(&lines)?;
                output::write_stdout(&tally.summary(style))?;
                return Ok(tally.exit());
            }
            if started.elapsed() >= args.timeout {
                output::write_stdout(&lines)?;
                output::write_stdout(&tally.summary(style))?;
                output::write_stdout(&format!(
                    "timed out after {:?} with {} still in flight\n  help: run `aepact status --wait` again later\n",
                    args.timeout,
                    output::plural(tally.in_flight + tally.in_doubt, "order", "orders")
                ))?;
                return Ok(Exit::TempFail);
            }
            if bar.is_none() {
                output::write_stdout(&format!(
                    "waiting: {} of {} final\n",
                    tally.total() - tally.in_flight,
                    output::plural(tally.total(), "order", "orders")
                ))?;
            }
            tokio::time::sleep(delay.min(args.timeout.saturating_sub(started.elapsed()))).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    })
}

/// Order counts over the plans polled.
#[derive(Debug, Default)]
struct Tally {
    succeeded: usize,
    failed: usize,
    in_flight: usize,
    /// Orders whose run the platform does not know (404).
    lost: usize,
    /// Jobs whose outcome is still unknown after this poll.
    in_doubt: usize,
    /// Jobs found to have been received (settled) or not, this poll.
    settled: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.in_flight += other.in_flight;
        self.lost += other.lost;
        self.in_doubt += other.in_doubt;
        self.settled += other.settled;
    }

    fn total(&self) -> usize {
        self.succeeded + self.failed + self.in_flight + self.lost
    }

    fn exit(&self) -> Exit {
        if self.failed > 0 || self.lost > 0 {
            Exit::Failure
        } else {
            Exit::Success
        }
    }

    fn line(&self, plan: &Path) -> String {
        let mut line = format!(
            "{}: {} succeeded, {} failed, {} in flight",
            plan.display(),
            self.succeeded,
            self.failed,
            self.in_flight
        );
        if self.lost > 0 {
            line.push_str(&format!(", {} lost", self.lost));
        }
        if self.settled > 0 {
            line.push_str(&format!(
                ", {} settled from the platform's runs",
                output::plural(self.settled, "job", "jobs")
            ));
        }
        if self.in_doubt > 0 {
            line.push_str(&format!(
                ", {} not settled yet",
                output::plural(self.in_doubt, "job", "jobs")
            ));
        }
        line.push('\n');
        line
    }

    fn summary(&self, style: Style) -> String {
        let red = anstyle::Style::new()
            .fg_color(Some(anstyle::AnsiColor::Red.into()))
            .bold();
        let green = anstyle::Style::new()
            .fg_color(Some(anstyle::AnsiColor::Green.into()))
            .bold();
        let total = self.total();
        let orders = output::plural(total, "order", "orders");
        let mut line = if self.failed > 0 || self.lost > 0 {
            let lost = format!(
                "{} (the platform does not know their runs)",
                style.paint(red, "lost")
            );
            match (self.failed, self.lost) {
                (f, 0) => format!("Status: {f} of {orders} {}.", style.paint(red, "failed")),
                (0, l) => format!("Status: {l} of {orders} {lost}."),
                (f, l) => format!(
                    "Status: {f} of {orders} {}, {l} {lost}.",
                    style.paint(red, "failed")
                ),
            }
        } else if self.in_flight > 0 {
            format!("Status: {} of {orders} in flight.", self.in_flight)
        } else {
            format!("Status: all {orders} {}.", style.paint(green, "succeeded"))
        };
        if self.in_doubt > 0 {
            line.push_str(&format!(
                " {} not settled yet.",
                output::plural(self.in_doubt, "job is", "jobs are")
            ));
        }
        line.push('\n');
        line
    }
}

/// Polls one plan's lockfile under its lock and writes back what changed.
///
/// A lockfile that records another plan than `name` is refused, never rewritten.
///
/// Returns the tally and a line per order found lost this poll.
async fn poll_plan(
    client: &Arc<Client>,
    target: &Target,
    plan: &Tracked,
    lock_timeout: Duration,
) -> Result<(Tally, String)> {
    let name = match &plan.name {
        Some(name) => name.clone(),
        // A plan that does not read: its lockfile's own name (nothing to compare it with).
        None => match Lockfile::load(&plan.lockfile)? {
            Some(lockfile) => lockfile.plan,
            None => return Ok((Tally::default(), String::new())),
        },
    };
    let mut ledger = tokio::task::block_in_place(|| {
        Ledger::open_at(&plan.file, plan.lockfile.clone(), &name, lock_timeout)
    })?;
    let path = plan.lockfile.clone();
    ledger
        .lockfile()
        .check_target(&target.endpoint, &target.org, &path)?;
    let mut lockfile = ledger.lockfile().clone();
    let before = lockfile.clone();
    let mut lost_lines = String::new();
    let mut tally = Tally::default();
    tracing::info!(
        plan = %plan.shown.display(),
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
        let wanted: HashSet<(String, String)> = activation_pairs(&job.request).collect();
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
                JobError {
                    http_status: None,
                    message: "the platform created no run for this job: it was not received".into(),
                    body: None,
                },
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
            JobError {
                http_status: None,
                message: "never sent: the apply stopped before sending this job".into(),
                body: None,
            },
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
        let run = match &order.run_id {
            Some(id) => client.get_run_by_id(&sandbox, id).await?,
            None => client.get_run(&sandbox, &order.status_url).await?,
        };
        let Some(run) = run else {
            tracing::info!(segment = %order.segment, "the platform does not know this order's run");
            let line = format!(
                "  lost: segment `{}` to `{}`: the platform does not know run `{}` (HTTP 404); it was not sent to this platform, or the platform dropped it\n",
                order.segment,
                order.order,
                order.run_id.as_deref().unwrap_or(&order.status_url)
            );
            lost_lines.push_str(&line);
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
        let update = order_update(&run);
        tracing::debug!(
            segment = %order.segment,
            run_id = %run.id,
            status = %update.status,
            "order polled"
        );
        lockfile.order_mut(at)?.update(update);
    }
    for order in lockfile
        .runs
        .iter()
        .flat_map(|r| &r.jobs)
        .flat_map(|j| &j.orders)
    {
        match &order.status {
            OrderStatus::Success => tally.succeeded += 1,
            OrderStatus::Lost => tally.lost += 1,
            s if s.is_final() => tally.failed += 1,
            _ => tally.in_flight += 1,
        }
    }
    if lockfile != before {
        *ledger.lockfile_mut() = lockfile;
        ledger.save()?;
        tracing::info!(lockfile = %path.display(), "lockfile updated");
    }
    Ok((tally, lost_lines))
}

fn order_update(run: &Run) -> OrderUpdate {
    let records = run.records();
    let files = run.files();
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
        }),
        errors: run
            .errors()
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        checked_at: Timestamp::now(),
    }
}
