//! Offline guardrails: the platform's rules that a schema cannot express.
//!
//! [`check_plan`] runs on one schema-valid plan and, when nothing is wrong, returns the checked
//! [`Plan`]. [`check_across`] runs over the plans of one invocation. Each rule emits a
//! diagnostic with its own code (see `diags.rs`) and labels both the offending node and the one
//! it clashes with.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::diags::{Code, Diagnostic};
use super::load::Document;
use super::model::{AdhocApiVersion, Destination, Exports, Plan, RawExports, RawPlan, Segment};
use super::source::{CharSpan, SourceFile};

/// Options that change what the offline checks accept.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// The ad-hoc API version the plans will be sent with.
    pub api_version: AdhocApiVersion,
    /// Overrides the version's segment limit per job.
    pub max_segments_per_job: Option<usize>,
    /// Pack plans over the limit into several jobs instead of refusing them.
    pub split: bool,
}

impl CheckOptions {
    /// Most distinct segments in one job.
    pub fn segment_limit(&self) -> usize {
        self.max_segments_per_job
            .unwrap_or_else(|| self.api_version.max_segments_per_job())
    }
}

/// What the cross-plan checks need from each valid plan, kept small so that checking thousands
/// of files never holds their text or full models at once.
#[derive(Debug, Clone)]
pub struct PlanSummary {
    pub name: String,
    pub name_span: CharSpan,
    /// Distinct segments with the span of their first listing.
    pub segments: Vec<(u128, CharSpan)>,
}

/// Runs every single-plan guardrail on a schema-valid plan.
///
/// Returns the plan's summary for the cross-plan checks, and the checked plan unless an error was
/// pushed to `out`.
pub fn check_plan(
    raw: RawPlan,
    doc: &Document,
    source: &SourceFile,
    options: &CheckOptions,
    out: &mut Vec<Diagnostic>,
) -> (PlanSummary, Option<Plan>) {
    let errors_before = out.len();
    let exports = check_exports(&raw, doc, source, options, out);

    // Destinations listed twice, and segments listed twice under one destination.
    let mut seen_destinations: HashMap<&str, usize> = HashMap::new();
    for (d, dest) in raw.destinations.iter().enumerate() {
        match seen_destinations.entry(dest.id.as_str()) {
            Entry::Occupied(first) => out.push(
                Diagnostic::at(
                    Code::DuplicateDestination,
                    source,
                    doc.spans.node(&format!("/destinations/{d}/id")),
                    format!("destination `{}` is listed twice", dest.id),
                )
                .with_label_text("listed again here")
                .with_label(
                    doc.spans.node(&format!("/destinations/{}/id", first.get())),
                    "first listed here",
                )
                .with_pointer(format!("/destinations/{d}/id"))
                .with_help("merge the two entries into one: list each destination once, with all of its segments"),
            ),
            Entry::Vacant(slot) => {
                slot.insert(d);
            }
        }
        let mut seen_segments: HashMap<&str, usize> = HashMap::new();
        for (s, segment) in dest.segments.iter().enumerate() {
            match seen_segments.entry(segment.id()) {
                Entry::Occupied(first) => out.push(
                    Diagnostic::at(
                        Code::DuplicateSegment,
                        source,
                        segment_span(doc, d, s),
                        format!(
                            "segment `{}` is listed twice under destination `{}`",
                            segment.id(),
                            dest.id
                        ),
                    )
                    .with_label_text("listed again here")
                    .with_label(segment_span(doc, d, *first.get()), "first listed here")
                    .with_pointer(format!("/destinations/{d}/segments/{s}"))
                    .with_help("remove one of the two entries"),
                ),
                Entry::Vacant(slot) => {
                    slot.insert(s);
                }
            }
        }
    }

    // Distinct segments per job.
    let mut segments: Vec<(u128, CharSpan)> = Vec::new();
    let mut index: HashMap<u128, ()> = HashMap::new();
    for (d, dest) in raw.destinations.iter().enumerate() {
        for (s, segment) in dest.segments.iter().enumerate() {
            let id = uuid_bits(segment.id());
            if index.insert(id, ()).is_none() {
                segments.push((id, segment_span(doc, d, s)));
            }
        }
    }
    let limit = options.segment_limit();
    if segments.len() > limit && !options.split {
        let version = options.api_version.number();
        let source_of_limit = match options.max_segments_per_job {
            Some(_) => "`--max-segments-per-job`".to_owned(),
            None => format!("ad-hoc API version {version}"),
        };
        let mut diag = Diagnostic::at(
            Code::TooManySegments,
            source,
            doc.spans.key("/destinations").unwrap_or_default(),
            format!(
                "plan `{}` has {} distinct segments; one job allows at most {limit} ({source_of_limit})",
                raw.name,
                segments.len()
            ),
        )
        .with_label_text(format!("{} distinct segments", segments.len()))
        .with_pointer("/destinations")
        .with_help(format!(
            "split the plan into plans of at most {limit} segments, or pass `--split` to send it as {} jobs{}",
            segments.len().div_ceil(limit),
            if options.api_version == AdhocApiVersion::V1 && options.max_segments_per_job.is_none() {
                " (or `--api-version 2`, which allows 80 per job, if your organisation has it)"
            } else {
                ""
            }
        ));
        if let Some(&(_, span)) = segments.get(limit) {
            diag = diag.with_label(span, format!("segment {} is over the limit", limit + 1));
        }
        out.push(diag);
    }

    let summary = PlanSummary {
        name: raw.name.clone(),
        name_span: doc.spans.node("/name"),
        segments,
    };
    if out.len() > errors_before {
        return (summary, None);
    }
    let Some(exports) = exports else {
        return (summary, None);
    };
    let plan = Plan {
        path: Arc::from(source.name()),
        name: raw.name,
        description: raw.description,
        sandbox: raw.sandbox,
        exports,
        destinations: raw
            .destinations
            .into_iter()
            .map(|d| Destination {
                id: d.id.clone(),
                name: d.name.clone(),
                segments: d
                    .segments
                    .iter()
                    .map(|s| Segment {
                        id: s.id().to_owned(),
                        name: s.name().map(str::to_owned),
                    })
                    .collect(),
            })
            .collect(),
        run: raw.run,
    };
    (summary, Some(plan))
}

