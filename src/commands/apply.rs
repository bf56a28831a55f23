//! `aepact apply`: submit the plans' jobs, exactly once, with every step recorded first.
//!
//! Every plan's exclusive lock is taken before planning and held to the end. For each plan with
//! something to apply:
//! 1. the lockfile must be the one the plan was made against (else another apply got there
//!    first: "already applied", or stale);
//! 2. a run is appended with every job `pending`, and saved;
//! 3. per job: its `sentAt` is saved, the POST is sent, and the outcome (`submitted` with the
//!    orders, `rejected` with the platform's error, or `unknown` when the response was lost or
//!    was a 500/502/504) is saved before the next job. A job in doubt is never retried:
//!    `status` settles it.
//!
//! Plans of one invocation that share a segment are never sent together: the later one is
//! refused up front (exit 75), since the platform runs one ad-hoc job per segment at a time.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Exit;
use crate::api::{AdhocOutcome, Client};
use crate::cli::ApplyArgs;
use crate::commands::online;
use crate::error::Result;
use crate::lockfile::{
    ExportsRecord, JobError, JobRef, Ledger, LockGuard, NewOrder, NewRun, OverriddenRun,
    RunOverride, Timestamp,
};
use crate::output::{self, Style};
use crate::plan::request::activation_pairs;
use crate::plan::{AdhocApiVersion, Plan};
use crate::planner::model::{PlanSet, PlannedPlan, SAVED_PLAN_VERSION, Verdict};
use crate::planner::resolve::resolve;

pub fn run(args: &ApplyArgs, style: Style) -> Result<Exit> {
    let mut options = args.guardrails.options();
    let saved = load_saved_plan(&args.paths)?;
    let paths: Vec<PathBuf> = match &saved {
        Some(set) => {
            // A saved plan is applied with the options it was made with.
            options.api_version = if set.api_version == 2 {
                AdhocApiVersion::V2
            } else {
                AdhocApiVersion::V1
            };
            options.max_segments_per_job = Some(set.max_segments_per_job);
            options.split = set.split;
            set.plans.iter().map(|p| PathBuf::from(&p.path)).collect()
        }
        None => args.paths.clone(),
    };
    let Some(plans) = online::checked_plans(&paths, &options, style, true)? else {
        return Ok(Exit::Failure);
    };
    let connection = online::connect(&args.emulator)?;
    let (client, target) = (&connection.client, &connection.target);
    // Every plan's lock, for the whole apply (planning included): a second apply of the same
    // plans waits here, then finds the intent applied. Taken in file order, so two applies of
    // overlapping plan sets cannot deadlock.
    let mut files: Vec<&Path> = plans.iter().map(|p| &*p.file).collect();
    files.sort();
    files.dedup();
    let mut guards: HashMap<PathBuf, LockGuard> = HashMap::new();
    for file in files {
        guards.insert(
            file.to_owned(),
            LockGuard::acquire(file, args.lock_timeout)?,
        );
    }
    let runtime = online::runtime()?;
    runtime.block_on(async {
        let rules = args.witness.rules(options, saved.as_ref());
        let set = resolve(client, target, &plans, &rules).await?;
        if let Some(saved) = &saved
            && let Some(reason) = stale_reason(saved, &set)
        {
            output::write_stdout(&format!(
                "{}: the saved plan is stale: {reason}\n  help: run `aepact plan --out FILE` again, review it, and apply the new file\n",
                style.paint(anstyle::Style::new().bold(), "refused"),
            ))?;
            return Ok(Exit::Failure);
        }
        output::write_stdout(&output::plan::human(&set, style))?;
        let mut exit = set.exit();
        let to_apply: Vec<&PlannedPlan> = set.plans.iter().filter(|p| p.to_apply()).collect();
        if to_apply.is_empty() {
            if exit == Exit::Success {
                output::write_stdout("Nothing to apply.\n")?;
            }
            return Ok(exit);
        }
        if !args.auto_approve && !confirm(to_apply.len())? {
            return Ok(Exit::Failure);
        }
        for planned in to_apply {
            let Some(plan) = plans.iter().find(|p| *p.path == *planned.path) else {
                continue;
            };
            let Some(guard) = guards.get(&*plan.file) else {
                continue;
            };
            let sending = Sending {
                client,
                endpoint: &set.endpoint,
                org: &set.org,
                version: options.api_version,
            };
            let outcome = apply_one(&sending, planned, plan, guard).await?;
            output::write_stdout(&outcome.describe(planned))?;
            let failed = outcome.exit() != Exit::Success;
            exit = worse(exit, outcome.exit());
            if failed {
                // Stop at the first plan that did not go through: later plans may depend on
                // it, and the user has something to look at first.
                break;
            }
        }
        Ok(exit)
    })
}

