//! `validate --format junit`: JUnit XML, for CI systems that show test reports (GitLab, Jenkins,
//! Azure). Each plan file is a test case; each error is a failure of it.

use std::fmt::Write;

use crate::plan::{CheckReport, Severity};

/// Renders a `validate` report as a JUnit XML document.
pub fn validate(report: &CheckReport) -> String {
    let tests = report.files.len();
    let failures = report.files.iter().filter(|f| f.errors() > 0).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"aepact validate\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"aepact validate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    for file in &report.files {
        let _ = write!(
            out,
            "    <testcase classname=\"aepact.validate\" name=\"{}\"",
            escape(&file.path)
        );
        if file.diagnostics.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        for diag in &file.diagnostics {
            let at = diag
                .position()
                .map(|p| format!("{}:{}:{}", diag.path, p.line, p.column))
                .unwrap_or_else(|| diag.path.to_string());
            let mut body = format!("{at}: {}", diag.message);
            if let Some(help) = &diag.help {
                let _ = write!(body, "\nhelp: {help}");
            }
            match diag.severity {
                Severity::Error => {
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        diag.code,
                        escape(&diag.message),
                        escape(&body)
                    );
                }
                Severity::Warning => {
                    let _ = writeln!(
                        out,
                        "      <system-out>warning {}: {}</system-out>",
                        diag.code,
                        escape(&body)
                    );
                }
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
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
