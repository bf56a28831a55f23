//! `aepact apply`: check and decide as `plan` does, confirm, then send each plan to apply
//! exactly once ([`crate::execute`]) and report what became of it.
//!
//! Every plan's exclusive lock is taken before planning and held until the plans are sent.
//! Plans that share a segment with a plan sent before them are refused by the decision itself
//! (exit 75), since the platform runs one ad-hoc job per segment at a time.
//!
//! `--wait-for-clear`: when every refusal clears by itself ([`PlannedPlan::clearing`]), the
//! plans that are clear are sent, the locks let go, and after a pause ([`crate::wait`]) it all
//! happens again as in a fresh apply (locks, resolve, decide, and a saved plan checked for
//! staleness), until every plan is sent or the time is up (exit 75).

use std::path::PathBuf;
use std::time::Duration;

use crate::Exit;
use crate::cli::{ApplyArgs, OutputFormat};
use crate::commands::online;
use crate::error::{Error, Result};
use crate::execute::{self, Outcome, Sending};
use crate::output::{self, Style};
use crate::planner::decide::Clearing;
use crate::planner::model::PlannedPlan;
use crate::planner::saved;
use crate::wait::{ClearWait, Next, Signals};

mod steps;

pub(crate) fn run(args: &ApplyArgs, style: Style) -> Result<Exit> {
    online::reporting(
        args.format == OutputFormat::Json,
        |report| apply(args, style, report),
        output::apply::json,
    )
}