/// Where and how the jobs of this apply are sent.
struct Sending<'a> {
    client: &'a Arc<Client>,
    /// What runs record as their target.
    endpoint: &'a str,
    org: &'a str,
    version: AdhocApiVersion,
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

/// What happened to one plan.
enum Outcome {
    /// Every job submitted.
    Submitted { run: u64, orders: usize },
    /// Another apply recorded this intent meanwhile.
    AlreadyApplied { run: u64, applied_at: String },
    /// The lockfile changed since planning, or a job would resend what this intent activated.
    Stale(String),
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
    fn exit(&self) -> Exit {
        match self {
            Outcome::Submitted { .. } | Outcome::AlreadyApplied { .. } => Exit::Success,
            Outcome::Rejected {
                temporary: true, ..
            } => Exit::TempFail,
            Outcome::Stale(_) | Outcome::Rejected { .. } | Outcome::Unknown { .. } => Exit::Failure,
        }
    }

    fn describe(&self, plan: &PlannedPlan) -> String {
        let name = &plan.name;
        match self {
            Outcome::Submitted { run, orders } => format!(
                "applied `{name}` (run {run}): {} submitted, recorded in `{}`\n",
                output::plural(*orders, "order", "orders"),
                plan.lockfile
            ),
            Outcome::AlreadyApplied { run, applied_at } => {
                format!("`{name}` already applied (run {run} at {applied_at}): nothing sent\n")
            }
            Outcome::Stale(reason) => format!(
                "refused `{name}`: {reason}\n  help: run `aepact plan` again and review it\n"
            ),
            Outcome::Rejected {
                job, message, help, ..
            } => {
                format!(
                    "the platform rejected job {} of `{name}`: {message}\n  help: {help}\n",
                    job + 1
                )
            }
            Outcome::Unknown { job, message } => format!(
                "the outcome of job {} of `{name}` is not known ({message}); it may be running and will not be sent again\n  help: run `aepact status {}` to find out what the platform did\n",
                job + 1,
                plan.path
            ),
        }
    }
}

fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Success | Exit::Changes => 0,
        Exit::TempFail => 1,
        Exit::Failure => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

