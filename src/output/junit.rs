//! `validate --format junit`: JUnit XML, for CI systems that show test reports (GitLab, Jenkins,
//! Azure). Each plan file is a test case; a file with errors fails once, the failure listing
//! every error.

use std::fmt::Write;

use crate::plan::{CheckReport, Diagnostic, FileReport, Severity};

/// Renders a `validate` report as a JUnit XML document.
pub fn validate(report: &CheckReport) -> String {
    let tests = report.files.len();
    let failures = report.files.iter().filter(|f| f.errors() > 0).count();
    let mut out = head(tests, failures);
    for file in &report.files {
        out.push_str(&testcase(file));
    }
    out.push_str(FOOT);
    out
}

/// The document before its test cases: `tests` files, `failures` of them with errors.
pub(crate) fn head(tests: usize, failures: usize) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"aepact validate\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"aepact validate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    out
}

/// The document after its test cases.
pub(crate) const FOOT: &str = "  </testsuite>\n</testsuites>\n";

/// One file's test case.
pub(crate) fn testcase(file: &FileReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "    <testcase classname=\"aepact.validate\" name=\"{}\"",
        escape(&file.path)
    );
    if file.diagnostics.is_empty() {
        out.push_str("/>\n");
        return out;
    }
    out.push_str(">\n");
    // One `<failure>` per test case (JUnit allows at most one; GitLab and Jenkins show only
    // the first of several): it lists every error of the file, each with its position.
    let errors: Vec<&Diagnostic> = file
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if let Some(first) = errors.first() {
        let message = match errors.len() {
            1 => first.message.clone(),
            n => format!("{n} errors; the first: {}", first.message),
        };
        let body: Vec<String> = errors.iter().map(|d| entry(d)).collect();
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            first.code,
            escape(&message),
            escape(&body.join("\n\n"))
        );
    }
    let warnings: Vec<String> = file
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| format!("warning: {}", entry(d)))
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            escape(&warnings.join("\n\n"))
        );
    }
    out.push_str("    </testcase>\n");
    out
}

/// One diagnostic as text: `file:line:column: [code] message`, then its help.
fn entry(diag: &Diagnostic) -> String {
    let at = diag
        .position()
        .map(|p| format!("{}:{}:{}", diag.path, p.line, p.column))
        .unwrap_or_else(|| diag.path.to_string());
    let mut text = format!("{at}: [{}] {}", diag.code, diag.message);
    if let Some(help) = &diag.help {
        let _ = write!(text, "\nhelp: {help}");
    }
    text
}

/// Escapes text for XML attributes and content.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
