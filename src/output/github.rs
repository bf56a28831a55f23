//! `--format github`: GitHub Actions workflow commands, which annotate the pull request's diff
//! at each problem's line (<https://docs.github.com/actions/reference/workflow-commands>).

use std::fmt::Write;

use super::Style;
use crate::plan::{CheckReport, Diagnostic, FileReport, Severity};

/// Renders one diagnostic as an `::error` or `::warning` command.
pub fn annotation(diag: &Diagnostic) -> String {
    let command = match diag.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = format!("file={}", property(&diag.path));
    if let Some(pos) = diag.position() {
        let _ = write!(
            props,
            ",line={},col={},endLine={},endColumn={}",
            pos.line, pos.column, pos.end_line, pos.end_column
        );
    }
    let _ = write!(props, ",title={}", property(diag.code.as_str()));
    let mut message = diag.message.clone();
    if let Some(help) = &diag.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    for related in &diag.related {
        let at = related
            .position()
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        let _ = write!(message, "\nsee {}{at}: {}", related.path, related.message);
    }
    format!("::{command} {props}::{}\n", data(&message))
}

/// Renders a `validate` report: one command per diagnostic, then the summary line.
///
/// [`super::stream::Validate`] writes the same bytes file by file.
pub fn validate(report: &CheckReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        file_annotations(&mut out, file);
    }
    out.push_str(&super::human::summary(report, Style::plain()));
    out
}

/// A file's diagnostics as [`validate`] shows them, one command each.
pub(crate) fn file_annotations(out: &mut String, file: &FileReport) {
    for diag in &file.diagnostics {
        out.push_str(&annotation(diag));
    }
}

/// Escapes a command's message: `%`, CR and LF as the runner expects, and every other control
/// character as `\u{1b}` (the runner echoes the log to people, and ESC or BEL must not reach
/// their terminal raw).
fn data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    super::escape_controls(&s).into_owned()
}

/// Escapes a command property's value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders a plan as workflow commands: a notice per plan to apply or already applied, an
/// error per refusal (a warning when it clears by itself), then the summary line.
pub fn plan(set: &crate::planner::model::PlanSet) -> String {
    use crate::planner::model::Verdict;
    let mut out = String::new();
    for p in &set.plans {
        let added = p.changes.iter().filter(|c| c.change == "added").count();
        let removed = p.changes.len() - added;
        let message = match &p.verdict {
            Verdict::Apply => format!(
                "plan `{}` will send {} with {} to {} in sandbox `{}` ({added} added, {removed} removed since the last apply)",
                p.name,
                super::plural(p.jobs.len(), "job", "jobs"),
                super::plural(p.segment_count(), "segment", "segments"),
                super::plural(p.destinations.len(), "destination", "destinations"),
                p.sandbox,
            ),
            Verdict::AlreadyApplied { run, applied_at } => {
                format!(
                    "plan `{}` is already applied (run {run} at {applied_at})",
                    p.name
                )
            }
            Verdict::Refused { .. } => continue,
        };
        let message = format!("{message}{}", names(p));
        let _ = writeln!(
            out,
            "::notice file={},title={}::{}",
            property(&p.path),
            property("aepact plan"),
            data(&message)
        );
    }
    for r in set.refusals() {
        let command = if r.temporary { "warning" } else { "error" };
        let line = r.line.map(|l| format!(",line={l}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "::{command} file={}{line},title={}::{}",
            property(&r.path),
            property("aepact plan refused"),
            data(&format!(
                "plan `{}`: {}\nhelp: {}",
                r.plan, r.message, r.help
            ))
        );
    }
    for w in set.warnings() {
        let line = w.line.map(|l| format!(",line={l}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "::warning file={}{line},title={}::{}",
            property(&w.path),
            property(&w.code),
            data(&format!(
                "plan `{}`: {}\nhelp: {}",
                w.plan, w.message, w.help
            ))
        );
    }
    out.push_str(&super::plan::summary_line(set));
    out.push('\n');
    out
}

/// Each destination of a plan with its audiences, by the platform's names (the plan's label
/// where the platform gives none, else the ID), one line each.
fn names(p: &crate::planner::model::PlannedPlan) -> String {
    let mut out = String::new();
    for d in &p.destinations {
        let audiences: Vec<&str> = d
            .segment_names
            .iter()
            .map(|s| s.shown_name().unwrap_or(&s.id))
            .collect();
        let _ = write!(
            out,
            "\n{} (`{}`): {}",
            d.shown_name().unwrap_or("(no name)"),
            d.id,
            audiences.join(", ")
        );
    }
    out
}