async fn apply_one(
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
        return Ok(Outcome::Stale(format!(
            "`{}` changed since the plan was made (another apply or status ran)",
            path.display()
        )));
    }
    // Planning left out what this intent may already have activated (a resumed run); check
    // again here, under the lock, so a pair is never sent twice for one intent.
    let done = ledger
        .lockfile()
        .maybe_activated_pairs(&planned.intent_digest);
    if let Some((dest, segment)) = planned
        .jobs
        .iter()
        .find_map(|body| activation_pairs(body).find(|pair| done.contains(pair)))
    {
        return Ok(Outcome::Stale(format!(
            "segment `{segment}` to `{dest}` may already have been activated by a run of this intent; sending it again would activate it twice"
        )));
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
                    error_message(&body).unwrap_or_else(|| "no error message".into())
                );
                job.mark_unknown(
                    run,
                    JobError {
                        http_status: Some(status),
                        message: message.clone(),
                        body: Some(body),
                    },
                )?;
                Some(Outcome::Unknown { job: j, message })
            }
            AdhocOutcome::Rejected { status, body } => {
                let message = error_message(&body).unwrap_or_else(|| format!("HTTP {status}"));
                job.mark_rejected(
                    run,
                    JobError {
                        http_status: Some(status),
                        message: message.clone(),
                        body: Some(body),
                    },
                )?;
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
                job.mark_rejected(
                    run,
                    JobError {
                        http_status: None,
                        message: message.clone(),
                        body: None,
                    },
                )?;
                Some(Outcome::Rejected {
                    job: j,
                    message,
                    temporary: false,
                    help: "nothing left this machine, so nothing was activated: fix the connection or credentials and apply again",
                })
            }
            AdhocOutcome::Unknown { error } => {
                let message = error.to_string();
                job.mark_unknown(
                    run,
                    JobError {
                        http_status: None,
                        message: message.clone(),
                        body: None,
                    },
                )?;
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

/// The platform's one-line message from an error body (`detail`, `message` or `title`).
fn error_message(body: &serde_json::Value) -> Option<String> {
    ["detail", "message", "title", "error_description"]
        .iter()
        .find_map(|k| body.get(*k)?.as_str())
        .map(str::to_owned)
}

/// Asks for `yes` on a terminal. Without one (and without `--auto-approve`) it refuses: a
/// pipeline must say `--auto-approve` to send anything.
fn confirm(plans: usize) -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        output::write_stdout(
            "refused: not applying without confirmation, and there is no terminal to ask on\n  help: pass `--auto-approve` to apply from a script or pipeline\n",
        )?;
        return Ok(false);
    }
    output::write_stdout(&format!(
        "\nApply {}? Only `yes` is accepted: ",
        output::plural(plans, "plan", "plans")
    ))?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(crate::error::Error::Output)?;
    if answer.trim() == "yes" {
        Ok(true)
    } else {
        output::write_stdout("Apply cancelled: nothing was sent.\n")?;
        Ok(false)
    }
}

/// A saved plan, when `paths` is one file holding one (`plan --out`).
fn load_saved_plan(paths: &[PathBuf]) -> Result<Option<PlanSet>> {
    let [path] = paths else { return Ok(None) };
    if path.extension().is_none_or(|e| e != "json") || !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(crate::error::Error::Output)?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    if value.get("aepactPlanVersion").is_none() {
        return Ok(None);
    }
    match serde_json::from_value::<PlanSet>(value) {
        Ok(set) if set.aepact_plan_version == SAVED_PLAN_VERSION => Ok(Some(set)),
        Ok(set) => Err(crate::error::Error::SavedPlan(format!(
            "`{}` is a saved plan of format {}, which this aepact does not read (it reads {SAVED_PLAN_VERSION})",
            path.display(),
            set.aepact_plan_version
        ))),
        Err(e) => Err(crate::error::Error::SavedPlan(format!(
            "`{}` is not a valid saved plan: {e}",
            path.display()
        ))),
    }
}

/// Why a saved plan no longer matches what planning now finds, if it does not.
fn stale_reason(saved: &PlanSet, now: &PlanSet) -> Option<String> {
    if saved.endpoint != now.endpoint || saved.org != now.org {
        return Some(format!(
            "it was made for `{}` (org `{}`), not `{}` (org `{}`)",
            saved.endpoint, saved.org, now.endpoint, now.org
        ));
    }
    for old in &saved.plans {
        let Some(new) = now.plans.iter().find(|p| p.path == old.path) else {
            return Some(format!("plan `{}` is no longer found", old.path));
        };
        if old.verdict != Verdict::Apply && new.verdict == Verdict::Apply {
            return Some(format!(
                "plan `{}` was not to apply when the plan was made, and is now",
                old.name
            ));
        }
        if old.plan_digest != new.plan_digest {
            return Some(format!("the plan file `{}` changed", old.path));
        }
        if old.lockfile_digest != new.lockfile_digest {
            return Some(format!("the lockfile `{}` changed", old.lockfile));
        }
        if old.exports.ids != new.exports.ids {
            return Some(format!(
                "`exports: {}` of `{}` now resolves to {}, not {}",
                old.exports.spec,
                old.name,
                new.exports.ids.join(", "),
                old.exports.ids.join(", ")
            ));
        }
        if old.jobs != new.jobs || old.intent_digest != new.intent_digest {
            return Some(format!("the request bodies of `{}` changed", old.name));
        }
    }
    None
}
