//! The one decision per plan: apply, already applied, or refused and why.
//!
//! `plan` shows these verdicts and `apply` carries them out, so every refusal `apply` would
//! make is in the plan, in its JSON, markdown and GitHub output, and in the exit status both
//! take from [`PlanSet::exit`](super::model::PlanSet::exit). Everything here is synchronous and
//! works from facts already fetched (`resolve` fetches them): the export jobs, the dataflows,
//! the lockfile, and the platform's runs ([`Witness`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use super::model::{
    ChangeRecord, Delivery, DestinationInfo, LastApplied, PlanSet, PlannedPlan, Reason,
    ResolvedExports, Verdict,
};
use super::resolve::runs::Witness;
use crate::api::AdhocRequest;
use crate::api::{ExportJob, Flow, Mapping, UtcDate};
use crate::diff;
use crate::lockfile::Lockfile;
use crate::plan::model::Exports;
use crate::plan::request::request_body;
use crate::plan::{CheckOptions, Plan};
use crate::text::one_line;
use crate::time::rfc3339;

/// The guard window when neither `--guard-window` nor the plan's `guardWindow` sets one: the
/// platform's own documented wait after an activation.
pub const DEFAULT_GUARD_WINDOW: Duration = Duration::from_secs(3600);

/// The reasons a plan can be refused for, as they appear in `code` (`docs/workflow.md`).
pub mod codes {
    pub const EXPORT_RUNNING: &str = "export_running";
    pub const NO_PROFILE_EXPORT: &str = "no_profile_export";
    pub const EXPORT_MISSING: &str = "export_missing";
    pub const EXPORT_NOT_SUCCEEDED: &str = "export_not_succeeded";
    pub const NOT_A_DATAFLOW: &str = "not_a_dataflow";
    pub const DATAFLOW_DISABLED: &str = "dataflow_disabled";
    pub const SEGMENTS_UNMAPPED: &str = "segments_unmapped";
    pub const OUT_OF_SCHEDULE: &str = "out_of_schedule";
    pub const JOB_IN_DOUBT: &str = "job_in_doubt";
    pub const RUN_IN_FLIGHT: &str = "run_in_flight";
    pub const UNRECORDED_RUN: &str = "unrecorded_run";
    pub const CHANGED_SINCE_REVIEW: &str = "changed_since_review";
    pub const SHARED_SEGMENT: &str = "shared_segment";
    /// A warning (a refusal with `--strict-labels`): a plan label disagrees with the
    /// platform's name. Prefixed like the plan diagnostics, as a warning on a plan's line is.
    pub const LABEL_MISMATCH: &str = crate::planner::model::LABEL_MISMATCH;
    /// The policy's send windows are all closed (clears by itself: exit 75).
    pub const POLICY_WINDOW: &str = crate::planner::policy::POLICY_WINDOW;
    /// A pair was delivered less than the policy's `minInterval` ago (clears by itself).
    pub const POLICY_MIN_INTERVAL: &str = crate::planner::policy::POLICY_MIN_INTERVAL;

