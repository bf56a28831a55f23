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
use super::model::{Destination, Exports, Lines, Plan, RawExportId, RawExports, RawPlan, Segment};
use super::source::{CharSpan, SourceFile};
use crate::api::AdhocApiVersion;

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

/// Runs every single-plan guardrail on a schema-valid plan.
///
/// Returns the plan's distinct segments (for the cross-plan checks), and the checked plan unless
/// an error was pushed to `out`.
pub fn check_plan(
    raw: RawPlan,
    doc: &Document,
    source: &SourceFile,
    options: &CheckOptions,
    out: &mut Vec<Diagnostic>,
) -> (Vec<u128>, Option<Plan>) {
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
    // Distinct segments, with where each is first listed.
    let mut segments: Vec<(u128, usize, usize)> = Vec::new();
    let mut index = std::collections::HashSet::new();
    for (d, dest) in raw.destinations.iter().enumerate() {
        for (s, segment) in dest.segments.iter().enumerate() {
            let id = uuid_bits(segment.id());
            if index.insert(id) {
                segments.push((id, d, s));
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
        if let Some(&(_, d, s)) = segments.get(limit) {
            diag = diag.with_label(
                segment_span(doc, d, s),
                format!("segment {} is over the limit", limit + 1),
            );
        }
        out.push(diag);
    }

    // The schema admits the shape of `guardWindow`; the length is checked here.
    let guard_window = raw.guard_window.as_ref().and_then(|window| {
        let text = match window {
            crate::plan::model::RawDuration::Text(text) => text.as_str(),
            crate::plan::model::RawDuration::Zero(_) => "0",
        };
        match crate::time::parse_duration(text) {
            Ok(d) => Some(d),
            Err(message) => {
                out.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        source,
                        doc.spans.node("/guardWindow"),
                        format!("`guardWindow`: {message}"),
                    )
                    .with_label_text("this window")
                    .with_pointer("/guardWindow")
                    .with_help("give a window such as `1h`, `30m` or `2h30m` (at most a week), or `0` to turn the check off"),
                );
                None
            }
        }
    });

    let distinct: Vec<u128> = segments.iter().map(|&(id, _, _)| id).collect();
    if out.len() > errors_before {
        return (distinct, None);
    }
    let Some(exports) = exports else {
        return (distinct, None);
    };
    let plan = Plan {
        path: Arc::from(source.name()),
        // The check of files replaces this with the canonical file (see `check::check_file`).
        file: Arc::from(std::path::Path::new(source.name())),
        guard_window,
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
        run: raw.run.0,
        lines: Lines::of_plan(doc, source),
    };
    (distinct, Some(plan))
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
                if let Some(diag) = leading_zero(id, i, &seen, doc, source) {
                    ok = false;
                    out.push(diag);
                    continue;
                }
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

/// An export job ID written with leading zeros: `"011037"` would be sent as another string
/// than `11037` although both name job 11037, and YAML 1.1 tools read an unquoted `011037` as
/// octal (4639). Refused rather than normalised, so that what is sent is what the plan says.
///
/// Returns the diagnostic, labelled at the ID (and at an entry naming the same job, if any).
fn leading_zero(
    id: &RawExportId,
    i: usize,
    seen: &HashMap<String, usize>,
    doc: &Document,
    source: &SourceFile,
) -> Option<Diagnostic> {
    let pointer = format!("/exports/{i}");
    let span = doc.spans.node(&pointer);
    let written = match id {
        RawExportId::Digits(digits) => digits.as_str(),
        // The number as written in the file: `011037` is read as 11037 (YAML 1.2).
        RawExportId::Number(_) => {
            let text = source.text();
            let (start, end) = (
                source.byte_of_char(span.start),
                source.byte_of_char(span.end),
            );
            text.get(start..end).unwrap_or_default()
        }
    };
    if written.len() < 2
        || !written.starts_with('0')
        || !written.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let canonical = match written.trim_start_matches('0') {
        "" => "0",
        rest => rest,
    };
    let mut diag = Diagnostic::at(
        Code::ExportIdLeadingZero,
        source,
        span,
        format!("export job ID `{written}` is written with a leading zero"),
    )
    .with_label_text("leading zero")
    .with_pointer(pointer)
    .with_help(match id {
        RawExportId::Digits(_) => format!(
            "write `{canonical}`: export job IDs are integers, and the string `\"{written}\"` would be sent as is, another ID than `{canonical}`"
        ),
        RawExportId::Number(_) => format!(
            "write `{canonical}`: aepact reads `{written}` as {canonical} (YAML 1.2), but YAML 1.1 tools (PyYAML, many editors) read a number with a leading zero as octal"
        ),
    });
    if let Some(first) = seen.get(canonical) {
        diag = diag.with_label(
            doc.spans.node(&format!("/exports/{first}")),
            format!("job `{canonical}` is already listed here"),
        );
    }
    Some(diag)
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

/// A segment a plan lists, as the cross-plan checks keep it: 20 bytes (the UUID's 128 bits
/// and the plan's index, 4-byte aligned), so that the segments of thousands of plans take
/// little memory. Spans are found again (by reading the file once more) only for the few
/// segments that turn out to be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SegmentUse {
    id: [u32; 4],
    plan: u32,
}

impl SegmentUse {
    pub fn new(id: u128, plan: usize) -> Self {
        Self {
            id: [
                (id >> 96) as u32,
                (id >> 64) as u32,
                (id >> 32) as u32,
                id as u32,
            ],
            plan: plan as u32,
        }
    }

    fn id(&self) -> u128 {
        self.id
            .iter()
            .fold(0u128, |acc, part| (acc << 32) | u128::from(*part))
    }
}

/// Merges sorted lists into one sorted stream, without copying them into one list (at 10,000
/// plans the lists are the largest thing `validate` holds).
fn merge_sorted(parts: &[Vec<SegmentUse>]) -> impl Iterator<Item = SegmentUse> + '_ {
    let mut heads = vec![0usize; parts.len()];
    std::iter::from_fn(move || {
        let (k, next) = parts
            .iter()
            .zip(&heads)
            .enumerate()
            .filter_map(|(k, (part, &h))| part.get(h).map(|u| (k, *u)))
            .min_by_key(|(_, u)| *u)?;
        heads[k] += 1;
        Some(next)
    })
}

