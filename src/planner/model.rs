//! What `plan` found for each plan, as data: every renderer (human, JSON, markdown), the saved
//! plan file and `apply` work from these types.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diff::Change;

/// Version of the saved-plan format (`plan --out`). Version 2 added refused plans with their
/// reasons, the platform's deliveries of each pair and the record of the runs read; version 3
/// the platform's names beside the labels, the policy file and when a refusal clears (`clearsAt`).
pub const SAVED_PLAN_VERSION: u32 = 3;

/// The code of a label that disagrees with the platform's name: a warning, a refusal with
/// `--strict-labels` (`decide::codes::LABEL_MISMATCH`).
pub const LABEL_MISMATCH: &str = "aepact::label_mismatch";

/// One invocation of `plan`: where it ran and what it found for each plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanSet {
    /// Saved-plan format version.
    pub aepact_plan_version: u32,
    /// The aepact version that planned.
    pub aepact_version: String,
    /// When planned (RFC 3339, UTC).
    pub created_at: String,
    /// The target the plan was made against: the platform base URL (no credentials), or
    /// `emulator` for the built-in emulator (`--emulator`), whatever port it listened on.
    pub endpoint: String,
    /// IMS organisation.
    pub org: String,
    /// Ad-hoc API version (1 or 2).
    pub api_version: crate::api::AdhocApiVersion,
    /// Most distinct segments per job the plan was made with.
    pub max_segments_per_job: usize,
    /// Whether plans over the limit were split into several jobs (`--split`).
    pub split: bool,
    /// The platform's runs read before deciding (the second witness of what was sent).
    pub runs_read: RunsRead,
    /// Every plan, in the order given, with its verdict.
    pub plans: Vec<PlannedPlan>,
}

/// How the platform's runs were read: one listing per (sandbox, dataflow), of the runs created
/// after `since`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunsRead {
    /// Runs created after this instant were listed (epoch ms, the platform's clock).
    pub since: i64,
    /// The platform's clock when they were read (its `Date` header; this machine's clock when
    /// it sent none), epoch ms.
    pub platform_time: i64,
}

/// One plan, resolved online.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedPlan {
    /// The plan file, as given.
    pub path: String,
    pub name: String,
    pub sandbox: String,
    /// `sha256:` of the plan file's bytes, to refuse a stale saved plan.
    pub plan_digest: String,
    /// The plan's lockfile (beside the plan, or the emulator's under `.aepact/`).
    pub lockfile: String,
    /// `sha256:` of the lockfile's bytes (`null` when there is none yet).
    pub lockfile_digest: Option<String>,
    /// The intent digest recorded in the lockfile on apply.
    pub intent_digest: String,
    pub exports: ResolvedExports,
    pub destinations: Vec<DestinationInfo>,
    /// The exact request body of each job, in order (empty when the plan is refused before its
    /// bodies could be built).
    pub jobs: Vec<crate::api::AdhocRequest>,
    pub verdict: Verdict,
    /// What is worth a look but does not stop the plan: a label that disagrees with the
    /// platform's name (`aepact::label_mismatch`; a refusal instead with `--strict-labels`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Reason>,
    /// The guard window in force (ms): a delivery of a pair this recent that no lockfile of
    /// the plan records refuses the plan.
    pub guard_window_ms: u64,
    /// Per (destination, segment) of the plan, the platform's most recent run of it.
    pub deliveries: Vec<Delivery>,
    /// Recent runs no lockfile records that `--allow-unrecorded-runs` sends past (recorded in
    /// the lockfile's run as its `override`).
    pub overridden: Vec<Delivery>,
    /// The last applied run in the lockfile, if any.
    pub last_applied: Option<LastApplied>,
    /// Segments added and removed against the last applied run.
    pub changes: Vec<ChangeRecord>,
    /// Unified diff of the request bodies against the last applied run ("" when equal or none).
    pub diff: String,
    /// Where the plan's parts are in its file (not saved: a saved plan is not annotated).
    #[serde(skip)]
    pub lines: crate::plan::model::Lines,
    /// The policy file that governs the plan (`aepact.policy.yaml` or `--policy`), whose
    /// verdict is part of this plan's; left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// How the plan's `exports` resolved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolvedExports {
    /// `latest`, `ids` or `omitted`, as the plan says.
    pub spec: String,
    /// The export job IDs sent (`latest` resolved); empty when omitted.
    pub ids: Vec<String>,
    /// When the resolved job finished (epoch ms), for `latest`; for `ids`, the newest of the
    /// named jobs that succeeded.
    pub finished_at: Option<i64>,
}

/// A destination as the platform knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DestinationInfo {
    pub id: String,
    /// The label in the plan.
    pub label: Option<String>,
    /// The dataflow's name on the platform.
    pub platform_name: Option<String>,
    pub segments: usize,
    /// Each segment of the destination, in the plan's order, with its label and its name in
    /// the dataflow's segment selector.
    #[serde(default)]
    pub segment_names: Vec<SegmentInfo>,
}

/// A segment of a destination: the plan's label and the platform's name.
///
/// The name is the one the dataflow's segment selector gives (`Flow::segment_name`). When a
/// selector has none, the name is left unknown: the Segmentation API
/// (`/data/core/ups/segment/definitions/{id}`) is not asked, and the emulator does not serve it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentInfo {
    pub id: String,
    /// The label in the plan.
    pub label: Option<String>,
    /// The name in the dataflow's segment selector.
    pub platform_name: Option<String>,
}

impl DestinationInfo {
    /// The name to show: the platform's, else the plan's label.
    pub fn shown_name(&self) -> Option<&str> {
        self.platform_name.as_deref().or(self.label.as_deref())
    }
}