    /// One line saying what a code means (as docs/workflow.md's table says it).
    pub fn meaning(code: &str) -> &'static str {
        match code {
            EXPORT_RUNNING => "a segment export job is processing in the sandbox",
            NO_PROFILE_EXPORT => "`exports: latest` finds no profile export job that succeeded",
            EXPORT_MISSING => "an export job the plan names does not exist",
            EXPORT_NOT_SUCCEEDED => "an export job the plan names has not succeeded",
            NOT_A_DATAFLOW => "a destination is not a dataflow in the sandbox",
            DATAFLOW_DISABLED => "a destination's dataflow is not an enabled destination dataflow",
            SEGMENTS_UNMAPPED => "the dataflow does not map some of the plan's segments",
            OUT_OF_SCHEDULE => "a segment's schedule in the dataflow does not cover today",
            JOB_IN_DOUBT => "a job of the lockfile may have been received: `status` settles it",
            RUN_IN_FLIGHT => "a run of one of the segments to send is still going",
            UNRECORDED_RUN => {
                "the platform delivered a pair within the guard window by a run no lockfile records"
            }
            CHANGED_SINCE_REVIEW => "(a saved plan) a pair was delivered after the plan was made",
            SHARED_SEGMENT => {
                "the plan shares a segment with a plan applied before it in this invocation"
            }
            LABEL_MISMATCH => {
                "a destination's or segment's `name:` disagrees with the platform's name (a warning; refused with `--strict-labels`)"
            }
            POLICY_WINDOW => {
                "the policy's send windows (`windows`) are all closed at the platform's time; the refusal says when the next opens"
            }
            POLICY_MIN_INTERVAL => {
                "a pair was delivered less than the policy's `minInterval` ago (by the platform's runs or the lockfile)"
            }
            _ => "",
        }
    }

    /// Every code, for the docs test.
    pub const ALL: [&str; 16] = [
        EXPORT_RUNNING,
        NO_PROFILE_EXPORT,
        EXPORT_MISSING,
        EXPORT_NOT_SUCCEEDED,
        NOT_A_DATAFLOW,
        DATAFLOW_DISABLED,
        SEGMENTS_UNMAPPED,
        OUT_OF_SCHEDULE,
        JOB_IN_DOUBT,
        RUN_IN_FLIGHT,
        UNRECORDED_RUN,
        CHANGED_SINCE_REVIEW,
        SHARED_SEGMENT,
        LABEL_MISMATCH,
        POLICY_WINDOW,
        POLICY_MIN_INTERVAL,
    ];
}

/// What a decision may take into account beyond the facts: the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules<'a> {
    pub options: CheckOptions,
    /// `--guard-window`, which overrides the plans' own.
    pub guard_window: Option<Duration>,
    /// `--allow-unrecorded-runs`: send past recent deliveries no lockfile records.
    pub allow_unrecorded: bool,
    /// The saved plan being applied (`apply FILE`): what was reviewed.
    pub reviewed: Option<&'a PlanSet>,
    /// `--strict-labels`: a label that disagrees with the platform's name refuses the plan
    /// instead of warning.
    pub strict_labels: bool,
}

/// How a refused plan clears, when every reason it is refused for clears by itself: the one
/// classification `apply --wait-for-clear` waits by ([`PlannedPlan::clearing`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clearing {
    /// The instant (epoch ms, the platform's clock) before which the plan cannot clear: the
    /// latest instant known of its reasons; `None` when none is known.
    pub not_before: Option<i64>,
    /// Every reason's instant is known (only policy windows, say): the plan clears at
    /// `not_before`, and checking before it is pointless. Otherwise it clears when the
    /// platform is done (an export job, a run), and only checking again tells.
    pub known: bool,
}

impl Reason {
    /// Whether the reason clears by itself, so that trying again later (exit 75), or waiting
    /// with `apply --wait-for-clear`, is the answer: an export job processing
    /// (`export_running`, and `export_not_succeeded` while a named job runs), a run of a
    /// segment in flight (`run_in_flight`, which also covers a run the platform named when it
    /// answered "Run already going on": see `runs::straggling`), a plan sharing a segment with
    /// one sent before it (`shared_segment`), and any reason made with [`Reason::clears_at`]
    /// (outside a policy window, opening at a known instant). Every other reason (a wrong
    /// destination, a job in doubt, an unrecorded delivery) needs someone to act.
    pub fn clears_by_itself(&self) -> bool {
        self.temporary || self.clears_at.is_some()
    }

    /// What a wait for this reason waits for, in a few words: its message up to the first
    /// `; ` (`segment export job 11045 is PROCESSING in sandbox `prod``).
    pub fn waits_for(&self) -> &str {
        self.message
            .split_once("; ")
            .map_or(self.message.as_str(), |(what, _)| what)
    }
}

