//! `--format json`: one stable JSON document per invocation.
//!
//! The shape is versioned (`version`), every key is always present (a list `[]` when empty, a
//! value that does not apply `null`), and keys come in the order declared here, so scripts and
//! golden files can rely on it.

use serde::Serialize;

use std::sync::Arc;

use crate::plan::{CheckOptions, CheckReport, Diagnostic, FileReport};

/// Version of the JSON report's shape; bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    version: u32,
    valid: bool,
    summary: Summary,
    options: Options,
    files: Vec<File<'a>>,
    /// YAML files met in directory walks that are not plans, as found: not checked.
    skipped: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    files: usize,
    valid: usize,
    invalid: usize,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    api_version: u8,
    max_segments_per_job: usize,
    split: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    path: &'a str,
    valid: bool,
    plan: Option<&'a str>,
    diagnostics: Vec<Diag<'a>>,
    jobs: Option<Vec<Job<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Job<'a> {
    segments: &'a [String],
    destinations: &'a [String],
}

/// One diagnostic; positions are 1-based, columns in characters.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diag<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    help: Option<&'a str>,
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    pointer: Option<&'a str>,
    related: Vec<Diag<'a>>,
}

impl<'a> Diag<'a> {
    pub fn new(diag: &'a Diagnostic) -> Self {
        let pos = diag.position();
        Self {
            code: diag.code.as_str(),
            severity: diag.severity.as_str(),
            message: &diag.message,
            help: diag.help.as_deref(),
            path: &diag.path,
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            end_line: pos.map(|p| p.end_line),
            end_column: pos.map(|p| p.end_column),
            pointer: diag.pointer.as_deref(),
            related: diag.related.iter().map(Diag::new).collect(),
        }
    }
}

/// Renders a `validate` report.
pub fn validate(report: &CheckReport) -> String {
    let entries: Vec<String> = report.files.iter().map(file_entry).collect();
    let invalid = report.files.iter().filter(|f| f.errors() > 0).count();
    let counts = Counts {
        files: report.files.len(),
        invalid,
        errors: report.errors(),
        warnings: report.warnings(),
    };
    let (head, foot) = frame(&counts, &report.options, &report.skipped);
    let mut text = head;
    super::pretty::list(&mut text, entries.iter().map(String::as_str), FILES_INDENT);
    text.push_str(&foot);
    text
}

/// The files' entries stand in the document's `files` list: 4 spaces in, its `]` 2.
pub(crate) const FILES_INDENT: usize = 2;

/// What the document's summary counts of its files.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub files: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// One file's entry in the `files` list, indented for its place there (the document is
/// written a file at a time: issue 13).
pub(crate) fn file_entry(f: &FileReport) -> String {
    let file = File {
        path: &f.path,
        valid: f.errors() == 0,
        plan: f.plan_name.as_deref(),
        diagnostics: f.diagnostics.iter().map(Diag::new).collect(),
        jobs: f.jobs.as_ref().map(|jobs| {
            jobs.iter()
                .map(|j| Job {
                    segments: &j.segments,
                    destinations: &j.destinations,
                })
                .collect()
        }),
    };
    let text = serde_json::to_string_pretty(&file)
        .expect("invariant: the report holds only strings, numbers and booleans");
    super::pretty::indent(&text, FILES_INDENT + 2)
}

/// The document before the files' list and after it, for these counts.
pub(crate) fn frame(
    counts: &Counts,
    options: &CheckOptions,
    skipped: &[Arc<str>],
) -> (String, String) {
    let out = Report {
        version: REPORT_VERSION,
        valid: counts.errors == 0,
        summary: Summary {
            files: counts.files,
            valid: counts.files - counts.invalid,
            invalid: counts.invalid,
            errors: counts.errors,
            warnings: counts.warnings,
        },
        options: Options {
            api_version: options.api_version.number(),
            max_segments_per_job: options.segment_limit(),
            split: options.split,
        },
        files: Vec::new(),
        skipped: skipped.iter().map(|p| &**p).collect(),
    };
    let mut text = serde_json::to_string_pretty(&out)
        .expect("invariant: the report holds only strings, numbers and booleans");
    text.push('\n');
    super::pretty::split_at_list(text, "\n  \"files\": ")
}
