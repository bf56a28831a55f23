//! Offline guardrails: the platform's rules that a schema cannot express.
//!
//! [`check_plan`] runs on one schema-valid plan and, when nothing is wrong, returns the checked
//! [`Plan`]. [`check_across`](super::across::check_across) runs over the plans of one invocation. Each rule emits a
//! diagnostic with its own code (see `diags.rs`) and labels both the offending node and the one
//! it clashes with.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::diags::{Code, Diagnostic};
use super::load::Document;
use super::model::{
    Destination, Exports, Lines, Plan, RawExportId, RawExports, RawPlan, RawSegment,
};
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
/// Returns the [`segment_key`]s of the plan's distinct segments (for the cross-plan checks),
/// and, when `want_plan` is
/// set, the checked plan unless an error was pushed to `out` (`validate` without `--split`
/// needs no plan, so none is built).
pub fn check_plan(
    raw: RawPlan,
    doc: &Document,
    source: &SourceFile,
    options: &CheckOptions,
    want_plan: bool,
    out: &mut Vec<Diagnostic>,
) -> (Vec<u64>, Option<Plan>) {
    let errors_before = out.len();
    let exports = check_exports(&raw, doc, source, options, out);

    // Every segment as listed, with its key: comparing keys tells most pairs apart without
    // comparing the IDs.
    let mut listed: Vec<Listed<'_>> =
        Vec::with_capacity(raw.destinations.iter().map(|d| d.segments.len()).sum());
    for (d, dest) in raw.destinations.iter().enumerate() {
        for (s, segment) in dest.segments.iter().enumerate() {
            let id = segment.id();
            listed.push(Listed {
                key: segment_key(id),
                id,
                d,
                s,
            });
        }
    }

    // Destinations listed twice, and segments listed twice under one destination.
    let destinations = &raw.destinations;
    let mut repeated_destinations = first_listings(
        destinations.len(),
        |i| segment_key(&destinations[i].id),
        |i| &destinations[i].id,
    )
    .into_iter()
    .peekable();
    let mut start = 0;
    for (d, dest) in destinations.iter().enumerate() {
        if let Some((_, first)) = repeated_destinations.next_if(|&(again, _)| again == d) {
            out.push(
                Diagnostic::at(
                    Code::DuplicateDestination,
                    source,
                    doc.spans.node(&format!("/destinations/{d}/id")),
                    format!("destination `{}` is listed twice", dest.id),
                )
                .with_label_text("listed again here")
                .with_label(
                    doc.spans.node(&format!("/destinations/{first}/id")),
                    "first listed here",
                )
                .with_pointer(format!("/destinations/{d}/id"))
                .with_help("merge the two entries into one: list each destination once, with all of its segments"),
            );
        }
        let here = &listed[start..start + dest.segments.len()];
        start += dest.segments.len();
        for (s, first) in first_listings(here.len(), |i| here[i].key, |i| here[i].id) {
            out.push(
                Diagnostic::at(
                    Code::DuplicateSegment,
                    source,
                    segment_span(doc, d, s),
                    format!(
                        "segment `{}` is listed twice under destination `{}`",
                        here[s].id, dest.id
                    ),
                )
                .with_label_text("listed again here")
                .with_label(segment_span(doc, d, first), "first listed here")
                .with_pointer(format!("/destinations/{d}/segments/{s}"))
                .with_help("remove one of the two entries"),
            );
        }
    }

    // Distinct segments, with where each is first listed.
    let mut segments = listed;
    let repeated = first_listings(segments.len(), |i| segments[i].key, |i| segments[i].id);
    if !repeated.is_empty() {
        let mut repeated = repeated.into_iter().map(|(again, _)| again).peekable();
        let mut i = 0;
        segments.retain(|_| {
            let keep = repeated.next_if_eq(&i).is_none();
            i += 1;
            keep
        });
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
        if let Some(&Listed { d, s, .. }) = segments.get(limit) {
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

    check_expectations(&raw, doc, source, out);

    let distinct: Vec<u64> = segments.iter().map(|listed| listed.key).collect();
    if out.len() > errors_before || !want_plan {
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
                expect: d
                    .expect
                    .as_ref()
                    .map(crate::plan::model::RawExpect::to_expect),
                id: d.id,
                name: d.name,
                segments: d
                    .segments
                    .into_iter()
                    .map(RawSegment::into_segment)
                    .collect(),
            })
            .collect(),
        run: raw.run.0,
        // Filled in by the check of the file, which still has the tree (see `check_document`).
        lines: Lines::default(),
        // Set by the check of the file, which knows where the plan is (see `check_document`).
        policy: None,
    };
    (distinct, Some(plan))
}