impl PlannedPlan {
    /// How the plan clears, when it is refused and every reason clears by itself; `None` when
    /// it is not refused, or when some reason needs someone to act (no use waiting).
    pub fn clearing(&self) -> Option<Clearing> {
        let reasons = self.reasons();
        if reasons.is_empty() || !reasons.iter().all(Reason::clears_by_itself) {
            return None;
        }
        Some(Clearing {
            not_before: reasons.iter().filter_map(|r| r.clears_at).max(),
            known: reasons.iter().all(|r| r.clears_at.is_some()),
        })
    }
}

impl PlanSet {
    /// The refused plans and how each clears, when every one of them clears by itself: what
    /// `apply --wait-for-clear` waits for. `None` when some refusal needs someone to act, and
    /// so no waiting. Applying a saved plan (`reviewed`), a plan that was not to apply when it
    /// was saved is never sent from it, so it cannot be waited for either.
    pub fn clearings(&self, reviewed: Option<&PlanSet>) -> Option<Vec<(&PlannedPlan, Clearing)>> {
        self.plans
            .iter()
            .filter(|p| !p.reasons().is_empty())
            .map(|p| {
                let was_to_apply = reviewed.is_none_or(|saved| {
                    saved
                        .plans
                        .iter()
                        .any(|o| o.path == p.path && o.verdict == Verdict::Apply)
                });
                Some((p, p.clearing().filter(|_| was_to_apply)?))
            })
            .collect()
    }
}

/// Everything fetched about one plan.
#[derive(Debug)]
pub struct Facts<'a> {
    pub plan: &'a Plan,
    pub sandbox: &'a str,
    pub intent_digest: String,
    pub plan_digest: String,
    pub lockfile_path: String,
    pub lockfile_digest: Option<String>,
    pub lockfile: Option<&'a Lockfile>,
    /// The sandbox's export jobs (the listing, plus any job the plan names that it lacked).
    pub export_jobs: &'a [ExportJob],
    /// Each destination's dataflow, `None` when the sandbox has no such flow.
    pub flows: Vec<Option<&'a Flow>>,
    /// The sandbox's segment names from the Segmentation API, by lowercase segment ID: for the
    /// segments whose dataflow selector has no name.
    pub segment_names: &'a HashMap<String, String>,
    pub witness: &'a Witness,
    /// Runs recorded by any lockfile of the invocation, by run ID: the plan that records each.
    pub recorded_elsewhere: &'a HashMap<String, String>,
    /// Recorded runs the platform still reports going that the witness did not list (older
    /// than its window): (sandbox, segment) → run ID.
    pub straggling: &'a BTreeMap<(String, String), String>,
    pub today: UtcDate,
}

