//! `status` output: a line per plan, the orders found lost, a summary; progress while
//! `--wait` waits; or one JSON document at the end.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::{Style, plural};
use crate::track::{PlanStatus, Tally};

/// No plan given has a lockfile (for this target).
pub(crate) const NO_LOCKFILES: &str =
    "No lockfiles found for these plans: nothing has been applied yet.\n";

/// One plan's line, and a line per order found lost, per order whose run failed or partly
/// failed (with the platform's errors), and per `expect` broken.
pub(crate) fn plan(path: &Path, status: &PlanStatus) -> String {
    let esc = super::escape_controls;
    let mut out = line(&status.tally, path);
    for failed in &status.failed_orders {
        let mut numbers = String::new();
        if let Some(output) = failed.output_records {
            numbers.push_str(&format!(
                ": {} exported",
                plural(output as usize, "record", "records")
            ));
            if let Some(f) = failed.failed_records {
                numbers.push_str(&format!(", {f} failed"));
            }
        }
        out.push_str(&format!(
            "  {}: segment `{}` to `{}` (run {}){numbers}\n",
            esc(&failed.status),
            esc(&failed.segment),
            esc(&failed.destination),
            failed.run,
        ));
        for error in &failed.errors {
            out.push_str(&format!("    {}\n", esc(&run_error(error))));
        }
    }
    for unexpected in &status.unexpected_orders {
        let what = match &unexpected.segment {
            Some(segment) => format!(
                "segment `{}` to `{}`",
                esc(segment),
                esc(&unexpected.destination)
            ),
            None => format!("destination `{}`", esc(&unexpected.destination)),
        };
        out.push_str(&format!(
            "  unexpected: {what} (run {}): {}\n",
            unexpected.run, unexpected.message
        ));
    }
    for lost in &status.lost_orders {
        out.push_str(&format!(
            "  lost: segment `{}` to `{}`: the platform does not know run `{}` (HTTP 404); it was not sent to this platform, or the platform dropped it\n",
            super::escape_controls(&lost.segment),
            super::escape_controls(&lost.destination),
            super::escape_controls(lost.run_id.as_deref().unwrap_or("?"))
        ));
    }
    out
}