/// Every `expect` (of a destination or a segment) has `minRecords <= maxRecords`: bounds no
/// number can meet would make every activation `unexpected`.
fn check_expectations(
    raw: &RawPlan,
    doc: &Document,
    source: &SourceFile,
    out: &mut Vec<Diagnostic>,
) {
    // The pointer is built only for the rare plan that breaks the rule (this runs per plan).
    let mut check = |expect: Option<&crate::plan::model::RawExpect>, at: &dyn Fn() -> String| {
        let Some(bounds) = expect.map(crate::plan::model::RawExpect::to_expect) else {
            return;
        };
        let (Some(min), Some(max)) = (bounds.min_records, bounds.max_records) else {
            return;
        };
        if min <= max {
            return;
        }
        let at = at();
        out.push(
            Diagnostic::at(
                Code::ExpectBounds,
                source,
                doc.spans.node(&format!("{at}/minRecords")),
                format!("`expect` asks for at least {min} records and at most {max}: no number of records meets both"),
            )
            .with_label_text(format!("at least {min}"))
            .with_label(doc.spans.node(&format!("{at}/maxRecords")), format!("at most {max}"))
            .with_pointer(format!("{at}/minRecords"))
            .with_help("make `minRecords` at most `maxRecords`, or leave one of them out"),
        );
    };
    for (d, dest) in raw.destinations.iter().enumerate() {
        check(dest.expect.as_ref(), &|| {
            format!("/destinations/{d}/expect")
        });
        for (s, segment) in dest.segments.iter().enumerate() {
            if let RawSegment::Detailed(detail) = segment {
                check(detail.expect.as_ref(), &|| {
                    format!("/destinations/{d}/segments/{s}/expect")
                });
            }
        }
    }
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
    let pointer = || format!("/exports/{i}");
    let written = match id {
        RawExportId::Digits(digits) => digits.as_str(),
        // The number as written in the file: `011037` is read as 11037 (YAML 1.2).
        RawExportId::Number(_) => {
            let span = doc.spans.node(&pointer());
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
        doc.spans.node(&pointer()),
        format!("export job ID `{written}` is written with a leading zero"),
    )
    .with_label_text("leading zero")
    .with_pointer(pointer())
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

/// A segment as a plan lists it: its ID, the ID's [`segment_key`], and where it is
/// (destination `d`, entry `s`).
struct Listed<'a> {
    key: u64,
    id: &'a str,
    d: usize,
    s: usize,
}

/// The items (of `count`) listed before, each with the position of its first listing, in
/// order. `key(i)` is a hash of item `i`'s ID `id(i)`: only items with equal keys are compared.
///
/// Lists in plans are short (a job holds at most 80 segments), so they are compared pairwise
/// rather than hashed into a map; a long list (a hostile file) is, to stay linear.
fn first_listings<'a>(
    count: usize,
    key: impl Fn(usize) -> u64,
    id: impl Fn(usize) -> &'a str,
) -> Vec<(usize, usize)> {
    const PAIRWISE_UP_TO: usize = 32;
    if count <= PAIRWISE_UP_TO {
        return (1..count)
            .filter_map(|i| {
                let k = key(i);
                let first = (0..i).find(|&j| key(j) == k && id(j) == id(i))?;
                Some((i, first))
            })
            .collect();
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(count);
    (0..count)
        .filter_map(|i| match seen.entry(id(i)) {
            Entry::Occupied(first) => Some((i, *first.get())),
            Entry::Vacant(slot) => {
                slot.insert(i);
                None
            }
        })
        .collect()
}

pub(super) fn segment_span(doc: &Document, d: usize, s: usize) -> CharSpan {
    let pointer = format!("/destinations/{d}/segments/{s}");
    // `{id, name}` entries are blamed by their ID, bare entries by themselves.
    let id_pointer = format!("{pointer}/id");
    if doc.spans.key(&id_pointer).is_some() {
        doc.spans.node(&id_pointer)
    } else {
        doc.spans.node(&pointer)
    }
}

/// The key the cross-plan checks keep a segment ID under (`across.rs`): 64 bits mixed from its
/// text, 8 bytes at a time. Different IDs may share a key; the checks resolve shared keys to
/// the IDs behind them.
pub fn segment_key(id: &str) -> u64 {
    bytes_key(id.as_bytes())
}

/// [`segment_key`] of any bytes (a file name's, for the lockfile check in `identity.rs`).
pub fn bytes_key(bytes: &[u8]) -> u64 {
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: u64, word: u64| (hash ^ word).wrapping_mul(MIX).rotate_left(31);
    let mut hash = MIX ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word: [u8; 8] = word
            .try_into()
            .expect("invariant: chunks_exact gives 8 bytes");
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    hash ^ (hash >> 29)
}

/// The 128 bits of a UUID already checked against the schema's pattern.
pub fn uuid_bits(id: &str) -> u128 {
    id.bytes().fold(0u128, |acc, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return acc,
        };
        (acc << 4) | u128::from(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::{FileReport, check_source};
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
}