/// Decides one plan.
pub fn plan(facts: &Facts<'_>, rules: &Rules<'_>) -> PlannedPlan {
    let plan = facts.plan;
    let lockfile = facts.lockfile;
    let mut reasons = Vec::new();
    let refuse = |code: &str, message: String, help: &str, temporary: bool| Reason {
        code: code.to_owned(),
        message,
        help: help.to_owned(),
        temporary,
        clears_at: None,
    };

    let exports = resolve_exports(facts, &mut reasons);
    let destinations = check_dataflows(facts, &mut reasons);
    // Labels the platform names otherwise: a warning, or with `--strict-labels` a refusal.
    let mut warnings = super::labels::mismatches(&destinations);
    if rules.strict_labels {
        reasons.append(&mut warnings);
    }

    // The request bodies, less what a run of this intent that stopped short already covered
    // (it is resumed: no pair is activated twice for one intent, none is forgotten).
    let mut bodies: Vec<AdhocRequest> = match &exports {
        Some(resolved) => {
            let ids = (plan.exports != Exports::Omitted).then_some(resolved.ids.as_slice());
            plan.jobs(rules.options.segment_limit())
                .iter()
                .map(|job| request_body(job, ids))
                .collect()
        }
        None => Vec::new(),
    };
    let mut applied = lockfile.and_then(|l| l.already_applied(&facts.intent_digest));
    if applied.is_none()
        && let Some(lockfile) = lockfile
    {
        let done = lockfile.maybe_activated_pairs(&facts.intent_digest);
        if !done.is_empty() {
            bodies = without_pairs(bodies, &done);
            if bodies.is_empty() && exports.is_some() {
                applied = lockfile
                    .latest_run_for(&facts.intent_digest)
                    .map(|(_, run)| run);
            }
        }
    }

    let recorded: BTreeSet<&str> = lockfile
        .map(|l| l.recorded_run_ids().into_iter().collect())
        .unwrap_or_default();
    let deliveries = deliveries(facts, &recorded);
    let window = rules
        .guard_window
        .or(plan.guard_window)
        .unwrap_or(DEFAULT_GUARD_WINDOW);
    let mut overridden = Vec::new();

    if applied.is_none() {
        if let Some(running) = facts.export_jobs.iter().find(|j| j.is_running()) {
            reasons.push(refuse(
                codes::EXPORT_RUNNING,
                format!(
                    "segment export job {} is {} in sandbox `{}`; ad-hoc jobs cannot run beside it",
                    running.id,
                    running.status.as_str(),
                    facts.sandbox
                ),
                "wait for the scheduled export to finish, then plan again",
                true,
            ));
        }
        let sending: BTreeSet<(String, String)> =
            bodies.iter().flat_map(AdhocRequest::pairs).collect();
        in_flight(facts, &sending, &mut reasons);
        unrecorded(
            facts,
            &sending,
            window,
            rules.allow_unrecorded,
            &mut overridden,
            &mut reasons,
        );
        if let Some(reviewed) = rules.reviewed {
            changed_since_review(facts, reviewed, &sending, &mut reasons);
        }
        let seen = super::policy::Seen {
            plan,
            sandbox: facts.sandbox,
            witness: facts.witness,
            lockfile,
        };
        super::policy::time_rules(&seen, &sending, &mut reasons);
    }

    // A job in doubt may have activated anything of its run: nothing is decided, applied or
    // not, until `status` has settled it.
    if let Some(lockfile) = lockfile
        && let Some(job) = lockfile.jobs_in_doubt().first()
    {
        applied = None;
        reasons.push(refuse(
            codes::JOB_IN_DOUBT,
            format!(
                "run {} of this plan has a job whose outcome is not known (left `pending` after it was sent, or `unknown`)",
                lockfile.runs[job.run].run
            ),
            "run `aepact status` on the plan to settle it before applying again",
            false,
        ));
    }
    let verdict = match (applied, reasons.is_empty()) {
        (Some(run), _) => Verdict::AlreadyApplied {
            run: run.run,
            applied_at: run.applied_at.to_string(),
        },
        (None, true) => Verdict::Apply,
        (None, false) => Verdict::Refused { reasons },
    };
    let (last_applied, changes, diff_text) = compare_with_last(lockfile, &bodies);
    PlannedPlan {
        path: plan.path.to_string(),
        lines: plan.lines.clone(),
        policy: plan.policy.as_ref().map(|p| p.source.name().to_owned()),
        name: plan.name.clone(),
        sandbox: facts.sandbox.to_owned(),
        plan_digest: facts.plan_digest.clone(),
        lockfile: facts.lockfile_path.clone(),
        lockfile_digest: facts.lockfile_digest.clone(),
        intent_digest: facts.intent_digest.clone(),
        exports: exports.unwrap_or_else(|| ResolvedExports {
            spec: spec_name(&plan.exports).to_owned(),
            ids: Vec::new(),
            finished_at: None,
        }),
        destinations,
        jobs: bodies,
        verdict,
        warnings,
        guard_window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
        deliveries,
        overridden,
        last_applied,
        changes: changes.iter().map(ChangeRecord::from).collect(),
        diff: diff_text,
    }
}

