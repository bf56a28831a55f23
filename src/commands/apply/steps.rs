//! The steps of `apply` that each check of a `--wait-for-clear` repeats or does once: taking
//! the locks and deciding (as a fresh apply), and asking for confirmation.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use crate::cli::ApplyArgs;
use crate::commands::online;
use crate::error::Result;
use crate::lockfile::LockGuard;
use crate::output;
use crate::plan::Plan;
use crate::planner::decide::Rules;
use crate::planner::model::PlanSet;
use crate::planner::resolve::resolve;

/// One check, as a fresh apply makes it: every plan's lock (a second apply of the same plans
/// waits here, then finds the intent applied; taken in file order, so two applies of
/// overlapping plan sets cannot deadlock), then the platform's facts and the verdicts.
pub(super) fn check(
    args: &ApplyArgs,
    connection: &online::Connection,
    runtime: &tokio::runtime::Runtime,
    plans: &[Plan],
    rules: &Rules<'_>,
) -> Result<(HashMap<PathBuf, LockGuard>, PlanSet)> {
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
    let set = runtime.block_on(resolve(
        &connection.client,
        &connection.target,
        plans,
        rules,
    ))?;
    Ok((guards, set))
}

/// Asks for `yes` on a terminal. Without one (and without `--auto-approve`) it refuses: a
/// pipeline must say `--auto-approve` to send anything.
pub(super) fn confirm(plans: usize, human: bool) -> Result<bool> {
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
        .map_err(|source| crate::error::Error::Io {
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
