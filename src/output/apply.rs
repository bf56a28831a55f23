//! `apply` output: the plan it carries out (as `plan` shows it), then what became of each plan
//! sent, for people or as one JSON document.

use serde::Serialize;

use super::plural;
use crate::execute::Outcome;
use crate::planner::model::{PlanSet, PlannedPlan};

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

/// Everything one `apply` did, for `--format json`.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The decision carried out (absent when the command stopped before deciding).
    pub(crate) set: Option<PlanSet>,
    /// Why a saved plan was refused as stale.
    pub(crate) stale: Option<String>,
    /// Each plan sent, in order, and what became of it.
    pub(crate) results: Vec<(PlannedPlan, Outcome)>,
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
        error: ending.error.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("invariant: reports serialise");
    text.push('\n');
    text
}