impl SegmentInfo {
    /// The name to show: the platform's, else the plan's label.
    pub fn shown_name(&self) -> Option<&str> {
        self.platform_name.as_deref().or(self.label.as_deref())
    }
}

/// What `apply` does with the plan: the one decision `plan` shows and `apply` carries out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "action",
    deny_unknown_fields
)]
pub enum Verdict {
    /// Send the jobs.
    Apply,
    /// This intent is already recorded as submitted: nothing to send.
    AlreadyApplied { run: u64, applied_at: String },
    /// Nothing is sent, for these reasons.
    Refused { reasons: Vec<Reason> },
}

/// Why a plan is refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reason {
    /// Stable identifier, e.g. `run_in_flight`, `unrecorded_run` (`docs/workflow.md`).
    pub code: String,
    pub message: String,
    /// What to do about it.
    pub help: String,
    /// The reason clears by itself (an export job running, a run in flight): exit 75.
    pub temporary: bool,
    /// When a reason that clears by itself clears at an instant known in advance (a policy
    /// window opening), that instant on the platform's clock (epoch ms). `None` for the others:
    /// an export job or a run ends when the platform is done. `apply --wait-for-clear` sleeps
    /// until it instead of polling ([`Reason::clears_by_itself`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clears_at: Option<i64>,
}

/// The platform's most recent run of one (destination, segment) pair.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Delivery {
    /// The destination dataflow ID.
    pub destination: String,
    pub segment: String,
    /// The run, `null` when the platform has none since [`RunsRead::since`].
    pub run_id: Option<String>,
    /// When the platform created it (epoch ms).
    pub created_at: Option<i64>,
    /// Its status (`success`, `inProgress`, ...).
    pub status: Option<String>,
    /// Whether the plan's lockfile records the run.
    pub recorded: bool,
}

/// The last applied run of the plan, from its lockfile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LastApplied {
    pub run: u64,
    pub applied_at: String,
    pub intent_digest: String,
}

/// A change (a segment added or removed since the last applied run) as saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRecord {
    /// `added` or `removed`.
    pub change: String,
    pub destination: String,
    pub segment: String,
}

impl From<&Change> for ChangeRecord {
    fn from(change: &Change) -> Self {
        let (kind, destination, segment) = match change {
            Change::Added {
                destination,
                segment,
            } => ("added", destination, segment),
            Change::Removed {
                destination,
                segment,
            } => ("removed", destination, segment),
        };
        Self {
            change: kind.to_owned(),
            destination: destination.clone(),
            segment: segment.clone(),
        }
    }
}

impl PlannedPlan {
    pub fn to_apply(&self) -> bool {
        self.verdict == Verdict::Apply
    }

    /// The reasons it is refused (none unless refused).
    pub fn reasons(&self) -> &[Reason] {
        match &self.verdict {
            Verdict::Refused { reasons } => reasons,
            _ => &[],
        }
    }

    /// Distinct segments over all jobs.
    pub fn segment_count(&self) -> usize {
        let seen: std::collections::HashSet<&str> = self
            .jobs
            .iter()
            .flat_map(|body| body.activation_info.values().flatten())
            .map(String::as_str)
            .collect();
        seen.len()
    }
}

impl PlanSet {
    pub fn to_apply(&self) -> usize {
        self.plans.iter().filter(|p| p.to_apply()).count()
    }

    pub fn refused(&self) -> usize {
        self.plans
            .iter()
            .filter(|p| !p.reasons().is_empty())
            .count()
    }

    /// Every refusal, plan by plan, for the renderers.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.listed(PlannedPlan::reasons)
    }

    /// Every warning, plan by plan, for the renderers (placed on lines like refusals).
    pub fn warnings(&self) -> Vec<Refusal> {
        self.listed(|p| &p.warnings)
    }

    fn listed(&self, of: impl Fn(&PlannedPlan) -> &[Reason]) -> Vec<Refusal> {
        self.plans
            .iter()
            .flat_map(|p| {
                of(p).iter().map(|r| Refusal {
                    path: Arc::from(p.path.as_str()),
                    line: (r.code == LABEL_MISMATCH)
                        .then(|| p.lines.of_label(&r.message))
                        .flatten()
                        .or_else(|| p.lines.of_message(&r.code, &r.message)),
                    plan: p.name.clone(),
                    code: r.code.clone(),
                    message: r.message.clone(),
                    help: r.help.clone(),
                    temporary: r.temporary,
                })
            })
            .collect()
    }

    /// The exit status the verdicts call for, before anything is sent: 1 when a plan is
    /// refused for a reason that does not clear by itself, 75 when every refused plan's reasons
    /// clear by themselves, else 0. `plan` and `apply` both take it from here.
    pub fn exit(&self) -> crate::Exit {
        let reasons: Vec<&Reason> = self.plans.iter().flat_map(|p| p.reasons()).collect();
        if reasons.is_empty() {
            crate::Exit::Success
        } else if reasons.iter().all(|r| r.clears_by_itself()) {
            crate::Exit::TempFail
        } else {
            crate::Exit::Failure
        }
    }
}

/// One reason a plan cannot be applied now (or a warning about it), with the plan it is about
/// (what renderers list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: Arc<str>,
    /// The line of the plan the refusal is about (a destination, a segment, `exports`).
    pub line: Option<usize>,
    pub plan: String,
    pub code: String,
    pub message: String,
    pub help: String,
    /// The reason clears by itself (an export job running, a run in flight): exit 75.
    pub temporary: bool,
}
