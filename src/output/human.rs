//! Human output: miette's graphical diagnostics (source snippet, labels, help) and summaries.

use std::fmt::Write;

use anstyle::{AnsiColor, Style as Ansi};
use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{Style, plural};
use crate::plan::{CheckReport, Diagnostic};

/// Renders one diagnostic with its snippet, the way every command shows plan problems.
pub fn diagnostic(diag: &Diagnostic, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        // IDs are UUIDs full of hyphens: wrap at spaces only, so they stay copyable.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    // miette pads label lines with `{:width$}`, and Rust refuses widths above 65,535 with a
    // panic: a label that starts or ends that far into a line (a 1 MiB key) is shown without
    // its snippet, its position in the message instead.
    let snippetless;
    let diag = if has_overwide_label(diag) {
        snippetless = without_snippet(diag);
        &snippetless
    } else {
        diag
    };
    if handler.render_report(&mut out, diag).is_err() {
        // Rendering into a String cannot fail short of a bug in miette; fall back to one line.
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}

/// Longest source line we let miette draw (it pads label lines with `{:width$}`, which panics
/// past 65,535, and prints context lines whole).
const MAX_LABEL_COLUMN: usize = 10_000;

/// Whether a snippet would show a line longer than [`MAX_LABEL_COLUMN`]: the labelled lines, or
/// the one line of context miette shows before and after them.
fn has_overwide_label(diag: &Diagnostic) -> bool {
    let Some(source) = &diag.source else {
        return false;
    };
    let text = source.text();
    diag.labels.iter().any(|label| {
        let span = source.label_span(label.span);
        let start = span.offset().min(text.len());
        let end = (start + span.len()).min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let from = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        let to = text
            .get(line_end + 1..)
            .and_then(|rest| rest.find('\n'))
            .map_or(text.len(), |i| line_end + 1 + i);
        text[from..to]
            .split('\n')
            .any(|line| line.len() > MAX_LABEL_COLUMN && line.chars().count() > MAX_LABEL_COLUMN)
    })
}

/// The diagnostic with its labels dropped and its position appended to the message.
fn without_snippet(diag: &Diagnostic) -> Diagnostic {
    let mut plain = diag.clone();
    if let Some(pos) = diag.position() {
        plain.message = format!(
            "{} (at {}:{}:{})",
            diag.message, diag.path, pos.line, pos.column
        );
    }
    plain.labels.clear();
    plain.source = None;
    plain
}

/// Renders a `validate` report: every diagnostic, split plans, then one summary line.
pub fn validate(report: &CheckReport, style: Style) -> String {
    let mut out = String::new();
    for file in &report.files {
        for diag in &file.diagnostics {
            out.push_str(&diagnostic(diag, style));
            out.push('\n');
        }
    }
    let limit = report.options.segment_limit();
    for file in &report.files {
        let Some(jobs) = file.jobs.as_ref().filter(|jobs| jobs.len() > 1) else {
            continue;
        };
        let total: usize = jobs.iter().map(|j| j.segments.len()).sum();
        let _ = writeln!(
            out,
            "{} plan `{}` ({}): {} over {} of at most {limit}",
            style.paint(
                Ansi::new().fg_color(Some(AnsiColor::Cyan.into())).bold(),
                "split"
            ),
            file.plan_name.as_deref().unwrap_or("?"),
            file.path,
            plural(total, "distinct segment", "distinct segments"),
            plural(jobs.len(), "job", "jobs"),
        );
        for (n, job) in jobs.iter().enumerate() {
            let _ = writeln!(
                out,
                "  job {}: {} to {}",
                n + 1,
                plural(job.segments.len(), "segment", "segments"),
                plural(job.destinations.len(), "destination", "destinations"),
            );
            for segment in &job.segments {
                let _ = writeln!(out, "    {segment}");
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(report, style));
    out
}

/// One line: how many files were checked and what was found.
pub fn summary(report: &CheckReport, style: Style) -> String {
    let total = report.files.len();
    let invalid = report.files.iter().filter(|f| f.errors() > 0).count();
    let errors = report.errors();
    let warnings = report.warnings();
    let warn = if warnings > 0 {
        format!(", {}", plural(warnings, "warning", "warnings"))
    } else {
        String::new()
    };
    // Other YAML met in directory walks (CI workflows, manifests): counted, never checked.
    let skipped = match report.skipped.len() {
        0 => String::new(),
        n => format!(
            ", {} skipped",
            plural(n, "other YAML file", "other YAML files")
        ),
    };
    if errors == 0 {
        let ok = style.paint(
            Ansi::new().fg_color(Some(AnsiColor::Green.into())).bold(),
            "ok",
        );
        format!(
            "{ok}: {} valid{warn}{skipped}\n",
            plural(total, "plan file", "plan files")
        )
    } else {
        let err = style.paint(
            Ansi::new().fg_color(Some(AnsiColor::Red.into())).bold(),
            "error",
        );
        format!(
            "{err}: {invalid} of {} invalid ({}{warn}){skipped}\n",
            plural(total, "plan file", "plan files"),
            plural(errors, "error", "errors"),
        )
    }
}
