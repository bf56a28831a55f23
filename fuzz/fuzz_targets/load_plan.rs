//! Arbitrary bytes as a plan file: the same path `aepact validate` takes after reading a file
//! (UTF-8 check, YAML, schema, serde, guardrails), then every renderer of the diagnostics.
//!
//! Invariants checked beyond "no panic": a file that yields no plan has at least one error, and
//! every diagnostic that points into the file has an in-range position.

#![no_main]

use std::sync::Arc;

use aepact::output::{self, Style};
use aepact::plan::check::check_source;
use aepact::plan::read::source_from_bytes;
use aepact::plan::{AdhocApiVersion, CheckOptions, Diagnostic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The length picks the options, so `--split`, a low segment limit and API v2 are explored
    // too while the bytes stay the file's (seeds are plain plan files).
    let flags = data.len() % 8;
    let options = CheckOptions {
        api_version: if flags & 1 == 0 {
            AdhocApiVersion::V1
        } else {
            AdhocApiVersion::V2
        },
        max_segments_per_job: (flags & 2 != 0).then_some(2),
        split: flags & 4 != 0,
    };
    let bytes = data;
    let source = match source_from_bytes("fuzz.yaml", bytes.to_vec()) {
        Ok(source) => source,
        Err(diag) => {
            check_diagnostic(&diag);
            return;
        }
    };
    let (report, _segments) = check_source(&source, Arc::from("fuzz.yaml"), &options, true);
    if report.plan.is_none() {
        assert!(report.errors() > 0, "no plan and no error: {report:?}");
    }
    for diag in &report.diagnostics {
        check_diagnostic(diag);
    }
});

fn check_diagnostic(diag: &Diagnostic) {
    if let (Some(source), Some(pos)) = (&diag.source, diag.position()) {
        let lines = source.text().split('\n').count();
        assert!(
            pos.line >= 1 && pos.line <= lines,
            "{pos:?} of {lines} lines"
        );
        assert!(pos.column >= 1 && pos.end_line >= pos.line, "{pos:?}");
        assert!(
            pos.end_line > pos.line || pos.end_column >= pos.column,
            "{pos:?}"
        );
    }
    // Rendering slices the source at the labels: it must not panic either.
    let _ = output::human::diagnostic(diag, Style::plain());
    let _ = output::github::annotation(diag);
    let _ = serde_json::to_string(&output::json::Diag::new(diag));
}