fn apply(args: &ApplyArgs, style: Style, report: &mut output::apply::Report) -> Result<Exit> {
    let human = args.format == OutputFormat::Human;
    // With `--format json`, stdout is kept for the one document at the end.
    let say = |text: &str| output::write_stdout_if(human, text);
    let mut options = args.guardrails.options();
    let saved = saved::load(&args.paths)?;
    let paths: Vec<PathBuf> = match &saved {
        Some(set) => {
            // A saved plan is applied with the options it was made with.
            options.api_version = set.api_version;
            options.max_segments_per_job = Some(set.max_segments_per_job);
            options.split = set.split;
            set.plans.iter().map(|p| PathBuf::from(&p.path)).collect()
        }
        None => args.paths.clone(),
    };
    let Some(plans) =
        online::checked_plans(&paths, &options, args.guardrails.policy(), style, human)?
    else {
        return Ok(Exit::Failure);
    };
    if plans
        .iter()
        .any(|p| p.file.as_os_str() == crate::plan::read::STDIN)
    {
        return Err(Error::StdinPlan);
    }
    let connect = || {
        Ok::<_, Error>((
            online::connect(&args.emulator, &args.client)?,
            online::runtime()?,
        ))
    };
    let (connection, runtime) = connect().map_err(Error::before_sending)?;
    let rules = online::rules(&args.witness, options, saved.as_ref());
    let mut wait = args.wait_for_clear.map(ClearWait::new);
    let signals = wait.is_some().then(|| runtime.block_on(Signals::listen()));
    let mut progress = output::apply::Progress::new(human);
    let (mut exit, mut approved, mut first) = (Exit::Success, args.auto_approve, true);
    // The plans this apply sent (or found applied meanwhile), by path: not checked again.
    let mut sent: Vec<String> = Vec::new();
    // The lockfile digests this apply left on plans it recorded as refused for a while.
    let mut ours: Vec<(String, Option<String>)> = Vec::new();
    let applied_by = crate::lockfile::actor_from(|name| std::env::var(name).ok());
    loop {
        let checked = steps::check(args, &connection, &runtime, &plans, &rules);
        let (guards, set) = if report.results.is_empty() {
            checked.map_err(Error::before_sending)?
        } else {
            checked?
        };
        progress.checking();
        if let Some(saved) = &saved
            && let Some(reason) = saved::stale_reason(saved, &set, &sent, &ours)
        {
            say(&output::apply::stale(&reason, style))?;
            report.stale = Some(reason);
            return Ok(exit.worse(Exit::Failure));
        }
        report.carry(&set, &sent);
        let to_apply: Vec<&PlannedPlan> = set
            .plans
            .iter()
            .filter(|p| p.to_apply() && !sent.contains(&p.path))
            .collect();
        let waiting = wait.as_ref().and_then(|_| set.clearings(saved.as_ref()));
        let waits = waiting.as_ref().map_or(0, Vec::len);
        if first {
            say(&output::plan::human(&set, style))?;
        } else if !to_apply.is_empty() {
            let after = wait
                .as_ref()
                .map_or(Duration::ZERO, |w| w.limit() - w.remaining());
            say(&output::apply::cleared(to_apply.len(), after))?;
            for plan in &to_apply {
                say(&(output::plan::human_plan(plan, set.runs_read.since, style) + "\n"))?;
            }
        }
        if first && to_apply.is_empty() && waits == 0 {
            if set.exit() == Exit::Success {
                say(output::apply::NOTHING_TO_APPLY)?;
            }
            return Ok(set.exit());
        }
        first = false;
        if !approved && !steps::confirm(to_apply.len() + waits, human)? {
            return Ok(Exit::Failure);
        }
        approved = true;
        // Jobs the platform refused for a while ("Run already going on", 429 or 503 after the
        // retries): nothing of them started, so the next check may send them again.
        let mut again: Vec<(String, String)> = Vec::new();
        if !to_apply.is_empty() {
            let sending = Sending {
                client: &connection.client,
                endpoint: &set.endpoint,
                org: &set.org,
                version: options.api_version,
                applied_by: applied_by.as_deref(),
            };
            // Side by side, as many at once as `--concurrency` (`1`: one after the other).
            let work: Vec<_> = to_apply
                .iter()
                .filter_map(|planned| {
                    let plan = plans.iter().find(|p| *p.path == *planned.path)?;
                    Some((*planned, plan, guards.get(&*plan.file)?))
                })
                .collect();
            let mut said = Ok(());
            // (plan path, lockfile) of the jobs refused for a while in this round.
            let mut refused: Vec<(String, String)> = Vec::new();
            let done = runtime.block_on(execute::apply_all(
                &sending,
                &work,
                args.client.concurrency,
                |index, outcome: Outcome| {
                    let planned = work[index].0;
                    if said.is_ok() {
                        said = say(&output::apply::outcome(&outcome, planned));
                    }
                    match &outcome {
                        Outcome::Rejected {
                            temporary: true,
                            message,
                            ..
                        } if waiting.is_some() => {
                            again.push((planned.name.clone(), message.clone()));
                            refused.push((planned.path.clone(), planned.lockfile.clone()));
                        }
                        Outcome::Submitted { .. } | Outcome::AlreadyApplied { .. } => {
                            sent.push(planned.path.clone());
                        }
                        _ => exit = exit.worse(outcome.exit()),
                    }
                    report.results.push((planned.clone(), outcome));
                },
            ));
            done?;
            said?;
            for (path, lockfile) in refused {
                let left = crate::planner::resolve::digest_of(std::path::Path::new(&lockfile))?;
                ours.retain(|(p, _)| *p != path);
                ours.push((path, left));
            }
        }
        drop(guards);
        // `waiting` is only there with `--wait-for-clear`.
        let (Some(waiting), Some(wait)) =
            (waiting.filter(|_| exit != Exit::Failure), wait.as_mut())
        else {
            return Ok(exit.worse(set.exit()));
        };
        if waiting.is_empty() && again.is_empty() {
            return Ok(exit);
        }
        let mut blocked: Vec<(&str, Vec<&str>)> = waiting
            .iter()
            .map(|(p, _)| {
                (
                    p.name.as_str(),
                    p.reasons().iter().map(|r| r.waits_for()).collect(),
                )
            })
            .collect();
        blocked.extend(
            again
                .iter()
                .map(|(name, why)| (name.as_str(), vec![why.as_str()])),
        );
        let mut clearings: Vec<Clearing> = waiting.iter().map(|(_, c)| *c).collect();
        clearings.extend(again.iter().map(|_| Clearing::default()));
        let now = set.runs_read.platform_time;
        match wait.next(&clearings, now) {
            Next::GiveUp => {
                progress.done(&output::apply::gave_up(
                    wait.limit(),
                    wait.remaining(),
                    &blocked,
                ))?;
                report.timed_out = true;
                return Ok(exit.worse(Exit::TempFail));
            }
            Next::Check { pause, at, known } => {
                let gives_up = now + i64::try_from(wait.remaining().as_millis()).unwrap_or(0);
                progress.waiting(&blocked, at, known, gives_up)?;
                if let Some(stop) = crate::wait::pause(&runtime, signals.as_ref(), pause) {
                    progress.done(&output::apply::interrupted(blocked.len()))?;
                    report.interrupted = true;
                    return Ok(exit.worse(stop));
                }
            }
        }
    }
}