/// Refuses each plan to apply that shares a (sandbox, segment) with a plan to apply before it
/// in this invocation: the platform runs one ad-hoc job per segment at a time, and the earlier
/// plan's runs would still be going. Plans are taken in the order given.
pub fn order_across(plans: &mut [PlannedPlan]) {
    let mut taken: HashMap<(String, String), String> = HashMap::new();
    for plan in plans.iter_mut().filter(|p| p.to_apply()) {
        let segments: BTreeSet<String> = plan
            .jobs
            .iter()
            .flat_map(AdhocRequest::pairs)
            .map(|(_, segment)| segment)
            .collect();
        let clash = segments.iter().find_map(|s| {
            taken
                .get(&(plan.sandbox.clone(), s.clone()))
                .map(|earlier| (earlier.clone(), s.clone()))
        });
        match clash {
            Some((earlier, segment)) => {
                plan.verdict = Verdict::Refused {
                    reasons: vec![Reason {
                        code: codes::SHARED_SEGMENT.to_owned(),
                        message: format!(
                            "shares segment `{segment}` with plan `{earlier}`, applied first in this invocation; its runs would still be going"
                        ),
                        help: format!(
                            "apply the plans one after the other: once `aepact status --wait` reports `{earlier}`'s runs final, apply this one"
                        ),
                        temporary: true,
                        clears_at: None,
                    }],
                };
            }
            None => {
                for s in segments {
                    taken.insert((plan.sandbox.clone(), s), plan.name.clone());
                }
            }
        }
    }
}

fn spec_name(exports: &Exports) -> &'static str {
    match exports {
        Exports::Latest => "latest",
        Exports::Ids(_) => "ids",
        Exports::Omitted => "omitted",
    }
}

/// The export IDs to send, or the reasons they cannot be had.
fn resolve_exports(facts: &Facts<'_>, reasons: &mut Vec<Reason>) -> Option<ResolvedExports> {
    let jobs = facts.export_jobs;
    let sandbox = facts.sandbox;
    match &facts.plan.exports {
        Exports::Latest => match ExportJob::latest_succeeded_profile(jobs) {
            Some(job) => Some(ResolvedExports {
                spec: "latest".into(),
                ids: vec![job.id.to_string()],
                finished_at: job.finished_at(),
            }),
            None => {
                reasons.push(Reason {
                    code: codes::NO_PROFILE_EXPORT.into(),
                    message: format!(
                        "sandbox `{sandbox}` has no profile export job (`_xdm.context.profile`) that succeeded"
                    ),
                    help: "run a segment export job first, or list export job IDs in `exports`"
                        .into(),
                    temporary: false,
                    clears_at: None,
                });
                None
            }
        },
        Exports::Ids(ids) => {
            for id in ids {
                match jobs.iter().find(|j| j.id.to_string() == *id) {
                    None => reasons.push(Reason {
                        code: codes::EXPORT_MISSING.into(),
                        message: format!("export job {id} does not exist in sandbox `{sandbox}`"),
                        help: "check the ID in `exports`, or use `exports: latest`".into(),
                        temporary: false,
                        clears_at: None,
                    }),
                    Some(job) if !job.succeeded() => reasons.push(Reason {
                        code: codes::EXPORT_NOT_SUCCEEDED.into(),
                        message: format!(
                            "export job {id} is {}, not SUCCEEDED",
                            job.status.as_str()
                        ),
                        help: "activate from an export job that succeeded".into(),
                        temporary: job.is_running(),
                        clears_at: None,
                    }),
                    Some(_) => {}
                }
            }
            // The newest of the jobs named that finished: how old the data sent is.
            let finished_at = jobs
                .iter()
                .filter(|j| ids.contains(&j.id.to_string()) && j.succeeded())
                .filter_map(ExportJob::finished_at)
                .max();
            Some(ResolvedExports {
                spec: "ids".into(),
                ids: ids.clone(),
                finished_at,
            })
        }
        Exports::Omitted => Some(ResolvedExports {
            spec: "omitted".into(),
            ids: Vec::new(),
            finished_at: None,
        }),
    }
}