/// A run error as recorded (`{code, message}`): `CODE: message`, or its JSON when it has
/// neither.
fn run_error(error: &serde_json::Value) -> String {
    let field = |key: &str| error.get(key).and_then(serde_json::Value::as_str);
    match (field("code"), field("message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => error.to_string(),
    }
}

fn line(tally: &Tally, plan: &Path) -> String {
    let mut line = format!(
        "{}: {} succeeded, {} failed, {} in flight",
        plan.display(),
        tally.succeeded,
        tally.failed,
        tally.in_flight
    );
    if tally.lost > 0 {
        line.push_str(&format!(", {} lost", tally.lost));
    }
    if tally.unexpected > 0 {
        line.push_str(&format!(", {} unexpected", tally.unexpected));
    }
    if tally.settled > 0 {
        line.push_str(&format!(
            ", {} settled from the platform's runs",
            plural(tally.settled, "job", "jobs")
        ));
    }
    if tally.in_doubt > 0 {
        line.push_str(&format!(
            ", {} not settled yet",
            plural(tally.in_doubt, "job", "jobs")
        ));
    }
    line.push('\n');
    line
}

/// The summary line over every plan.
pub(crate) fn summary(tally: &Tally, style: Style) -> String {
    let (red, green) = (super::style::bad(), super::style::good());
    let total = tally.total();
    let orders = plural(total, "order", "orders");
    let mut line = if tally.failed > 0 || tally.lost > 0 {
        let lost = format!(
            "{} (the platform does not know their runs)",
            style.paint(red, "lost")
        );
        match (tally.failed, tally.lost) {
            (f, 0) => format!("Status: {f} of {orders} {}.", style.paint(red, "failed")),
            (0, l) => format!("Status: {l} of {orders} {lost}."),
            (f, l) => format!(
                "Status: {f} of {orders} {}, {l} {lost}.",
                style.paint(red, "failed")
            ),
        }
    } else if tally.unexpected > 0 {
        format!(
            "Status: {} of {orders} {} (the numbers break the plan's `expect`).",
            tally.unexpected,
            style.paint(red, "unexpected")
        )
    } else if tally.in_flight > 0 {
        format!("Status: {} of {orders} in flight.", tally.in_flight)
    } else {
        format!("Status: all {orders} {}.", style.paint(green, "succeeded"))
    };
    if tally.unexpected > 0 && (tally.failed > 0 || tally.lost > 0) {
        line.push_str(&format!(
            " {} {} (the numbers break the plan's `expect`).",
            tally.unexpected,
            style.paint(red, "unexpected")
        ));
    }
    if tally.in_doubt > 0 {
        line.push_str(&format!(
            " {} not settled yet.",
            plural(tally.in_doubt, "job is", "jobs are")
        ));
    }
    line.push('\n');
    line
}

/// `--wait` on a non-terminal: how many orders are final, when that changed.
pub(crate) fn waiting(tally: &Tally) -> String {
    format!(
        "waiting: {} of {} final\n",
        tally.total() - tally.in_flight,
        plural(tally.total(), "order", "orders")
    )
}

/// `--wait` on a non-terminal, when nothing changed for a while: the same, with the time
/// waited so far.
pub(crate) fn heartbeat(tally: &Tally, elapsed: Duration) -> String {
    format!(
        "still waiting after {}: {} of {} final\n",
        crate::time::duration_text(Duration::from_secs(elapsed.as_secs())),
        tally.total() - tally.in_flight,
        plural(tally.total(), "order", "orders")
    )
}

/// `--wait` was stopped by a signal.
pub(crate) fn interrupted(tally: &Tally) -> String {
    format!(
        "interrupted with {} still in flight; what was polled is recorded in the lockfiles\n  help: run `aepact status --wait` again to follow them\n",
        plural(tally.in_flight + tally.in_doubt, "order", "orders")
    )
}

/// `--wait` gave up.
pub(crate) fn timed_out(tally: &Tally, waited: Duration) -> String {
    format!(
        "timed out after {} with {} still in flight\n  help: run `aepact status --wait` again later\n",
        crate::time::duration_text(waited),
        plural(tally.in_flight + tally.in_doubt, "order", "orders")
    )
}

/// The version of the `status --format json` document.
pub(crate) const STATUS_JSON_VERSION: u32 = 1;

/// Everything one `status` found, for `--format json`.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Each plan with a lockfile: its path, its lockfile and what the last poll found.
    pub(crate) plans: Vec<(String, String, PlanStatus)>,
    pub(crate) timed_out: bool,
    /// Whether a signal (Ctrl-C, SIGTERM) stopped `--wait`.
    pub(crate) interrupted: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    aepact_status_version: u32,
    ok: bool,
    exit_code: i32,
    timed_out: bool,
    interrupted: bool,
    totals: Tally,
    plans: Vec<PlanDoc<'a>>,
    error: Option<&'a super::error::ErrorDoc>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanDoc<'a> {
    path: &'a str,
    lockfile: &'a str,
    #[serde(flatten)]
    status: &'a PlanStatus,
}

/// `status --format json`: one document, also when the command failed (`ok: false`, `error`).
pub(crate) fn json(report: &Report, ending: &super::error::Ending) -> String {
    let mut totals = Tally::default();
    for (_, _, status) in &report.plans {
        totals.add(&status.tally);
    }
    let doc = Document {
        aepact_status_version: STATUS_JSON_VERSION,
        ok: ending.exit == 0,
        exit_code: ending.exit,
        timed_out: report.timed_out,
        interrupted: report.interrupted,
        totals,
        plans: report
            .plans
            .iter()
            .map(|(path, lockfile, status)| PlanDoc {
                path,
                lockfile,
                status,
            })
            .collect(),
        error: ending.error.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("invariant: reports serialise");
    text.push('\n');
    text
}
