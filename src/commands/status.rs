//! `aepact status`: poll the orders recorded in the lockfiles and record what the platform says
//! ([`crate::track`]); `--wait` repeats until every order is final.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use crate::Exit;
use crate::cli::{OutputFormat, StatusArgs};
use crate::commands::online;
use crate::error::Result;
use crate::output::{self, Style};
use crate::plan::CheckOptions;
use crate::policy::PolicyChoice;
use crate::track::{self, Tally, Tracked};
use crate::wait::{Backoff, HEARTBEAT, Signals};

pub(crate) fn run(args: &StatusArgs, style: Style) -> Result<Exit> {
    online::reporting(
        args.format == OutputFormat::Json,
        |report| status(args, style, report),
        output::status::json,
    )
}

fn status(args: &StatusArgs, style: Style, report: &mut output::status::Report) -> Result<Exit> {
    let human = args.format == OutputFormat::Human;
    // With `--format json`, stdout is kept for the one document at the end.
    let say = |text: &str| output::write_stdout_if(human, text);
    // The same offline checks as every online command. A plan packed into several jobs was
    // applied with `--split`; status sends nothing, so the segment limit does not apply here.
    let options = CheckOptions {
        split: true,
        ..CheckOptions::default()
    };
    let Some(checked) =
        online::checked_plans(&args.paths, &options, PolicyChoice::Off, style, human)?
    else {
        return Ok(Exit::Failure);
    };
    let connection = online::connect(&args.emulator, &args.client)?;
    let (client, target) = (&connection.client, &connection.target);
    // Each plan with a lockfile (this target's).
    let plans: Vec<Tracked> = checked
        .into_iter()
        .map(|plan| Tracked {
            lockfile: target.lockfile_for(&plan.file),
            plan,
        })
        .filter(|t| t.lockfile.exists())
        .collect();
    if plans.is_empty() {
        say(output::status::NO_LOCKFILES)?;
        return Ok(Exit::Success);
    }
    let runtime = online::runtime()?;
    // A progress bar on a terminal; lines otherwise (logs, pipelines), when something changed
    // and at most once a minute when nothing did.
    let bar = (human && args.wait && std::io::stdout().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} orders final {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    // Ctrl-C and SIGTERM while waiting: the poll under way finishes writing, then the command
    // says what was recorded and exits 130 or 143, as a shell expects of an interrupted command.
    let signals = args.wait.then(|| runtime.block_on(Signals::listen()));
    let started = Instant::now();
    // Frequent while the runs are young, then slower: 2 s doubling to a minute between polls,
    // each poll one listing per sandbox for all the orders.
    let mut backoff = Backoff::new();
    let mut last: Option<Tally> = None;
    let mut said = Instant::now();
    loop {
        let mut tally = Tally::default();
        let mut lines = String::new();
        report.plans.clear();
        let listed = runtime.block_on(track::Listed::read(client, &plans))?;
        for plan in &plans {
            let found = runtime.block_on(track::poll_plan(
                client,
                target,
                plan,
                args.lock_timeout,
                &listed,
            ))?;
            lines.push_str(&output::status::plan(Path::new(&*plan.plan.path), &found));
            tally.add(&found.tally);
            report.plans.push((
                plan.plan.path.to_string(),
                plan.lockfile.display().to_string(),
                found,
            ));
        }
        // Lost orders are not waited for: the platform will not tell more about them.
        let done = tally.in_flight == 0 && tally.in_doubt == 0;
        let timed_out = !done && args.wait && started.elapsed() >= args.timeout;
        if let Some(bar) = &bar {
            bar.set_length(tally.total() as u64);
            bar.set_position((tally.total() - tally.in_flight) as u64);
            bar.set_message(format!("({} failed)", tally.failed));
            if done || timed_out {
                bar.finish_and_clear();
            }
        }
        if done || !args.wait || timed_out {
            say(&lines)?;
            say(&output::status::summary(&tally, style))?;
            if timed_out {
                report.timed_out = true;
                say(&output::status::timed_out(&tally, args.timeout))?;
                return Ok(Exit::TempFail);
            }
            return Ok(tally.exit());
        }
        if bar.is_none() {
            let changed =
                last.is_none_or(|l| (l.total(), l.in_flight) != (tally.total(), tally.in_flight));
            if changed {
                say(&output::status::waiting(&tally))?;
                said = Instant::now();
            } else if said.elapsed() >= HEARTBEAT {
                say(&output::status::heartbeat(&tally, started.elapsed()))?;
                said = Instant::now();
            }
        }
        last = Some(tally);
        let pause = backoff
            .peek()
            .min(args.timeout.saturating_sub(started.elapsed()));
        let stopped = crate::wait::pause(&runtime, signals.as_ref(), pause);
        if let Some(exit) = stopped {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            say(&lines)?;
            say(&output::status::summary(&tally, style))?;
            say(&output::status::interrupted(&tally))?;
            report.interrupted = true;
            return Ok(exit);
        }
        backoff.advance();
    }
}