/// Each destination as the platform knows it, and the reasons its dataflow cannot take the
/// plan's segments.
fn check_dataflows(facts: &Facts<'_>, reasons: &mut Vec<Reason>) -> Vec<DestinationInfo> {
    let sandbox = facts.sandbox;
    let today = facts.today;
    let mut infos = Vec::new();
    let mut refuse = |code: &str, message: String, help: &str| {
        reasons.push(Reason {
            code: code.to_owned(),
            message,
            help: help.to_owned(),
            temporary: false,
            clears_at: None,
        });
    };
    for (dest, flow) in facts.plan.destinations.iter().zip(&facts.flows) {
        let Some(flow) = flow else {
            refuse(
                codes::NOT_A_DATAFLOW,
                format!(
                    "destination `{}` is not a dataflow in sandbox `{sandbox}`",
                    dest.id
                ),
                "use the activation dataflow's ID (Destinations > Browse, the right rail), and check the sandbox",
            );
            infos.push(DestinationInfo {
                id: dest.id.clone(),
                label: dest.name.clone(),
                platform_name: None,
                segments: dest.segments.len(),
                segment_names: super::labels::segments(dest, None, facts.segment_names),
            });
            continue;
        };
        if !flow.is_enabled_destination() {
            refuse(
                codes::DATAFLOW_DISABLED,
                format!(
                    "dataflow `{}` (\"{}\") is not an enabled destination dataflow",
                    dest.id,
                    one_line(flow.name())
                ),
                "enable the dataflow in the Platform UI, or use a destination dataflow's ID",
            );
        }
        let mut unmapped = Vec::new();
        let mut out_of_schedule = Vec::new();
        for segment in &dest.segments {
            match flow.mapping(&segment.id, today) {
                Mapping::Covered(_) => {}
                Mapping::OutOfSchedule(_) => out_of_schedule.push(segment.id.as_str()),
                Mapping::NotMapped => unmapped.push(segment.id.as_str()),
            }
        }
        if !unmapped.is_empty() {
            refuse(
                codes::SEGMENTS_UNMAPPED,
                format!(
                    "dataflow `{}` (\"{}\") does not map {}: {}",
                    dest.id,
                    one_line(flow.name()),
                    crate::text::plural(unmapped.len(), "segment", "segments"),
                    unmapped.join(", ")
                ),
                "add the segments to the dataflow in the Platform UI first (step 3 of the platform's workflow), or remove them from the plan",
            );
        }
        if !out_of_schedule.is_empty() {
            refuse(
                codes::OUT_OF_SCHEDULE,
                format!(
                    "in dataflow `{}` the schedule of {} does not cover today ({today}): {}",
                    dest.id,
                    crate::text::plural(out_of_schedule.len(), "segment", "segments"),
                    out_of_schedule.join(", ")
                ),
                "extend the segments' schedule in the dataflow, or remove them from the plan",
            );
        }
        infos.push(DestinationInfo {
            id: dest.id.clone(),
            label: dest.name.clone(),
            platform_name: Some(one_line(flow.name()).into_owned()).filter(|n| !n.is_empty()),
            segments: dest.segments.len(),
            segment_names: super::labels::segments(dest, Some(flow), facts.segment_names),
        });
    }
    infos
}

/// Per (destination, segment) of the plan, the platform's latest run of it.
fn deliveries(facts: &Facts<'_>, recorded: &BTreeSet<&str>) -> Vec<Delivery> {
    facts
        .plan
        .destinations
        .iter()
        .flat_map(|d| {
            d.segments
                .iter()
                .map(move |s| (d.id.as_str(), s.id.as_str()))
        })
        .map(|(dest, segment)| {
            let latest = facts.witness.runs_of(facts.sandbox, dest, segment).next();
            Delivery {
                destination: dest.to_owned(),
                segment: segment.to_owned(),
                run_id: latest.map(|r| r.id.clone()),
                created_at: latest.and_then(|r| r.created_at),
                status: latest.map(|r| r.status().as_str().to_owned()),
                recorded: latest.is_some_and(|r| recorded.contains(r.id.as_str())),
            }
        })
        .collect()
}

