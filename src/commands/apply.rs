//! `aepact apply`: check and decide as `plan` does, confirm, then send each plan to apply
//! exactly once ([`crate::execute`]) and report what became of it.
//!
//! Every plan's exclusive lock is taken before planning and held to the end. Plans that share
//! a segment with a plan sent before them are refused by the decision itself (exit 75), since
//! the platform runs one ad-hoc job per segment at a time.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use crate::Exit;
use crate::cli::{ApplyArgs, OutputFormat};
use crate::commands::online;
use crate::error::{Error, Result};
use crate::execute::{self, Outcome, Sending};
use crate::lockfile::LockGuard;
use crate::output::{self, Style};
use crate::planner::model::PlannedPlan;
use crate::planner::resolve::resolve;
use crate::planner::saved;

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
    let before = || -> Result<_> {
        let connection = online::connect(&args.emulator, &args.client)?;
        // Every plan's lock, for the whole apply (planning included): a second apply of the
        // same plans waits here, then finds the intent applied. Taken in file order, so two
        // applies of overlapping plan sets cannot deadlock.
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
        let rules = online::rules(&args.witness, options, saved.as_ref());
        let set = runtime.block_on(resolve(
            &connection.client,
            &connection.target,
            &plans,
            &rules,
        ))?;
        Ok((connection, guards, runtime, set))
    };
    let (connection, guards, runtime, set) = before().map_err(Error::before_sending)?;
    if let Some(saved) = &saved
        && let Some(reason) = saved::stale_reason(saved, &set)
    {
        say(&output::apply::stale(&reason, style))?;
        report.stale = Some(reason);
        return Ok(Exit::Failure);
    }
    say(&output::plan::human(&set, style))?;
    let mut exit = set.exit();
    let to_apply: Vec<&PlannedPlan> = set.plans.iter().filter(|p| p.to_apply()).collect();
    report.set = Some(set.clone());
    if to_apply.is_empty() {
        if exit == Exit::Success {
            say(output::apply::NOTHING_TO_APPLY)?;
        }
        return Ok(exit);
    }
    if !args.auto_approve && !confirm(to_apply.len(), human)? {
        return Ok(Exit::Failure);
    }
    let sending = Sending {
        client: &connection.client,
        endpoint: &set.endpoint,
        org: &set.org,
        version: options.api_version,
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
    let sent = runtime.block_on(execute::apply_all(
        &sending,
        &work,
        args.client.concurrency,
        |index, outcome: Outcome| {
            let planned = work[index].0;
            if said.is_ok() {
                said = say(&output::apply::outcome(&outcome, planned));
            }
            exit = exit.worse(outcome.exit());
            report.results.push((planned.clone(), outcome));
        },
    ));
    sent?;
    said?;
    Ok(exit)
}

/// Asks for `yes` on a terminal. Without one (and without `--auto-approve`) it refuses: a
/// pipeline must say `--auto-approve` to send anything.
fn confirm(plans: usize, human: bool) -> Result<bool> {
    // With `--format json`, stdout is kept for the one JSON document.
    let say = |text: &str| {
        if human {
            output::write_stdout(text)
        } else {
            output::write_stderr(text)
        }
    };
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        say(output::apply::NO_TERMINAL)?;
        return Ok(false);
    }
    say(&output::apply::question(plans))?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|source| Error::Io {
            doing: "read the answer from",
            path: "the terminal".into(),
            source,
        })?;
    if answer.trim() == "yes" {
        Ok(true)
    } else {
        say(output::apply::CANCELLED)?;
        Ok(false)
    }
}
