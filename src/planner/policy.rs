//! The policy's time and history rules in the decision (`windows`, `minInterval`): checked by
//! `plan` and `apply` alike, at the platform's clock (the `Date` of its run listings), so what
//! `plan` shows is what `apply` does and tests move the emulator's clock, not this machine's.

use std::collections::BTreeSet;

use super::model::Reason;
use super::resolve::runs::Witness;
use crate::lockfile::Lockfile;
use crate::plan::Plan;
use crate::policy::timing;
use crate::text::plural;
use crate::time::{duration_text, rfc3339};

/// The policy's send windows are all closed (clears by itself: exit 75).
pub(super) const POLICY_WINDOW: &str = "aepact::policy::window";
/// A pair was delivered less than the policy's `minInterval` ago (clears by itself).
pub(super) const POLICY_MIN_INTERVAL: &str = "aepact::policy::min_interval";

/// What the time rules look at: the plan (and its policy), where it goes, the platform's runs
/// and clock, and the plan's lockfile.
pub(super) struct Seen<'a> {
    pub(super) plan: &'a Plan,
    pub(super) sandbox: &'a str,
    pub(super) witness: &'a Witness,
    pub(super) lockfile: Option<&'a Lockfile>,
}

/// Refuses the plan when its policy's send windows are all closed, or when a pair to send was
/// delivered less than `minInterval` ago; both clear by themselves (exit 75), and the reason
/// says (and `clears_at` holds) when.
pub(super) fn time_rules(
    facts: &Seen<'_>,
    sending: &BTreeSet<(String, String)>,
    reasons: &mut Vec<Reason>,
) {
    let Some(policy) = &facts.plan.policy else {
        return;
    };
    let Some(rules) = policy.rules_for(facts.sandbox) else {
        return;
    };
    let now = facts.witness.read.platform_time;
    if let Some(closed) = timing::closed(&rules.windows, now) {
        let windows: Vec<&str> = rules.windows.iter().map(|w| w.text.as_str()).collect();
        let place = policy.rule_place(rules, "windows");
        let (message, help) = match &closed.opens_text {
            Some(opens) => (
                format!(
                    "the policy allows sending to sandbox `{}` only within its windows ({place}: {}); it is {} now, the next window opens {opens}",
                    facts.sandbox,
                    windows.join("; "),
                    rfc3339(now)
                ),
                "apply again once the window is open".to_owned(),
            ),
            None => (
                format!(
                    "the policy's windows for sandbox `{}` ({place}) never open",
                    facts.sandbox
                ),
                "fix the windows in the policy file".to_owned(),
            ),
        };
        reasons.push(Reason {
            code: POLICY_WINDOW.to_owned(),
            message,
            help,
            temporary: closed.opens_at.is_some(),
            clears_at: closed.opens_at,
        });
    }
    let Some(interval) = rules.min_interval.filter(|d| !d.is_zero()) else {
        return;
    };
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    // (allowed at, destination, segment, last delivery) of every pair sent too soon.
    let mut too_soon: Vec<(i64, &str, &str, i64)> = Vec::new();
    for (dest, segment) in sending {
        let Some(last) = last_delivery(facts, dest, segment) else {
            continue;
        };
        let allowed = last.saturating_add(interval_ms);
        if now < allowed {
            too_soon.push((allowed, dest, segment, last));
        }
    }
    let Some(&(allowed, dest, segment, last)) = too_soon.iter().max_by_key(|t| t.0) else {
        return;
    };
    let more = match too_soon.len() {
        1 => String::new(),
        n => format!(
            " ({} of the plan's are too soon)",
            plural(n, "pair", "pairs")
        ),
    };
    reasons.push(Reason {
        code: POLICY_MIN_INTERVAL.to_owned(),
        message: format!(
            "segment `{segment}` was delivered to `{dest}` at {}; the policy's `minInterval` of {} ({}) allows the next delivery at {}{more}",
            rfc3339(last),
            duration_text(interval),
            policy.rule_place(rules, "minInterval"),
            rfc3339(allowed),
        ),
        help: "apply again after that time".to_owned(),
        temporary: true,
        clears_at: Some(allowed),
    });
}

/// The last delivery of a pair (epoch ms): the platform's newest run of it that did not fail,
/// or the plan's lockfile's newest job that sent it, whichever is later.
fn last_delivery(facts: &Seen<'_>, dest: &str, segment: &str) -> Option<i64> {
    let platform = facts
        .witness
        .runs_of(facts.sandbox, dest, segment)
        .filter(|r| !matches!(r.status(), crate::api::RunStatus::Failed))
        .filter_map(|r| r.created_at)
        .max();
    let recorded = facts.lockfile.and_then(|lockfile| {
        lockfile
            .runs
            .iter()
            .flat_map(|run| &run.jobs)
            .filter(|job| job.maybe_activated())
            .filter(|job| {
                job.request
                    .pairs()
                    .any(|(d, s)| d.eq_ignore_ascii_case(dest) && s.eq_ignore_ascii_case(segment))
            })
            .filter_map(|job| job.sent_at.map(|t| t.unix_ms()))
            .max()
    });
    platform.max(recorded)
}