/// Refuses (75) the pairs to send whose segment has a run going: the platform runs one
/// ad-hoc job per segment at a time.
fn in_flight(facts: &Facts<'_>, sending: &BTreeSet<(String, String)>, reasons: &mut Vec<Reason>) {
    let segments: BTreeSet<&str> = sending.iter().map(|(_, s)| s.as_str()).collect();
    for segment in segments {
        let going = facts
            .witness
            .in_flight(facts.sandbox, segment)
            .next()
            .map(|(flow, run)| (run.id.clone(), format!(" to `{flow}`")))
            .or_else(|| {
                facts
                    .straggling
                    .get(&(facts.sandbox.to_owned(), segment.to_owned()))
                    .map(|id| (id.clone(), String::new()))
            });
        if let Some((run_id, to)) = going {
            reasons.push(Reason {
                code: codes::RUN_IN_FLIGHT.into(),
                message: format!(
                    "segment `{segment}` has a run still in flight{to} (run id {run_id})"
                ),
                help: "wait for it to finish (`aepact status --wait`), then plan again".into(),
                temporary: true,
                clears_at: None,
            });
        }
    }
}

/// Refuses the pairs to send that the platform delivered within the guard window by a run no
/// lockfile of the invocation records: a lost lockfile, another copy of the plan, "Export
/// file now". With `--allow-unrecorded-runs` they are sent anyway and listed in `overridden`.
fn unrecorded(
    facts: &Facts<'_>,
    sending: &BTreeSet<(String, String)>,
    window: Duration,
    allow: bool,
    overridden: &mut Vec<Delivery>,
    reasons: &mut Vec<Reason>,
) {
    if window.is_zero() {
        return;
    }
    let now = facts.witness.read.platform_time;
    let from = now.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    let recorded: BTreeSet<&str> = facts
        .lockfile
        .map(|l| l.recorded_run_ids().into_iter().collect())
        .unwrap_or_default();
    let mut found = Vec::new();
    for (dest, segment) in sending {
        // The newest run of the pair no lockfile records, if it is inside the window (a run
        // whose creation time is not given counts as recent).
        let run = facts
            .witness
            .runs_of(facts.sandbox, dest, segment)
            .filter(|r| r.created_at.is_none_or(|t| t > from))
            .find(|r| {
                !recorded.contains(r.id.as_str()) && !facts.recorded_elsewhere.contains_key(&r.id)
            });
        if let Some(run) = run {
            found.push(Delivery {
                destination: dest.clone(),
                segment: segment.clone(),
                run_id: Some(run.id.clone()),
                created_at: run.created_at,
                status: Some(run.status().as_str().to_owned()),
                recorded: false,
            });
        }
    }
    if found.is_empty() {
        return;
    }
    if allow {
        overridden.extend(found);
        return;
    }
    let list: Vec<String> = found
        .iter()
        .map(|d| {
            format!(
                "segment `{}` to `{}` by run `{}` at {} ({})",
                d.segment,
                d.destination,
                d.run_id.as_deref().unwrap_or_default(),
                d.created_at
                    .map_or_else(|| "an unknown time".into(), rfc3339),
                ago(now, d.created_at)
            )
        })
        .collect();
    reasons.push(Reason {
        code: codes::UNRECORDED_RUN.into(),
        message: format!(
            "the platform delivered {} within the guard window ({}) by runs no lockfile records: {}",
            crate::text::plural(found.len(), "of this plan's pairs", "of this plan's pairs"),
            crate::time::duration_text(window),
            list.join("; ")
        ),
        help: format!(
            "an activation aepact did not record (a lost or uncommitted lockfile, another copy of this plan, \"Export file now\" in the Platform UI) would be sent again. If it is this plan's activation, restore `{}` from git and plan again; to send anyway, apply with `--allow-unrecorded-runs` (recorded in the lockfile), or wait until the guard window has passed",
            facts.lockfile_path
        ),
        temporary: false,
        clears_at: None,
    });
}