fn check_exports(
    raw: &RawPlan,
    doc: &Document,
    source: &SourceFile,
    options: &CheckOptions,
    out: &mut Vec<Diagnostic>,
) -> Option<Exports> {
    match &raw.exports {
        None if options.api_version == AdhocApiVersion::V2 => Some(Exports::Omitted),
        None => {
            out.push(
                Diagnostic::at(
                    Code::MissingExports,
                    source,
                    doc.spans.key("/name").unwrap_or_default(),
                    format!("plan `{}` has no `exports`, which ad-hoc API version 1 requires", raw.name),
                )
                .with_label_text("in this plan")
                .with_pointer("/exports")
                .with_help("add `exports: latest` (the newest finished profile export job) or a list of export job IDs; under `--api-version 2` it may be left out"),
            );
            None
        }
        Some(RawExports::Latest(_)) => Some(Exports::Latest),
        Some(RawExports::Ids(ids)) => {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut normalized = Vec::with_capacity(ids.len());
            let mut ok = true;
            for (i, id) in ids.iter().enumerate() {
                let n = id.normalized();
                match seen.entry(n.clone()) {
                    Entry::Occupied(first) => {
                        ok = false;
                        out.push(
                            Diagnostic::at(
                                Code::DuplicateExport,
                                source,
                                doc.spans.node(&format!("/exports/{i}")),
                                format!("export job `{n}` is listed twice"),
                            )
                            .with_label_text("listed again here")
                            .with_label(
                                doc.spans.node(&format!("/exports/{}", first.get())),
                                "first listed here",
                            )
                            .with_pointer(format!("/exports/{i}"))
                            .with_help("remove one of the two entries (`11037` and `\"11037\"` are the same job)"),
                        );
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(i);
                        normalized.push(n);
                    }
                }
            }
            ok.then_some(Exports::Ids(normalized))
        }
    }
}

fn segment_span(doc: &Document, d: usize, s: usize) -> CharSpan {
    let pointer = format!("/destinations/{d}/segments/{s}");
    // `{id, name}` entries are blamed by their ID, bare entries by themselves.
    let id_pointer = format!("{pointer}/id");
    if doc.spans.key(&id_pointer).is_some() {
        doc.spans.node(&id_pointer)
    } else {
        doc.spans.node(&pointer)
    }
}

