//! The policy rules `validate` checks, offline, on a schema-valid plan: `destinations`,
//! `maxSegmentsPerPlan`, `requireDescription`, `requireLabels`, and across the plans of one
//! command `maxSegmentsPerApply`.
//!
//! Each violation is a diagnostic with its rule's code on the plan's offending line; its label
//! names the policy file and the rule's line, and a related diagnostic shows the rule itself.

use std::collections::HashSet;
use std::sync::Arc;

use super::model::{Policy, Rules};
use crate::plan::diags::{Code, Diagnostic};
use crate::plan::load::Document;
use crate::plan::model::RawPlan;
use crate::plan::source::SourceFile;
use crate::text::plural;

/// What a plan counts toward its policy's `maxSegmentsPerApply`.
#[derive(Debug, Clone)]
pub struct ApplyCount {
    pub policy: Arc<Policy>,
    /// The sandbox key of the rules (`prod`, or `default`).
    pub key: String,
    /// The sandbox the plan activates in.
    pub sandbox: String,
    pub limit: u64,
    /// Distinct segments of the plan.
    pub segments: usize,
}

/// The sandbox a plan activates in, as the online commands will send it: its own, else
/// `default` (`AEP_SANDBOX`), else `prod`.
pub fn sandbox_of<'a>(raw: &'a RawPlan, default: Option<&'a str>) -> &'a str {
    crate::plan::request::sandbox_or(raw.sandbox.as_deref(), default)
}

/// Checks one schema-valid plan against its policy, pushing a diagnostic per violation.
///
/// Returns what the plan counts toward `maxSegmentsPerApply`, when its sandbox has that rule.
pub fn check_plan(
    policy: &Arc<Policy>,
    raw: &RawPlan,
    doc: &Document,
    source: &SourceFile,
    default_sandbox: Option<&str>,
    out: &mut Vec<Diagnostic>,
) -> Option<ApplyCount> {
    let sandbox = sandbox_of(raw, default_sandbox);
    let rules = policy.rules_for(sandbox)?;
    let violation = |code: Code, pointer: String, message: String, rule: &str| {
        // The tree has moved into the typed plan by now: a list is blamed by its key.
        let span = match doc.spans.key(&pointer) {
            Some(key) if pointer == "/destinations" => key,
            _ => doc.spans.node(&pointer),
        };
        Diagnostic::at(code, source, span, message)
            .with_pointer(pointer)
            .with_label_text(format!(
                "breaks `{rule}` ({})",
                policy.rule_place(rules, rule)
            ))
    };
    if let Some(allowed) = &rules.destinations {
        for (i, dest) in raw.destinations.iter().enumerate() {
            let id = dest.id.to_ascii_lowercase();
            if allowed.contains(&id) {
                continue;
            }
            out.push(
                violation(
                    Code::PolicyDestination,
                    format!("/destinations/{i}/id"),
                    format!(
                        "destination `{id}` is not allowed in sandbox `{sandbox}` by the policy"
                    ),
                    "destinations",
                )
                .with_help(format!(
                    "activate only to the dataflows the policy lists ({}), or add this one to it in a reviewed change",
                    plural(allowed.len(), "dataflow", "dataflows")
                ))
                .with_related(policy.rule_diagnostic(
                    rules,
                    "destinations",
                    "the destinations allowed".to_owned(),
                )),
            );
        }
    }
    let distinct = distinct_segments(raw);
    if let Some(max) = rules.max_segments_per_plan
        && distinct as u64 > max
    {
        out.push(
            violation(
                Code::PolicyMaxSegmentsPerPlan,
                "/destinations".to_owned(),
                format!(
                    "the plan activates {}; the policy allows at most {max} per plan in sandbox `{sandbox}`",
                    plural(distinct, "distinct segment", "distinct segments")
                ),
                "maxSegmentsPerPlan",
            )
            .with_help("split the activation into several plans, or raise the limit in a reviewed change")
            .with_related(policy.rule_diagnostic(
                rules,
                "maxSegmentsPerPlan",
                format!("at most {max} per plan"),
            )),
        );
    }
    if rules.require_description
        && raw
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        out.push(
            violation(
                Code::PolicyRequireDescription,
                "/name".to_owned(),
                format!("the plan has no `description`, which the policy requires in sandbox `{sandbox}`"),
                "requireDescription",
            )
            .with_help("add `description:` saying what the activation is for")
            .with_related(policy.rule_diagnostic(
                rules,
                "requireDescription",
                "every plan needs a description".to_owned(),
            )),
        );
    }
    if rules.require_labels {
        require_labels(policy, rules, raw, sandbox, &violation, out);
    }
    rules.max_segments_per_apply.map(|limit| ApplyCount {
        policy: policy.clone(),
        key: rules.key.clone(),
        sandbox: sandbox.to_owned(),
        limit,
        segments: distinct,
    })
}

