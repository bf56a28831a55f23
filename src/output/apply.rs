//! `apply` output: the plan it carries out (as `plan` shows it), then what became of each plan
//! sent, for people or as one JSON document.

use serde::Serialize;

use super::plural;
use crate::execute::Outcome;
use crate::planner::model::{PlanSet, PlannedPlan};
use crate::time::rfc3339;

/// One line (or two) for people about one plan's outcome.
pub(crate) fn outcome(outcome: &Outcome, plan: &PlannedPlan) -> String {
    let name = &plan.name;
    match outcome {
        Outcome::Submitted { run, orders } => format!(
            "applied `{name}` (run {run}): {} submitted, recorded in `{}`\n",
            plural(*orders, "order", "orders"),
            plan.lockfile
        ),
        Outcome::AlreadyApplied { run, applied_at } => {
            format!("`{name}` already applied (run {run} at {applied_at}): nothing sent\n")
        }
        Outcome::Stale { reason } => {
            format!("refused `{name}`: {reason}\n  help: run `aepact plan` again and review it\n")
        }
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

/// When every plan is applied already (or refused for nothing: there is none to send).
pub(crate) const NOTHING_TO_APPLY: &str = "Nothing to apply.\n";

/// `apply` without `--auto-approve` and without a terminal to ask on.
pub(crate) const NO_TERMINAL: &str = "refused: not applying without confirmation, and there is no terminal to ask on\n  help: pass `--auto-approve` to apply from a script or pipeline\n";

/// The confirmation question.
pub(crate) fn question(plans: usize) -> String {
    format!(
        "\nApply {}? Only `yes` is accepted: ",
        plural(plans, "plan", "plans")
    )
}

/// Anything but `yes`.
pub(crate) const CANCELLED: &str = "Apply cancelled: nothing was sent.\n";

/// A saved plan refused as stale, for people.
pub(crate) fn stale(reason: &str, style: super::Style) -> String {
    format!(
        "{}: the saved plan is stale: {reason}\n  help: run `aepact plan --out FILE` again, review it, and apply the new file\n",
        style.paint(super::style::strong(), "refused"),
    )
}

/// What `apply --wait-for-clear` prints while it waits: each plan still refused and what for,
/// then when it checks again (or when the plan clears, when that is known) and when it gives
/// up, on the platform's clock.
pub(crate) fn waiting(
    plans: &[(&str, Vec<&str>)],
    next: i64,
    known: bool,
    gives_up: i64,
) -> String {
    let mut out = String::new();
    for (name, what) in plans {
        out.push_str(&format!(
            "waiting for `{name}`: {}\n",
            super::escape_controls(&what.join("; "))
        ));
    }
    let when = if known {
        "clears at"
    } else {
        "checking again at"
    };
    out.push_str(&format!(
        "  {when} {}, giving up at {}\n",
        rfc3339(next),
        rfc3339(gives_up)
    ));
    out
}

/// A check of `apply --wait-for-clear` found plans clear: they are applied now.
pub(crate) fn cleared(plans: usize, after: std::time::Duration) -> String {
    format!(
        "\nclear after {}: applying {}\n\n",
        crate::time::duration_text(std::time::Duration::from_secs(after.as_secs().max(1))),
        plural(plans, "plan", "plans")
    )
}

/// `apply --wait-for-clear` ran out of time, or no plan can clear before it does (exit 75):
/// what still blocks each plan. `left` is the time the wait still had: when some, the plans
/// clear only after the deadline and it did not wait for them.
pub(crate) fn gave_up(
    limit: std::time::Duration,
    left: std::time::Duration,
    plans: &[(&str, Vec<&str>)],
) -> String {
    let plans_text = plural(plans.len(), "plan", "plans");
    let limit_text = crate::time::duration_text(limit);
    let mut out = if left.is_zero() {
        format!(
            "gave up waiting after {limit_text}: {plans_text} still refused for reasons that clear by themselves\n"
        )
    } else {
        let waited = limit.saturating_sub(left);
        let when = if waited.as_secs() == 0 {
            "at once".to_owned()
        } else {
            format!(
                "waiting after {}",
                crate::time::duration_text(std::time::Duration::from_secs(waited.as_secs()))
            )
        };
        format!(
            "gave up {when}: {plans_text} still refused, clearing only after the {limit_text} of `--wait-for-clear`\n"
        )
    };
    for (name, what) in plans {
        out.push_str(&format!(
            "  `{name}`: {}\n",
            super::escape_controls(&what.join("; "))
        ));
    }
    out.push_str("  help: nothing was sent for them; apply again later, or wait longer with `--wait-for-clear=DURATION`\n");
    out
}

/// Ctrl-C or SIGTERM while `apply --wait-for-clear` waited.
pub(crate) fn interrupted(plans: usize) -> String {
    format!(
        "interrupted while waiting: {} not applied, nothing was sent for {}\n",
        plural(plans, "plan", "plans"),
        if plans == 1 { "it" } else { "them" }
    )
}

/// Everything one `apply` did, for `--format json`.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The decision carried out (absent when the command stopped before deciding).
    pub(crate) set: Option<PlanSet>,
    /// Why a saved plan was refused as stale.
    pub(crate) stale: Option<String>,
    /// Each plan sent, in order, and what became of it.
    pub(crate) results: Vec<(PlannedPlan, Outcome)>,
    /// `--wait-for-clear` gave up with plans still refused.
    pub(crate) timed_out: bool,
    /// `--wait-for-clear` was stopped by Ctrl-C or SIGTERM.
    pub(crate) interrupted: bool,
}

impl Report {
    /// Records the decision carried out: each plan as it was when sent (its path in `sent`),
    /// the others as the latest check found them.
    pub(crate) fn carry(&mut self, set: &PlanSet, sent: &[String]) {
        let mut carried = set.clone();
        if let Some(before) = &self.set {
            for plan in &mut carried.plans {
                if let Some(old) = before
                    .plans
                    .iter()
                    .find(|o| o.path == plan.path && sent.contains(&o.path))
                {
                    *plan = old.clone();
                }
            }
        }
        self.set = Some(carried);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    aepact_apply_version: u32,
    ok: bool,
    exit_code: i32,
    plan: Option<&'a PlanSet>,
    stale: Option<&'a str>,
    results: Vec<Result<'a>>,
    /// Only with `--wait-for-clear`, and only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    timed_out: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
    error: Option<&'a super::error::ErrorDoc>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Result<'a> {
    plan: &'a str,
    path: &'a str,
    lockfile: &'a str,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

/// The version of the `apply --format json` document.
pub(crate) const APPLY_JSON_VERSION: u32 = 1;

/// `apply --format json`: one document, also when the command failed (`ok: false`, `error`).
pub(crate) fn json(report: &Report, ending: &super::error::Ending) -> String {
    let doc = Document {
        aepact_apply_version: APPLY_JSON_VERSION,
        ok: ending.exit == 0,
        exit_code: ending.exit,
        plan: report.set.as_ref(),
        stale: report.stale.as_deref(),
        results: report
            .results
            .iter()
            .map(|(p, outcome)| Result {
                plan: &p.name,
                path: &p.path,
                lockfile: &p.lockfile,
                outcome,
            })
            .collect(),
        timed_out: report.timed_out,
        interrupted: report.interrupted,
        error: ending.error.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("invariant: reports serialise");
    text.push('\n');
    text
}

/// The progress of `apply --wait-for-clear`: on a terminal a spinner saying when it checks
/// again, and a line per plan when what it waits for changes; elsewhere (logs, pipelines) the
/// lines when that changes and at most once a minute when nothing does. On stderr with
/// `--format json`, whose stdout is the one document.
pub(crate) struct Progress {
    human: bool,
    terminal: bool,
    /// The spinner of the pause under way, if any.
    bar: Option<indicatif::ProgressBar>,
    last: String,
    said: std::time::Instant,
}

impl Progress {
    pub(crate) fn new(human: bool) -> Self {
        use std::io::IsTerminal;
        Progress {
            human,
            terminal: if human {
                std::io::stdout().is_terminal()
            } else {
                std::io::stderr().is_terminal()
            },
            bar: None,
            last: String::new(),
            said: std::time::Instant::now(),
        }
    }

    fn write(&self, text: &str) -> crate::error::Result<()> {
        if self.human {
            super::write_stdout(text)
        } else {
            super::write_stderr(text)
        }
    }

    /// Says what the wait is for, before a pause until `next`.
    pub(crate) fn waiting(
        &mut self,
        plans: &[(&str, Vec<&str>)],
        next: i64,
        known: bool,
        gives_up: i64,
    ) -> crate::error::Result<()> {
        let what = waiting(plans, 0, known, 0);
        if what != self.last || (!self.terminal && self.said.elapsed() >= crate::wait::HEARTBEAT) {
            self.write(&waiting(plans, next, known, gives_up))?;
            self.last = what;
            self.said = std::time::Instant::now();
        }
        if self.terminal {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!(
                "waiting for {}: {} {}, giving up at {}",
                plural(plans.len(), "plan", "plans"),
                if known {
                    "clears at"
                } else {
                    "checking again at"
                },
                rfc3339(next),
                rfc3339(gives_up)
            ));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            self.bar = Some(bar);
        }
        Ok(())
    }

    /// The pause is over: the spinner goes, so that what comes next prints cleanly.
    pub(crate) fn checking(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Says `text` once the wait is over.
    pub(crate) fn done(&mut self, text: &str) -> crate::error::Result<()> {
        self.checking();
        self.write(text)
    }
}