/// Refuses a saved plan whose pairs to send were delivered after it was made: the platform
/// changed since the plan was reviewed.
fn changed_since_review(
    facts: &Facts<'_>,
    reviewed: &PlanSet,
    sending: &BTreeSet<(String, String)>,
    reasons: &mut Vec<Reason>,
) {
    let Some(saved) = reviewed.plans.iter().find(|p| p.path == *facts.plan.path) else {
        return;
    };
    for (dest, segment) in sending {
        let known = saved
            .deliveries
            .iter()
            .find(|d| d.destination == *dest && d.segment == *segment);
        let after = known
            .and_then(|d| d.created_at)
            .unwrap_or(reviewed.runs_read.since);
        let new = facts
            .witness
            .runs_of(facts.sandbox, dest, segment)
            .find(|r| {
                known.is_none_or(|k| k.run_id.as_deref() != Some(r.id.as_str()))
                    && r.created_at.is_none_or(|t| t >= after)
            });
        if let Some(run) = new {
            reasons.push(Reason {
                code: codes::CHANGED_SINCE_REVIEW.into(),
                message: format!(
                    "segment `{segment}` to `{dest}` was delivered by run `{}` at {}, after this plan was made ({}): the platform changed since it was reviewed",
                    run.id,
                    run.created_at.map_or_else(|| "an unknown time".into(), rfc3339),
                    reviewed.created_at
                ),
                help: "run `aepact plan --out FILE` again, review what it shows, and apply the new file".into(),
                temporary: false,
                clears_at: None,
            });
            return;
        }
    }
}

/// "12 minutes ago", "3 hours ago".
pub fn ago(now: i64, then: Option<i64>) -> String {
    let Some(then) = then else {
        return "when, the platform does not say".into();
    };
    // The platform's clock comes in whole seconds: round to the nearest unit shown.
    let secs = (now - then).max(0) / 1000;
    let (n, unit, units) = match secs {
        0..30 => return "less than a minute ago".into(),
        30..7170 => ((secs + 30) / 60, "minute", "minutes"),
        _ => ((secs + 1800) / 3600, "hour", "hours"),
    };
    format!(
        "{} ago",
        crate::text::plural(usize::try_from(n).unwrap_or(usize::MAX), unit, units)
    )
}

/// The last applied run of the lockfile, the segments added and removed since, and the diff.
fn compare_with_last(
    lockfile: Option<&Lockfile>,
    bodies: &[AdhocRequest],
) -> (Option<LastApplied>, Vec<diff::Change>, String) {
    let Some(run) = lockfile.and_then(Lockfile::last_applied_run) else {
        return (None, diff::changes(&[], bodies), String::new());
    };
    let old: Vec<AdhocRequest> = run.jobs.iter().map(|j| j.request.clone()).collect();
    let changes = diff::changes(&old, bodies);
    let text = diff::unified(
        &diff::bodies_text(&old),
        &diff::bodies_text(bodies),
        &format!("applied (run {})", run.run),
        "planned",
    );
    (
        Some(LastApplied {
            run: run.run,
            applied_at: run.applied_at.to_string(),
            intent_digest: run.intent_digest.clone(),
        }),
        changes,
        text,
    )
}

/// The request bodies without the (destination, segment) pairs in `done`; a destination left
/// with no segment is removed, and a body left with no destination is dropped.
pub fn without_pairs(
    bodies: Vec<AdhocRequest>,
    done: &BTreeSet<(String, String)>,
) -> Vec<AdhocRequest> {
    bodies
        .iter()
        .filter_map(|body| body.without(done))
        .collect()
}