fn require_labels(
    policy: &Policy,
    rules: &Rules,
    raw: &RawPlan,
    sandbox: &str,
    violation: &dyn Fn(Code, String, String, &str) -> Diagnostic,
    out: &mut Vec<Diagnostic>,
) {
    let related = || {
        policy.rule_diagnostic(
            rules,
            "requireLabels",
            "every destination and segment needs a `name:`".to_owned(),
        )
    };
    for (i, dest) in raw.destinations.iter().enumerate() {
        if dest.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            out.push(
                violation(
                    Code::PolicyRequireLabels,
                    format!("/destinations/{i}/id"),
                    format!(
                        "destination `{}` has no `name:` label, which the policy requires in sandbox `{sandbox}`",
                        dest.id
                    ),
                    "requireLabels",
                )
                .with_help("add `name:` to the destination with the dataflow's name on the platform")
                .with_related(related()),
            );
        }
        for (j, segment) in dest.segments.iter().enumerate() {
            if segment.name().is_none_or(|n| n.trim().is_empty()) {
                out.push(
                    violation(
                        Code::PolicyRequireLabels,
                        format!("/destinations/{i}/segments/{j}"),
                        format!(
                            "segment `{}` has no `name:` label, which the policy requires in sandbox `{sandbox}`",
                            segment.id()
                        ),
                        "requireLabels",
                    )
                    .with_help("write the segment as `{id: …, name: …}` with the audience's name on the platform")
                    .with_related(related()),
                );
            }
        }
    }
}

/// Distinct segment IDs of a plan (case-insensitive, as the guardrails count them).
fn distinct_segments(raw: &RawPlan) -> usize {
    raw.destinations
        .iter()
        .flat_map(|d| &d.segments)
        .map(|s| s.id().to_ascii_lowercase())
        .collect::<HashSet<_>>()
        .len()
}

/// Checks `maxSegmentsPerApply` over the plans of one command: per policy and sandbox, the
/// plans' distinct segments added up in file order.
///
/// Returns, per plan index of `counts`, the diagnostic of the plan that goes past the limit
/// (every later plan of that sandbox too), to be placed on its `destinations` by the caller:
/// (index, message, label, help, related).
pub fn over_apply_limit(counts: &[(usize, ApplyCount)]) -> Vec<(usize, ApplyProblem)> {
    let mut totals: std::collections::HashMap<(*const Policy, String), usize> =
        std::collections::HashMap::new();
    let mut found = Vec::new();
    for (index, count) in counts {
        let total = totals
            .entry((Arc::as_ptr(&count.policy), count.sandbox.clone()))
            .or_default();
        *total += count.segments;
        if *total as u64 > count.limit {
            let rules = count
                .policy
                .sandboxes
                .get(&count.key)
                .expect("invariant: the key was taken from this policy");
            found.push((
                *index,
                ApplyProblem {
                    message: format!(
                        "the plans given activate {} in sandbox `{}` up to this one (each plan's distinct segments, added up); the policy allows at most {} per command",
                        plural(*total, "segment", "segments"),
                        count.sandbox,
                        count.limit
                    ),
                    label: format!(
                        "breaks `maxSegmentsPerApply` ({})",
                        count.policy.rule_place(rules, "maxSegmentsPerApply")
                    ),
                    related: count.policy.rule_diagnostic(
                        rules,
                        "maxSegmentsPerApply",
                        format!("at most {} per command", count.limit),
                    ),
                },
            ));
        }
    }
    found
}

/// A plan past `maxSegmentsPerApply`, to be placed on its file.
#[derive(Debug)]
pub struct ApplyProblem {
    pub message: String,
    pub label: String,
    pub related: Diagnostic,
}
