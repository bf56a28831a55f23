//! What `plan` found for each plan, as data: every renderer (human, JSON, markdown), the saved
//! plan file and `apply` work from these types.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diff::Change;

/// Version of the saved-plan format (`plan --out`).
pub const SAVED_PLAN_VERSION: u32 = 1;

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
    /// Platform base URL the plan was made against.
    pub endpoint: String,
    /// IMS organisation.
    pub org: String,
    /// Ad-hoc API version (1 or 2).
    pub api_version: u8,
    /// Most distinct segments per job the plan was made with.
    pub max_segments_per_job: usize,
    /// Whether plans over the limit were split into several jobs (`--split`).
    pub split: bool,
    pub plans: Vec<PlannedPlan>,
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
    /// `sha256:` of the lockfile's bytes (`null` when there is none yet).
    pub lockfile_digest: Option<String>,
    /// The intent digest recorded in the lockfile on apply.
    pub intent_digest: String,
    pub exports: ResolvedExports,
    pub destinations: Vec<DestinationInfo>,
    /// The exact request body of each job, in order.
    pub jobs: Vec<Value>,
    pub verdict: Verdict,
    /// The last applied run in the lockfile, if any.
    pub last_applied: Option<LastApplied>,
    /// Segments added and removed against the last applied run.
    pub changes: Vec<ChangeRecord>,
    /// Unified diff of the request bodies against the last applied run ("" when equal or none).
    pub diff: String,
}

/// How the plan's `exports` resolved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolvedExports {
    /// `latest`, `ids` or `omitted`, as the plan says.
    pub spec: String,
    /// The export job IDs sent (`latest` resolved); empty when omitted.
    pub ids: Vec<String>,
    /// When the resolved job finished (epoch ms), for `latest`.
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
}

/// What `apply` would do with the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", tag = "action", deny_unknown_fields)]
pub enum Verdict {
    /// Send the jobs.
    Apply,
    /// This intent is already recorded as submitted: nothing to send.
    AlreadyApplied { run: u64, applied_at: String },
}

/// The last applied run of the plan, from its lockfile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LastApplied {
    pub run: u64,
    pub applied_at: String,
    pub intent_digest: String,
}

/// [`Change`] as saved.
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

    /// Distinct segments over all jobs.
    pub fn segment_count(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for body in &self.jobs {
            if let Some(info) = body.get("activationInfo").and_then(Value::as_object) {
                for segs in info.values() {
                    for s in segs.as_array().into_iter().flatten() {
                        if let Some(s) = s.as_str() {
                            seen.insert(s.to_owned());
                        }
                    }
                }
            }
        }
        seen.len()
    }
}

impl PlanSet {
    pub fn to_apply(&self) -> usize {
        self.plans.iter().filter(|p| p.to_apply()).count()
    }
}

/// The exit status for a non-empty set of refusals: 75 when every reason clears by itself,
/// else 1.
pub fn refusal_exit(refusals: &[Refusal]) -> crate::Exit {
    if refusals.iter().all(|r| r.temporary) {
        crate::Exit::TempFail
    } else {
        crate::Exit::Failure
    }
}

/// Why a plan cannot be applied now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: Arc<str>,
    pub plan: String,
    pub message: String,
    pub help: String,
    /// The reason clears by itself (an export job running, a run in flight): exit 75.
    pub temporary: bool,
}