/// A plan file as the cross-plan checks see it; `name` is `None` when the file held no
/// schema-valid plan (it then takes no part).
#[derive(Debug, Clone, Copy)]
pub struct CrossPlan<'a> {
    pub path: &'a str,
    pub name: Option<&'a str>,
}

/// Checks across the plans of one invocation: unique names, and no segment in two plans (they
/// would be separate ad-hoc jobs, which the platform forbids running concurrently per segment).
///
/// `uses` holds every plan's distinct segments, `plan` indexing `plans`, in any number of lists
/// (one per worker); each list is sorted in place.
/// `load` reads a plan's source again, to point at the clash. Returns each diagnostic with the
/// index of the plan it belongs to.
pub fn check_across(
    plans: &[CrossPlan<'_>],
    uses: &mut [Vec<SegmentUse>],
    load: &dyn Fn(usize) -> Option<SourceFile>,
) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let mut sites = Sites {
        load,
        cache: HashMap::new(),
    };

    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, plan) in plans.iter().enumerate() {
        let Some(name) = plan.name else { continue };
        match names.entry(name) {
            Entry::Occupied(first) => {
                let j = *first.get();
                let related = sites
                    .name(j, plans, format!("plan `{name}` is first named here"))
                    .with_label_text("first used here");
                out.push((
                    i,
                    sites
                        .name(
                            i,
                            plans,
                            format!("plan name `{name}` is already used by `{}`", plans[j].path),
                        )
                        .with_label_text("used again here")
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

    // Sorted, each segment's uses sit together, earliest plan first: every later plan shares it
    // with that first one. Then one warning per pair of plans.
    for part in uses.iter_mut() {
        part.sort_unstable();
    }
    let mut pairs: Vec<(usize, usize, u128)> = Vec::new();
    let mut first: Option<SegmentUse> = None;
    for use_ in merge_sorted(uses) {
        match first {
            Some(f) if f.id == use_.id => {
                pairs.push((use_.plan as usize, f.plan as usize, use_.id()));
            }
            _ => first = Some(use_),
        }
    }
    pairs.sort_unstable();
    for group in pairs.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (i, j, _) = group[0];
        // Point at the shared segments in the order the plan lists them.
        let mut ids: Vec<u128> = group.iter().map(|&(_, _, id)| id).collect();
        ids.sort_by_cached_key(|&id| sites.position(i, id));
        let id = ids[0];
        let (name_i, name_j) = (plans[i].name.unwrap_or("?"), plans[j].name.unwrap_or("?"));
        let count = group.len();
        let first_id = format_uuid(id);
        let what = if count == 1 {
            format!("segment `{first_id}`")
        } else {
            format!("{count} segments (`{first_id}` and {} more)", count - 1)
        };
        let mut diag = sites
            .segment(
                i,
                plans,
                id,
                format!(
                    "plan `{name_i}` activates {what} that plan `{name_j}` (`{}`) activates too",
                    plans[j].path
                ),
            )
            .warning()
            .with_label_text("also in another plan")
            .with_help(format!(
                "the platform refuses two ad-hoc jobs for one segment at the same time: apply `{name_j}` and `{name_i}` one after the other, or merge them"
            ));
        for &other in ids.iter().skip(1).take(4) {
            if let Some(span) = sites.segment_span(i, other) {
                diag = diag.with_label(span, "also in another plan");
            }
        }
        let related = sites
            .segment(j, plans, id, format!("plan `{name_j}` activates it here"))
            .warning()
            .with_label_text("first activated here");
        out.push((i, diag.with_related(related)));
    }
    out
}

/// Finds where names and segments are in plan files read again, reading each file once.
struct Sites<'l> {
    load: &'l dyn Fn(usize) -> Option<SourceFile>,
    cache: HashMap<usize, Option<(SourceFile, Document)>>,
}

impl Sites<'_> {
    fn get(&mut self, plan: usize) -> Option<&(SourceFile, Document)> {
        let load = self.load;
        self.cache
            .entry(plan)
            .or_insert_with(|| {
                let source = load(plan)?;
                let doc = super::load::parse(&source).ok()?;
                Some((source, doc))
            })
            .as_ref()
    }

    /// A diagnostic at the plan's `name`.
    fn name(&mut self, plan: usize, plans: &[CrossPlan<'_>], message: String) -> Diagnostic {
        match self.get(plan) {
            Some((source, doc)) => Diagnostic::at(
                Code::DuplicateName,
                source,
                doc.spans.node("/name"),
                message,
            )
            .with_pointer("/name"),
            None => Diagnostic::error(Code::DuplicateName, plans[plan].path, message),
        }
    }

    /// A diagnostic at the first listing of segment `id` in the plan.
    fn segment(
        &mut self,
        plan: usize,
        plans: &[CrossPlan<'_>],
        id: u128,
        message: String,
    ) -> Diagnostic {
        let found = self.get(plan).and_then(|(source, doc)| {
            let (d, s) = find_segment(doc, id)?;
            Some(
                Diagnostic::at(
                    Code::SegmentInSeveralPlans,
                    source,
                    segment_span(doc, d, s),
                    message.clone(),
                )
                .with_pointer(format!("/destinations/{d}/segments/{s}")),
            )
        });
        found.unwrap_or_else(|| {
            Diagnostic::error(Code::SegmentInSeveralPlans, plans[plan].path, message)
        })
    }

    /// Where segment `id` is first listed, as (destination, segment) indices.
    fn position(&mut self, plan: usize, id: u128) -> Option<(usize, usize)> {
        find_segment(&self.get(plan)?.1, id)
    }

    fn segment_span(&mut self, plan: usize, id: u128) -> Option<CharSpan> {
        let (_, doc) = self.get(plan)?;
        let (d, s) = find_segment(doc, id)?;
        Some(segment_span(doc, d, s))
    }
}

/// Where a segment is first listed in a (schema-valid) plan document.
fn find_segment(doc: &Document, id: u128) -> Option<(usize, usize)> {
    let destinations = doc.value.get("destinations")?.as_array()?;
    destinations.iter().enumerate().find_map(|(d, dest)| {
        let segments = dest.get("segments")?.as_array()?;
        segments
            .iter()
            .position(|seg| {
                let text = seg.as_str().or_else(|| seg.get("id")?.as_str());
                text.is_some_and(|t| uuid_bits(t) == id)
            })
            .map(|s| (d, s))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::{FileReport, check_source};
    use crate::plan::diags::Severity;
    use crate::plan::model::Job;

    const DEST_A: &str = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    const DEST_B: &str = "3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e";

    fn seg(n: usize) -> String {
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    /// A plan with the given destinations, each a list of segment numbers.
    fn yaml(exports: Option<&str>, destinations: &[(&str, &[usize])]) -> String {
        let mut text = String::from("apiVersion: aepact/v1\nname: test-plan\n");
        if let Some(e) = exports {
            text.push_str(&format!("exports: {e}\n"));
        }
        text.push_str("destinations:\n");
        for (id, segments) in destinations {
            text.push_str(&format!("  - id: {id}\n    segments:\n"));
            for n in *segments {
                text.push_str(&format!("      - {}\n", seg(*n)));
            }
        }
        text
    }

    fn check(text: &str, options: CheckOptions) -> FileReport {
        let source = SourceFile::new("plan.yaml", text);
        check_source(&source, "plan.yaml".into(), &options, true).0
    }

    fn codes(report: &FileReport) -> Vec<Code> {
        report.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn accepts_a_valid_plan_and_normalises_it() {
        let text = "apiVersion: aepact/v1\nname: ok\nexports: [11037, \"11038\"]\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    name: Email\n    segments:\n      - {id: 00000000-0000-4000-8000-000000000001, name: Gold}\n      - 00000000-0000-4000-8000-000000000002\n";
        let report = check(text, CheckOptions::default());
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        let plan = report.plan.unwrap();
        assert_eq!(
            plan.exports,
            Exports::Ids(vec!["11037".into(), "11038".into()])
        );
        assert_eq!(plan.run, 1);
        assert_eq!(plan.destinations[0].name.as_deref(), Some("Email"));
        assert_eq!(
            plan.destinations[0].segments[0].name.as_deref(),
            Some("Gold")
        );
        assert_eq!(plan.destinations[0].segments[1].name, None);
    }

    #[test]
    fn rejects_a_destination_listed_twice() {
        let report = check(
            &yaml(
                Some("latest"),
                &[(DEST_A, &[1]), (DEST_B, &[2]), (DEST_A, &[3])],
            ),
            CheckOptions::default(),
        );
        assert_eq!(codes(&report), [Code::DuplicateDestination]);
        let diag = &report.diagnostics[0];
        assert_eq!(diag.labels.len(), 2);
        assert_eq!(diag.pointer.as_deref(), Some("/destinations/2/id"));
        assert!(report.plan.is_none());
    }

    #[test]
    fn rejects_a_segment_twice_under_one_destination_but_not_under_two() {
        let report = check(
            &yaml(Some("latest"), &[(DEST_A, &[1, 2, 1])]),
            CheckOptions::default(),
        );
        assert_eq!(codes(&report), [Code::DuplicateSegment]);
        assert_eq!(
            report.diagnostics[0].pointer.as_deref(),
            Some("/destinations/0/segments/2")
        );
        let report = check(
            &yaml(Some("latest"), &[(DEST_A, &[1, 2]), (DEST_B, &[1])]),
            CheckOptions::default(),
        );
        assert!(report.diagnostics.is_empty());
    }

    #[test]
    fn limits_distinct_segments_per_job_by_api_version() {
        let twenty: Vec<usize> = (0..20).collect();
        let twenty_one: Vec<usize> = (0..21).collect();
        let v1 = CheckOptions::default();
        assert!(
            check(&yaml(Some("latest"), &[(DEST_A, &twenty)]), v1)
                .diagnostics
                .is_empty()
        );
        // Shared segments count once.
        let report = check(
            &yaml(Some("latest"), &[(DEST_A, &twenty), (DEST_B, &twenty)]),
            v1,
        );
        assert!(report.diagnostics.is_empty());
        let report = check(&yaml(Some("latest"), &[(DEST_A, &twenty_one)]), v1);
        assert_eq!(codes(&report), [Code::TooManySegments]);

        let v2 = CheckOptions {
            api_version: AdhocApiVersion::V2,
            ..CheckOptions::default()
        };
        let eighty: Vec<usize> = (0..80).collect();
        let eighty_one: Vec<usize> = (0..81).collect();
        assert!(
            check(&yaml(None, &[(DEST_A, &eighty)]), v2)
                .diagnostics
                .is_empty()
        );
        assert_eq!(
            codes(&check(&yaml(None, &[(DEST_A, &eighty_one)]), v2)),
            [Code::TooManySegments]
        );

        let lowered = CheckOptions {
            max_segments_per_job: Some(3),
            ..CheckOptions::default()
        };
        assert_eq!(
            codes(&check(
                &yaml(Some("latest"), &[(DEST_A, &[1, 2, 3, 4])]),
                lowered
            )),
            [Code::TooManySegments]
        );
    }

    #[test]
    fn split_packs_instead_of_failing() {
        let options = CheckOptions {
            max_segments_per_job: Some(2),
            split: true,
            ..CheckOptions::default()
        };
        let report = check(
            &yaml(Some("latest"), &[(DEST_A, &[1, 2, 3]), (DEST_B, &[3, 1])]),
            options,
        );
        assert!(report.diagnostics.is_empty());
        let plan = report.plan.unwrap();
        assert_eq!(
            plan.jobs(2),
            [
                Job {
                    segments: vec![seg(1), seg(2)],
                    activation: vec![
                        (DEST_A.into(), vec![seg(1), seg(2)]),
                        (DEST_B.into(), vec![seg(1)]),
                    ],
                },
                Job {
                    segments: vec![seg(3)],
                    activation: vec![(DEST_A.into(), vec![seg(3)]), (DEST_B.into(), vec![seg(3)]),],
                },
            ]
        );
        assert_eq!(report.jobs.unwrap().len(), 2);
    }

    #[test]
    fn exports_are_required_under_v1_only() {
        let text = yaml(None, &[(DEST_A, &[1])]);
        assert_eq!(
            codes(&check(&text, CheckOptions::default())),
            [Code::MissingExports]
        );
        let v2 = CheckOptions {
            api_version: AdhocApiVersion::V2,
            ..CheckOptions::default()
        };
        let report = check(&text, v2);
        assert!(report.diagnostics.is_empty());
        assert_eq!(report.plan.unwrap().exports, Exports::Omitted);
    }

    #[test]
    fn the_same_export_id_twice_is_an_error_however_written() {
        let report = check(
            &yaml(Some("[11037, \"11037\"]"), &[(DEST_A, &[1])]),
            CheckOptions::default(),
        );
        assert_eq!(codes(&report), [Code::DuplicateExport]);
    }

    /// Runs the cross-plan checks over in-memory plans, each a name and its segments.
    fn across(plans: &[(&str, &[usize])]) -> Vec<(usize, Diagnostic)> {
        let sources: Vec<SourceFile> = plans
            .iter()
            .enumerate()
            .map(|(i, (name, segments))| {
                let text = yaml(Some("latest"), &[(DEST_A, segments)]).replace("test-plan", name);
                SourceFile::new(format!("{i}.yaml"), text)
            })
            .collect();
        let mut uses = Vec::new();
        let mut names = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let (report, distinct) = check_source(
                source,
                source.name().into(),
                &CheckOptions::default(),
                false,
            );
            uses.extend(distinct.into_iter().map(|id| SegmentUse::new(id, i)));
            names.push(report.plan_name);
        }
        let cross: Vec<CrossPlan<'_>> = sources
            .iter()
            .zip(&names)
            .map(|(source, name)| CrossPlan {
                path: source.name(),
                name: name.as_deref(),
            })
            .collect();
        check_across(&cross, &mut [uses], &|i| Some(sources[i].clone()))
    }

    #[test]
    fn plans_of_one_invocation_need_unique_names() {
        let found = across(&[("same", &[1]), ("other", &[2]), ("same", &[3])]);
        assert_eq!(found.len(), 1);
        let (i, diag) = &found[0];
        assert_eq!(*i, 2);
        assert_eq!(diag.code, Code::DuplicateName);
        assert_eq!(diag.severity, Severity::Error);
        assert_eq!(diag.position().unwrap().line, 2);
        assert_eq!(&*diag.related[0].path, "0.yaml");
    }

    #[test]
    fn a_segment_in_two_plans_is_one_warning_per_pair_of_plans() {
        let found = across(&[("a", &[1, 2, 3]), ("b", &[4, 5]), ("c", &[3, 2, 5, 9])]);
        let seen: Vec<(usize, &str, Severity, Option<&str>)> = found
            .iter()
            .map(|(i, d)| (*i, &*d.related[0].path, d.severity, d.pointer.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    2,
                    "0.yaml",
                    Severity::Warning,
                    Some("/destinations/0/segments/0")
                ),
                (
                    2,
                    "1.yaml",
                    Severity::Warning,
                    Some("/destinations/0/segments/2")
                ),
            ]
        );
        assert!(
            found[0].1.message.contains("2 segments"),
            "{}",
            found[0].1.message
        );
        assert_eq!(found[0].1.labels.len(), 2);
    }

    #[test]
    fn uuid_bits_round_trip() {
        let id = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
        assert_eq!(format_uuid(uuid_bits(id)), id);
    }
}
