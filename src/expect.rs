//! Proof of delivery: the plan's `expect` bounds against the numbers its finished runs
//! recorded (issue 11 §4). `status` calls [`check`] after each poll and marks the orders whose
//! numbers break the bounds `unexpected` (exit 1).
//!
//! Kept apart from `track` (which talks to the platform) because it is a pure comparison of
//! a checked plan with a lockfile: no I/O, testable on values.
//!
//! Which numbers count:
//! - an `expect` on a segment compares the records exported for that segment to that
//!   destination: the segment's own count when the run reports one
//!   (`metrics.segment.outputRecords`), else the run's `outputRecords`;
//! - an `expect` on a destination compares the records its runs exported in all: the sum of
//!   `outputRecords` over the distinct platform runs of its orders (one run may carry several
//!   segments, and is counted once), checked once every one of those orders has finished.
//!
//! Only the runs of the plan's current intent are compared (their `intentDigest` is the plan's,
//! as `apply` would compute it for the run's sandbox and API version): an earlier activation of
//! another version of the plan was made under other expectations. A lost order, or one whose
//! run reported no counts, is not compared.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::lockfile::{Lockfile, OrderRecord, OrderStatus};
use crate::plan::Plan;
use crate::plan::model::Expect;

/// An order (or a destination's orders) whose numbers break the plan's `expect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Unexpected {
    /// The destination dataflow.
    pub(crate) destination: String,
    /// The segment, for a segment's `expect`; `null` for a destination's (all its segments).
    pub(crate) segment: Option<String>,
    /// The plan's `run` number of the activation.
    pub(crate) run: u64,
    /// The records exported.
    pub(crate) exported: u64,
    pub(crate) min_records: Option<u64>,
    pub(crate) max_records: Option<u64>,
    /// In words: "exported 12 records, the plan expects at least 100".
    pub(crate) message: String,
}

/// An order, where it is in the lockfile (`(run, job, order)` indexes), and its plan `run`.
type Placed<'a> = ((usize, usize, usize), &'a OrderRecord, u64);

/// The breaches of `plan`'s expectations by the finished orders of `lockfile`, and, for each, the
/// orders it marks (`(run index, job index, order index)`), in lockfile order.
pub(crate) fn check(
    plan: &Plan,
    lockfile: &Lockfile,
) -> (Vec<Unexpected>, Vec<(usize, usize, usize)>) {
    let mut found = Vec::new();
    let mut marked = Vec::new();
    let expects = |d: &crate::plan::model::Destination| {
        d.expect.is_some() || d.segments.iter().any(|s| s.expect.is_some())
    };
    if !plan.destinations.iter().any(expects) {
        return (found, marked);
    }
    // Per destination: its orders of the current intent, and the run they belong to.
    let mut by_destination: BTreeMap<&str, Vec<Placed<'_>>> = BTreeMap::new();
    for (r, run) in lockfile.runs.iter().enumerate() {
        if plan.sandbox.as_deref().is_some_and(|s| s != run.sandbox)
            || crate::plan::request::intent_digest(plan, &run.sandbox, run.api_version)
                != run.intent_digest
        {
            continue;
        }
        for (j, job) in run.jobs.iter().enumerate() {
            for (o, order) in job.orders.iter().enumerate() {
                by_destination
                    .entry(order.order.as_str())
                    .or_default()
                    .push(((r, j, o), order, run.run));
                let expect = plan
                    .destinations
                    .iter()
                    .filter(|d| d.id.eq_ignore_ascii_case(&order.order))
                    .flat_map(|d| &d.segments)
                    .find(|s| s.id.eq_ignore_ascii_case(&order.segment))
                    .and_then(|s| s.expect);
                let (Some(expect), Some(exported)) = (expect, finished_count(order)) else {
                    continue;
                };
                if let Some(why) = expect.broken_by(exported) {
                    found.push(breach(
                        &order.order,
                        Some(&order.segment),
                        run.run,
                        exported,
                        expect,
                        &why,
                        "",
                    ));
                    marked.push((r, j, o));
                }
            }
        }
    }
    for dest in &plan.destinations {
        let Some(expect) = dest.expect else { continue };
        let Some((_, orders)) = by_destination
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(&dest.id))
        else {
            continue;
        };
        // Every order finished (lost ones left out), one count per platform run.
        let live: Vec<_> = orders
            .iter()
            .filter(|(_, o, _)| o.status != OrderStatus::Lost)
            .collect();
        if live.is_empty() || live.iter().any(|(_, o, _)| finished_count(o).is_none()) {
            continue;
        }
        let mut runs: BTreeMap<String, u64> = BTreeMap::new();
        for (_, order, _) in &live {
            let key = order
                .run_id
                .clone()
                .unwrap_or_else(|| order.status_url.clone());
            let count = order.metrics.and_then(|m| m.output_records).unwrap_or(0);
            runs.insert(key, count);
        }
        let exported = runs.values().fold(0u64, |a, b| a.saturating_add(*b));
        if let Some(why) = expect.broken_by(exported) {
            let run = live.iter().map(|(_, _, n)| *n).max().unwrap_or_default();
            found.push(breach(
                &dest.id, None, run, exported, expect, &why, " in all",
            ));
            marked.extend(live.iter().map(|(at, _, _)| *at));
        }
    }
    marked.sort_unstable();
    marked.dedup();
    (found, marked)
}

/// The records a finished order exported for its segment, when its run reported them.
fn finished_count(order: &OrderRecord) -> Option<u64> {
    if !order.status.is_final() {
        return None;
    }
    order.metrics.and_then(|m| m.segment_exported())
}

fn breach(
    destination: &str,
    segment: Option<&str>,
    run: u64,
    exported: u64,
    expect: Expect,
    why: &str,
    scope: &str,
) -> Unexpected {
    Unexpected {
        destination: destination.to_owned(),
        segment: segment.map(str::to_owned),
        run,
        exported,
        min_records: expect.min_records,
        max_records: expect.max_records,
        message: format!(
            "exported {}{scope}, {why}",
            crate::text::plural(exported as usize, "record", "records")
        ),
    }
}
