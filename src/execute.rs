//! Execute and record: send one plan's jobs, exactly once, with every step recorded first.
//!
//! Under the plan's lock (taken by the caller for the whole apply), for a plan `decide` said to
//! apply:
//! 1. the lockfile must be the one the plan was made against (else another apply got there
//!    first: "already applied", or stale);
//! 2. a run is appended with every job `pending`, and saved;
//! 3. per job: its `sentAt` is saved, the POST is sent, and the outcome (`submitted` with the
//!    orders, `rejected` with the platform's error, or `unknown` when the response was lost or
//!    was a 500/502/504) is saved before the next job. A job in doubt is never retried:
//!    `status` settles it.
//!
//! Every save goes through [`Ledger`], which never overwrites a lockfile changed on disk.

use std::path::PathBuf;
use std::sync::Arc;

use crate::Exit;
use crate::api::AdhocApiVersion;
use crate::api::types::error_message;
use crate::api::{AdhocOutcome, Client};
use crate::error::Result;
use crate::lockfile::{
    ExportsRecord, JobError, JobRef, Ledger, LockGuard, NewOrder, NewRun, OverriddenRun,
    RunOverride, Timestamp,
};
use crate::output;
use crate::plan::Plan;
use crate::planner::model::PlannedPlan;

/// Where and how the jobs of this apply are sent.
pub(crate) struct Sending<'a> {
    pub(crate) client: &'a Arc<Client>,
    /// What runs record as their target.
    pub(crate) endpoint: &'a str,
    pub(crate) org: &'a str,
    pub(crate) version: AdhocApiVersion,
    /// Who applies (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`, `USER`), read once per apply.
    pub(crate) applied_by: Option<&'a str>,
}

/// Test-only crash points (`AEPACT_TEST_PAUSE_AFTER=POINT[:JOB]`, see `docs/workflow.md`):
/// at `POINT` (of job `JOB`, default 0) the process announces itself on stderr and sleeps, so
/// a test can kill it there. Points: `pending` (run appended and saved), `sending` (`sentAt`
/// saved, POST not sent), `response` (response received, outcome not saved), `job` (outcome
/// saved, next job not started). Unset (always, outside tests), it does nothing.
fn test_pause(point: &str, job: usize) {
    let Ok(wanted) = std::env::var("AEPACT_TEST_PAUSE_AFTER") else {
        return;
    };
    let (name, index) = wanted.split_once(':').unwrap_or((wanted.as_str(), "0"));
    if name == point && index.parse::<usize>().ok() == Some(job) {
        let _ = output::write_stderr(&format!("aepact-test-pause: {point}:{job}\n"));
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}

/// What happened to one plan sent (or not, when the lockfile said otherwise under the lock).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub(crate) enum Outcome {
    /// Every job submitted.
    Submitted { run: u64, orders: usize },
    /// Another apply recorded this intent meanwhile.
    AlreadyApplied { run: u64, applied_at: String },
    /// The lockfile changed since planning, or a job would resend what this intent activated.
    Stale { reason: String },
    /// The platform refused a job.
    Rejected {
        job: usize,
        message: String,
        temporary: bool,
        help: &'static str,
    },
    /// A job's response was lost: it may be running.
    Unknown { job: usize, message: String },
}

impl Outcome {
    /// The exit status this outcome calls for.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Outcome::Submitted { .. } | Outcome::AlreadyApplied { .. } => Exit::Success,
            Outcome::Rejected {
                temporary: true, ..
            } => Exit::TempFail,
            Outcome::Stale { .. } | Outcome::Rejected { .. } | Outcome::Unknown { .. } => {
                Exit::Failure
            }
        }
    }
}