/// The 128 bits of a UUID already checked against the schema's pattern; used as a compact key.
pub fn uuid_bits(id: &str) -> u128 {
    id.bytes()
        .filter_map(|b| (b as char).to_digit(16))
        .fold(0u128, |acc, d| (acc << 4) | u128::from(d))
}

/// A valid plan as seen by the cross-plan checks: its file, and a way to read the file again
/// to show snippets (only needed when a problem is found).
pub struct CrossPlan<'a> {
    pub path: &'a Arc<str>,
    pub summary: &'a PlanSummary,
}

/// Checks across the plans of one invocation: unique names, and no segment in two plans (they
/// would be separate ad-hoc jobs, which the platform forbids running concurrently per segment).
///
/// `load` reads a plan's source again for the snippet. Returns each diagnostic with the index of
/// the plan it belongs to.
pub fn check_across(
    plans: &[CrossPlan<'_>],
    load: &dyn Fn(&str) -> Option<SourceFile>,
) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let at = |i: usize, code: Code, span: CharSpan, message: String| {
        let path = plans[i].path;
        match load(path) {
            Some(source) => Diagnostic::at(code, &source, span, message),
            None => Diagnostic::error(code, path.clone(), message),
        }
    };

    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, plan) in plans.iter().enumerate() {
        match names.entry(plan.summary.name.as_str()) {
            Entry::Occupied(first) => {
                let j = *first.get();
                let related = at(
                    j,
                    Code::DuplicateName,
                    plans[j].summary.name_span,
                    format!("plan `{}` is first named here", plan.summary.name),
                )
                .with_label_text("first used here");
                out.push((
                    i,
                    at(
                        i,
                        Code::DuplicateName,
                        plan.summary.name_span,
                        format!(
                            "plan name `{}` is already used by `{}`",
                            plan.summary.name, plans[j].path
                        ),
                    )
                    .with_label_text("used again here")
                    .with_pointer("/name")
                    .with_help(
                        "give each plan a unique `name`: it keys the plan's lockfile records",
                    )
                    .with_related(related),
                ));
            }
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }

    // Segment -> first plan that activates it; then, per later plan, which earlier plans share
    // segments with it.
    let mut first_plan: HashMap<u128, (usize, CharSpan)> = HashMap::new();
    for (i, plan) in plans.iter().enumerate() {
        let mut shared: Vec<(usize, CharSpan, CharSpan, u128)> = Vec::new();
        for &(id, span) in &plan.summary.segments {
            match first_plan.entry(id) {
                Entry::Occupied(first) => {
                    let (j, first_span) = *first.get();
                    shared.push((j, span, first_span, id));
                }
                Entry::Vacant(slot) => {
                    slot.insert((i, span));
                }
            }
        }
        shared.sort_by_key(|s| s.0);
        for group in shared.chunk_by(|a, b| a.0 == b.0) {
            let j = group[0].0;
            let count = group.len();
            let first_id = format_uuid(group[0].3);
            let what = if count == 1 {
                format!("segment `{first_id}`")
            } else {
                format!("{count} segments (`{first_id}` and {} more)", count - 1)
            };
            let mut diag = at(
                i,
                Code::SegmentInSeveralPlans,
                group[0].1,
                format!(
                    "plan `{}` activates {what} that plan `{}` (`{}`) activates too",
                    plan.summary.name, plans[j].summary.name, plans[j].path
                ),
            )
            .warning()
            .with_label_text("also in another plan")
            .with_help(format!(
                "the platform refuses two ad-hoc jobs for one segment at the same time: apply `{}` and `{}` one after the other, or merge them",
                plans[j].summary.name, plan.summary.name
            ));
            for extra in group.iter().skip(1).take(4) {
                diag = diag.with_label(extra.1, "also in another plan");
            }
            let related = at(
                j,
                Code::SegmentInSeveralPlans,
                group[0].2,
                format!("plan `{}` activates it here", plans[j].summary.name),
            )
            .warning()
            .with_label_text("first activated here");
            out.push((i, diag.with_related(related)));
        }
    }
    out
}

fn format_uuid(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