/// Sends the plans side by side, at most `limit` at once, each plan's jobs one after the other
/// through [`apply_one`]: their segments are distinct (the decision refuses a plan that shares
/// one with a plan before it) and each has its own lockfile and lock, so nothing orders them.
/// No plan is started once one did not go through (or its lockfile could not be written); the
/// plans already under way are never abandoned mid-POST, they finish and are recorded.
///
/// `done` is called with each outcome in plan order (a plan that was never started has none).
/// Returns the first error met, after every started plan has finished.
pub(crate) async fn apply_all(
    sending: &Sending<'_>,
    work: &[(&PlannedPlan, &Plan, &LockGuard)],
    limit: usize,
    mut done: impl FnMut(usize, Outcome),
) -> Result<()> {
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;

    type Sent<'f> = Pin<Box<dyn Future<Output = Result<Outcome>> + 'f>>;
    let mut running: Vec<(usize, Sent<'_>)> = Vec::new();
    let mut finished: BTreeMap<usize, Option<Outcome>> = BTreeMap::new();
    let (mut next, mut reported, mut stop) = (0, 0, false);
    let mut first_error = None;
    loop {
        while !stop && running.len() < limit.max(1) && next < work.len() {
            let (planned, plan, guard) = work[next];
            running.push((next, Box::pin(apply_one(sending, planned, plan, guard))));
            next += 1;
        }
        if running.is_empty() {
            break;
        }
        let (at, result) = std::future::poll_fn(|cx| {
            for (at, (_, sent)) in running.iter_mut().enumerate() {
                if let Poll::Ready(result) = sent.as_mut().poll(cx) {
                    return Poll::Ready((at, result));
                }
            }
            Poll::Pending
        })
        .await;
        let (index, _) = running.swap_remove(at);
        match result {
            Ok(outcome) => {
                stop |= outcome.exit() != Exit::Success;
                finished.insert(index, Some(outcome));
            }
            Err(err) => {
                stop = true;
                first_error.get_or_insert(err);
                finished.insert(index, None);
            }
        }
        while let Some(outcome) = finished.remove(&reported) {
            if let Some(outcome) = outcome {
                done(reported, outcome);
            }
            reported += 1;
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Sends one plan's jobs and records every step in its lockfile (see the module docs).
///
/// Returns what became of it; an error only when the lockfile cannot be read or written.
pub(crate) async fn apply_one(
    sending: &Sending<'_>,
    planned: &PlannedPlan,
    plan: &Plan,
    guard: &LockGuard,
) -> Result<Outcome> {
    let path = PathBuf::from(&planned.lockfile);
    let mut ledger = Ledger::under_lock(guard, path.clone(), &planned.name)?;

    // Under the lock, the lockfile must be the one the plan was made against (a saved plan
    // may be older than the last apply).
    if ledger.disk_digest() != planned.lockfile_digest.as_deref() {
        if let Some(run) = ledger.lockfile().already_applied(&planned.intent_digest) {
            return Ok(Outcome::AlreadyApplied {
                run: run.run,
                applied_at: run.applied_at.to_string(),
            });
        }
        return Ok(Outcome::Stale {
            reason: format!(
                "`{}` changed since the plan was made (another apply or status ran)",
                path.display()
            ),
        });
    }
    // Planning left out what this intent may already have activated (a resumed run); check
    // again here, under the lock, so a pair is never sent twice for one intent.
    let done = ledger
        .lockfile()
        .maybe_activated_pairs(&planned.intent_digest);
    if let Some((dest, segment)) = planned
        .jobs
        .iter()
        .find_map(|body| body.pairs().find(|pair| done.contains(pair)))
    {
        return Ok(Outcome::Stale {
            reason: format!(
                "segment `{segment}` to `{dest}` may already have been activated by a run of this intent; sending it again would activate it twice"
            ),
        });
    }

    let override_ = (!planned.overridden.is_empty()).then(|| RunOverride {
        flag: "--allow-unrecorded-runs".to_owned(),
        runs: planned
            .overridden
            .iter()
            .map(|d| OverriddenRun {
                destination: d.destination.clone(),
                segment: d.segment.clone(),
                run_id: d.run_id.clone().unwrap_or_default(),
                created_at: d.created_at.and_then(Timestamp::from_unix_ms),
            })
            .collect(),
    });
    let version = sending.version;
    let index = ledger.lockfile_mut().append_run(NewRun {
        run: plan.run,
        intent_digest: planned.intent_digest.clone(),
        applied_at: Timestamp::now(),
        applied_by: sending.applied_by.map(str::to_owned),
        endpoint: sending.endpoint.to_owned(),
        org: sending.org.to_owned(),
        sandbox: planned.sandbox.clone(),
        api_version: version,
        exports: ExportsRecord::new(&plan.exports, planned.exports.ids.clone()),
        requests: planned.jobs.clone(),
        override_,
    });
    ledger.save()?;
    tracing::info!(
        plan = %planned.name,
        run = plan.run,
        jobs = planned.jobs.len(),
        lockfile = %path.display(),
        "run recorded, every job pending"
    );
    test_pause("pending", 0);

    let mut orders = 0;
    for (j, body) in planned.jobs.iter().enumerate() {
        let at = JobRef { run: index, job: j };
        {
            let (run, job) = ledger.lockfile_mut().job_mut(at)?;
            job.mark_sending(run, Timestamp::now())?;
        }
        ledger.save()?;
        tracing::info!(plan = %planned.name, job = j, "sending job (recorded as sent first)");
        test_pause("sending", j);
        let outcome = sending
            .client
            .post_adhoc(&planned.sandbox, body, version)
            .await;
        tracing::info!(
            plan = %planned.name,
            job = j,
            outcome = outcome_name(&outcome),
            "job outcome"
        );
        test_pause("response", j);
        let going = outcome.run_already_going().is_some();
        let (run, job) = ledger.lockfile_mut().job_mut(at)?;
        let result = match outcome {
            AdhocOutcome::Accepted(accepted) => {
                orders += accepted.len();
                job.mark_submitted(
                    run,
                    accepted
                        .into_iter()
                        .map(|o| NewOrder {
                            segment: o.segment,
                            order: o.order,
                            status_url: o.status_url,
                        })
                        .collect(),
                )?;
                None
            }
            // A 500, 502 or 504 does not prove the job was not started (a gateway may have
            // forwarded it, a failing service may have started runs): in doubt, like a lost
            // response, until `status` finds its runs or their absence.
            AdhocOutcome::Rejected { status, body } if matches!(status, 500 | 502 | 504) => {
                let message = format!(
                    "HTTP {status}: {}",
                    error_message(&body).unwrap_or("no error message")
                );
                job.mark_unknown(run, JobError::answer(status, message.clone(), body))?;
                Some(Outcome::Unknown { job: j, message })
            }
            AdhocOutcome::Rejected { status, body } => {
                let message =
                    error_message(&body).map_or_else(|| format!("HTTP {status}"), str::to_owned);
                job.mark_rejected(run, JobError::answer(status, message.clone(), body))?;
                Some(Outcome::Rejected {
                    job: j,
                    message: format!("HTTP {status}: {message}"),
                    // "Run already going on", and rate limiting or unavailability that outlasted
                    // the retries, clear by themselves.
                    temporary: going || matches!(status, 429 | 503),
                    help: if going {
                        "a run for one of these segments is still going: wait for it (`aepact status --wait`) and apply again"
                    } else if matches!(status, 429 | 503) {
                        "the platform is busy and kept refusing after the retries; nothing was activated: apply again later"
                    } else {
                        "fix the plan or the dataflow, then bump `run` to send the plan again"
                    },
                })
            }
            AdhocOutcome::NotSent { error } => {
                // Nothing left this machine: nothing was activated.
                let message = format!("not sent: {error}");
                job.mark_rejected(run, JobError::no_answer(message.clone()))?;
                Some(Outcome::Rejected {
                    job: j,
                    message,
                    temporary: false,
                    help: "nothing left this machine, so nothing was activated: fix the connection or credentials and apply again",
                })
            }
            AdhocOutcome::Unknown { error } => {
                let message = error.to_string();
                job.mark_unknown(run, JobError::no_answer(message.clone()))?;
                Some(Outcome::Unknown { job: j, message })
            }
        };
        ledger.save()?;
        if let Some(stop) = result {
            return Ok(stop);
        }
        test_pause("job", j);
    }
    Ok(Outcome::Submitted {
        run: plan.run,
        orders,
    })
}

/// The outcome's name for logs (its details go to the lockfile and the terminal).
fn outcome_name(outcome: &AdhocOutcome) -> &'static str {
    match outcome {
        AdhocOutcome::Accepted(_) => "submitted",
        AdhocOutcome::Rejected { .. } => "rejected",
        AdhocOutcome::NotSent { .. } => "not sent",
        AdhocOutcome::Unknown { .. } => "unknown (response lost)",
    }
}
