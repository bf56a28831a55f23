//! `plan` output: for people (human), for machines (JSON: the same document `--out` saves), and
//! for pull requests (markdown).

use std::fmt::Write;

use super::{Style, escape_controls, plural};
use crate::planner::model::{PlanSet, PlannedPlan, Verdict};
use crate::time::rfc3339;

/// The path every job is POSTed to.
pub const ADHOC_PATH: &str = "/data/core/activation/disflowprovider/adhocrun";

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{by}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn exports_line(plan: &PlannedPlan) -> String {
    let e = &plan.exports;
    match e.spec.as_str() {
        "latest" => {
            let when = e
                .finished_at
                .map(|ms| format!(" (finished {})", rfc3339(ms)))
                .unwrap_or_default();
            format!("latest -> {}{when}", e.ids.join(", "))
        }
        "omitted" => "omitted (the platform uses its latest segmentation; API version 2)".into(),
        _ => e.ids.join(", "),
    }
}

/// A part's name for people: the platform's name in quotes, with the plan's label beside it
/// when it says something else (`"Loyalty platinum" (labelled "Loyalty gold")`), or the label
/// alone when the platform gives no name.
fn named(platform: Option<&str>, label: Option<&str>) -> String {
    let text = match (platform, label) {
        (Some(p), Some(l)) if !crate::planner::labels::agree(l, p) => {
            format!("\"{p}\" (labelled \"{l}\")")
        }
        (Some(p), _) => format!("\"{p}\""),
        (None, Some(l)) => format!("\"{l}\" (the plan's label; the platform gives no name)"),
        (None, None) => "(no name)".to_owned(),
    };
    escape_controls(&text).into_owned()
}

/// The platform's last delivery of each pair, for people.
fn deliveries_text(plan: &PlannedPlan, since: i64) -> String {
    let mut out = String::new();
    if plan.deliveries.iter().all(|d| d.run_id.is_none()) {
        let _ = writeln!(
            out,
            "  last deliveries on the platform: none since {}",
            rfc3339(since)
        );
        return out;
    }
    let _ = writeln!(
        out,
        "  last deliveries on the platform (runs since {}):",
        rfc3339(since)
    );
    for d in &plan.deliveries {
        let what = match (&d.run_id, d.created_at) {
            (None, _) => "none".to_owned(),
            (Some(id), at) => format!(
                "run {id} at {}, {}, {}",
                at.map_or_else(|| "an unknown time".to_owned(), rfc3339),
                d.status.as_deref().unwrap_or("status unknown"),
                if d.recorded {
                    "recorded in the lockfile"
                } else {
                    "not recorded in the lockfile"
                }
            ),
        };
        let _ = writeln!(out, "    {} -> {}: {what}", d.segment, d.destination);
    }
    out
}

/// One plan, for people.
///
/// `since` is when the platform's runs were read from ([`PlanSet::runs_read`]).
pub fn human_plan(plan: &PlannedPlan, since: i64, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({})",
        style.paint(super::style::strong(), &format!("plan `{}`", plan.name)),
        escape_controls(&plan.path)
    );
    let _ = writeln!(out, "  sandbox:  {}", plan.sandbox);
    let _ = writeln!(out, "  exports:  {}", exports_line(plan));
    for (i, d) in plan.destinations.iter().enumerate() {
        let head = if i == 0 {
            "  dataflow: "
        } else {
            "            "
        };
        // Names come from the plan and the platform: no raw ESC or BEL on the terminal.
        let _ = writeln!(
            out,
            "{head}{} {}, {}",
            d.id,
            named(d.platform_name.as_deref(), d.label.as_deref()),
            plural(d.segments, "segment", "segments")
        );
        for s in &d.segment_names {
            let _ = writeln!(
                out,
                "              {} {}",
                s.id,
                named(s.platform_name.as_deref(), s.label.as_deref())
            );
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "  {}: {}\n    help: {}",
            style.paint(super::style::pending(), "warning"),
            escape_controls(&w.message),
            escape_controls(&w.help)
        );
    }
    out.push_str(&deliveries_text(plan, since));
    match &plan.verdict {
        Verdict::AlreadyApplied { run, applied_at } => {
            let _ = writeln!(
                out,
                "  {} (run {run} at {applied_at}): nothing to send",
                style.paint(super::style::good(), "already applied")
            );
        }
        Verdict::Refused { reasons } => {
            for r in reasons {
                let tag = if r.temporary {
                    "refused (try again later)"
                } else {
                    "refused"
                };
                let _ = writeln!(
                    out,
                    "  {}: {}\n    help: {}",
                    style.paint(super::style::bad(), tag),
                    escape_controls(&r.message),
                    escape_controls(&r.help)
                );
            }
        }
        Verdict::Apply => {
            if let Some(last) = plan
                .last_applied
                .as_ref()
                .filter(|l| l.intent_digest == plan.intent_digest)
            {
                let _ = writeln!(
                    out,
                    "  resuming run {}, which stopped short: only what it did not activate is sent",
                    last.run
                );
            }
            if !plan.overridden.is_empty() {
                let _ = writeln!(
                    out,
                    "  sending past {} no lockfile records (`--allow-unrecorded-runs`, recorded in the lockfile):",
                    plural(
                        plan.overridden.len(),
                        "recent delivery",
                        "recent deliveries"
                    )
                );
                for d in &plan.overridden {
                    let _ = writeln!(
                        out,
                        "    {} -> {}: run {} at {}",
                        d.segment,
                        d.destination,
                        d.run_id.as_deref().unwrap_or_default(),
                        d.created_at
                            .map_or_else(|| "an unknown time".to_owned(), rfc3339)
                    );
                }
            }
            for (i, body) in plan.jobs.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  job {} of {}: POST {ADHOC_PATH}",
                    i + 1,
                    plan.jobs.len()
                );
                let json = serde_json::to_string_pretty(body).unwrap_or_default();
                let _ = writeln!(out, "{}", indent(&json, "    "));
            }
            if let Some(last) = &plan.last_applied {
                if plan.diff.is_empty() {
                    let _ = writeln!(
                        out,
                        "  request bodies unchanged since run {} ({})",
                        last.run, last.applied_at
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "  changes since run {} ({}):",
                        last.run, last.applied_at
                    );
                    let _ = writeln!(out, "{}", indent(plan.diff.trim_end(), "    "));
                }
            }
            let segments = plan.segment_count();
            let _ = writeln!(
                out,
                "  {}: {} with {} to {}",
                style.paint(super::style::pending(), "to apply"),
                plural(plan.jobs.len(), "job", "jobs"),
                plural(segments, "segment", "segments"),
                plural(plan.destinations.len(), "destination", "destinations"),
            );
        }
    }
    out
}

/// The whole plan, for people: each plan with its verdict, then a summary line.
pub fn human(set: &PlanSet, style: Style) -> String {
    let mut out = String::new();
    for plan in &set.plans {
        out.push_str(&human_plan(plan, set.runs_read.since, style));
        out.push('\n');
    }
    out.push_str(&summary_line(set));
    out.push('\n');
    out
}

/// "Plan: 1 to apply, 2 already applied." (and ", 1 refused" when some are).
pub fn summary_line(set: &PlanSet) -> String {
    let apply = set.to_apply();
    let refused = set.refused();
    let done = set.plans.len() - apply - refused;
    if refused == 0 {
        format!("Plan: {apply} to apply, {done} already applied.")
    } else {
        format!("Plan: {apply} to apply, {done} already applied, {refused} refused.")
    }
}

/// The plan set as JSON (also the saved-plan file format).
pub fn json(set: &PlanSet) -> String {
    let mut text =
        serde_json::to_string_pretty(set).expect("invariant: plan data always serialises");
    text.push('\n');
    text
}

/// Longest markdown comment (GitHub allows 65,536 characters per comment).
pub const MARKDOWN_BUDGET: usize = 60_000;

/// A pull-request comment for reviewers who read names, not UUIDs: one table row per
/// destination of each plan (plan, sandbox, the dataflow's name, its audiences by name, the
/// export job and its age, the last delivery of each pair, the verdict), then refusals and
/// warnings, then each plan's request bodies and diff collapsed in `<details>`. Over
/// [`MARKDOWN_BUDGET`], details are dropped (largest first), then table rows, and a note says
/// so.
pub fn markdown(set: &PlanSet) -> String {
    let now = set.runs_read.platform_time;
    let mut head = String::from("<!-- aepact:plan -->\n### aepact plan\n\n");
    let _ = writeln!(
        head,
        "{}\n\nPlanned against `{}` (org `{}`, ad-hoc API v{}).\n",
        summary_line(set),
        set.endpoint,
        set.org,
        set.api_version.number()
    );
    head.push_str(
        "| plan | sandbox | destination | audiences | export job | last delivery | verdict |\n",
    );
    head.push_str("|---|---|---|---|---|---|---|\n");
    let rows: Vec<String> = set.plans.iter().flat_map(|p| table_rows(p, now)).collect();
    // Room for the refusals, warnings and notes below, whatever the rows.
    let mut left_out = 0;
    for (shown, row) in rows.iter().enumerate() {
        if head.len() + row.len() + 2_000 > MARKDOWN_BUDGET {
            left_out = rows.len() - shown;
            break;
        }
        head.push_str(row);
    }
    if left_out > 0 {
        let _ = writeln!(
            head,
            "\n_{} of the table left out to stay under GitHub's comment size; the full plan is in the saved plan file (`aepact plan --out`) and `aepact plan --format json`._",
            plural(left_out, "row", "rows")
        );
    }
    let mut notes = String::new();
    for (tag, list) in [("refused", set.refusals()), ("warning", set.warnings())] {
        for r in list {
            let line = format!(
                "\n> **{tag}** `{}`: {}\n> help: {}\n",
                r.plan,
                table_cell(&r.message),
                table_cell(&r.help)
            );
            if head.len() + notes.len() + line.len() + 500 > MARKDOWN_BUDGET {
                notes.push_str(
                    "\n_More refusals and warnings left out to stay under GitHub's comment size: `aepact plan` shows them all._\n",
                );
                break;
            }
            notes.push_str(&line);
        }
    }
    head.push_str(&notes);
    let mut details: Vec<(usize, String)> = set
        .plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.to_apply())
        .map(|(i, p)| {
            let mut d = format!(
                "\n<details><summary><code>{}</code> ({}): {}</summary>\n\n",
                p.name,
                p.path,
                plural(p.jobs.len(), "job", "jobs")
            );
            for (n, body) in p.jobs.iter().enumerate() {
                let _ = writeln!(d, "Job {}: `POST {ADHOC_PATH}`\n", n + 1);
                let _ = writeln!(
                    d,
                    "```json\n{}\n```\n",
                    serde_json::to_string_pretty(body).unwrap_or_default()
                );
            }
            if !p.diff.is_empty() {
                let _ = writeln!(d, "```diff\n{}```\n", p.diff);
            }
            d.push_str(&deliveries_markdown(p, set.runs_read.since));
            d.push_str("</details>\n");
            (i, d)
        })
        .collect();
    let total =
        |details: &[(usize, String)]| head.len() + details.iter().map(|d| d.1.len()).sum::<usize>();
    let mut dropped = 0;
    while total(&details) + 300 > MARKDOWN_BUDGET && !details.is_empty() {
        let largest = details
            .iter()
            .enumerate()
            .max_by_key(|(_, d)| d.1.len())
            .map(|(i, _)| i)
            .unwrap_or(0);
        details.remove(largest);
        dropped += 1;
    }
    let mut out = head;
    for (_, d) in &details {
        out.push_str(d);
    }
    if dropped > 0 {
        let _ = writeln!(
            out,
            "\n_Details of {} left out to stay under GitHub's comment size; the full plan is in the saved plan file (`aepact plan --out`)._",
            if dropped == 1 {
                "1 plan was".to_owned()
            } else {
                format!("{dropped} plans were")
            }
        );
    }
    out
}

/// The rows of the comment's table for one plan: one per destination (one row when it has
/// none resolved); plan, sandbox, export job and verdict only on its first row.
fn table_rows(plan: &PlannedPlan, now: i64) -> Vec<String> {
    let verdict = match &plan.verdict {
        Verdict::Apply => {
            let added = plan.changes.iter().filter(|c| c.change == "added").count();
            let removed = plan.changes.len() - added;
            format!(
                "**apply**: {}, {added} added, {removed} removed",
                plural(plan.jobs.len(), "job", "jobs")
            )
        }
        Verdict::AlreadyApplied { run, .. } => format!("already applied (run {run})"),
        Verdict::Refused { reasons } => {
            let temporary = reasons.iter().all(|r| r.temporary);
            let codes: Vec<String> = reasons.iter().map(|r| format!("`{}`", r.code)).collect();
            format!(
                "**refused**{}: {}",
                if temporary { " (try again later)" } else { "" },
                codes.join(", ")
            )
        }
    };
    let warned = match plan.warnings.len() {
        0 => String::new(),
        n => format!("<br>{}", plural(n, "warning", "warnings")),
    };
    let export = export_cell(plan, now);
    let first = [
        format!("`{}`", table_cell(&plan.name)),
        table_cell(&plan.sandbox),
        export,
        format!("{verdict}{warned}"),
    ];
    let mut rows = Vec::new();
    for (i, d) in plan.destinations.iter().enumerate() {
        let [name, sandbox, export, verdict] = if i == 0 {
            first.clone()
        } else {
            ["″".into(), "″".into(), "″".into(), "″".into()]
        };
        let destination = format!(
            "{}<br><sub>`{}`</sub>",
            markdown_name(d.platform_name.as_deref(), d.label.as_deref()),
            d.id
        );
        let audiences: Vec<String> = d
            .segment_names
            .iter()
            .map(|s| match (s.platform_name.as_deref(), s.label.as_deref()) {
                (None, None) => format!("`{}`", s.id),
                (p, l) => markdown_name(p, l),
            })
            .collect();
        let delivered: Vec<String> = d
            .segment_names
            .iter()
            .map(|s| {
                let last = plan
                    .deliveries
                    .iter()
                    .find(|x| x.destination == d.id && x.segment == s.id);
                match last.and_then(|x| x.run_id.as_ref().map(|r| (x, r))) {
                    None => "none".to_owned(),
                    Some((x, _)) => format!(
                        "{}, {}{}",
                        crate::planner::decide::ago(now, x.created_at),
                        x.status.as_deref().unwrap_or("status unknown"),
                        if x.recorded {
                            ""
                        } else {
                            " (**not in the lockfile**)"
                        }
                    ),
                }
            })
            .collect();
        rows.push(format!(
            "| {name} | {sandbox} | {destination} | {} | {export} | {} | {verdict} |\n",
            audiences.join("<br>"),
            delivered.join("<br>")
        ));
    }
    if rows.is_empty() {
        let [name, sandbox, export, verdict] = first;
        rows.push(format!(
            "| {name} | {sandbox} |  |  | {export} |  | {verdict} |\n"
        ));
    }
    rows
}

/// The export job a plan's jobs use, and how old it is.
fn export_cell(plan: &PlannedPlan, now: i64) -> String {
    let e = &plan.exports;
    let ids: Vec<String> = e.ids.iter().map(|id| format!("`{id}`")).collect();
    match e.spec.as_str() {
        "omitted" => "the platform's latest".to_owned(),
        "latest" if ids.is_empty() => "none found".to_owned(),
        "latest" => format!(
            "{} (latest), finished {}",
            ids.join(", "),
            crate::planner::decide::ago(now, e.finished_at)
        ),
        _ => match e.finished_at {
            Some(_) => format!(
                "{}, finished {}",
                ids.join(", "),
                crate::planner::decide::ago(now, e.finished_at)
            ),
            None => ids.join(", "),
        },
    }
}

/// A name in the comment's table: the platform's in bold, the plan's label beside it when it
/// says something else, or the label alone (in italics) when the platform gives no name.
fn markdown_name(platform: Option<&str>, label: Option<&str>) -> String {
    let text = |name: &str| table_cell(&name_text(name));
    match (platform, label) {
        (Some(p), Some(l)) if !crate::planner::labels::agree(l, p) => {
            format!("**{}** (labelled “{}”)", text(p), text(l))
        }
        (Some(p), _) => format!("**{}**", text(p)),
        (None, Some(l)) => format!("_{}_ (plan label)", text(l)),
        (None, None) => "(no name)".to_owned(),
    }
}

/// A name shown as written: whoever named an audience on the platform (or in the plan) cannot
/// end the bold, start a link or code span, or put HTML into the comment (`<!--` would hide
/// the rest of it), since markdown and HTML characters are escaped.
fn name_text(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The platform's last delivery of each pair, as a markdown table.
fn deliveries_markdown(plan: &PlannedPlan, since: i64) -> String {
    let mut out = format!(
        "Last deliveries on the platform (runs since {}):\n\n| segment | destination | run | created | status | in the lockfile |\n|---|---|---|---|---|---|\n",
        rfc3339(since)
    );
    for d in &plan.deliveries {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {} |",
            d.segment,
            d.destination,
            d.run_id
                .as_deref()
                .map_or("none".to_owned(), |r| format!("`{r}`")),
            d.created_at.map_or_else(String::new, rfc3339),
            d.status.as_deref().unwrap_or(""),
            match (&d.run_id, d.recorded) {
                (None, _) => "",
                (Some(_), true) => "yes",
                (Some(_), false) => "**no**",
            }
        );
    }
    out.push('\n');
    out
}

/// The pull-request comment when the offline checks failed and nothing was planned: the same
/// marker, then every problem (file, line, code, message and help) in a table, so the comment
/// says why instead of staying empty (issue 12). Rows past [`MARKDOWN_BUDGET`] are left out
/// with a note.
pub fn markdown_problems(report: &crate::plan::CheckReport) -> String {
    let mut out = String::from("<!-- aepact:plan -->\n### aepact plan\n\n");
    let invalid = report.files.iter().filter(|f| f.errors() > 0).count();
    let _ = writeln!(
        out,
        "**Not planned: the offline checks failed.** {invalid} of {} invalid ({}{}); fix them and push again (`aepact validate` shows the same).\n",
        plural(report.files.len(), "plan file", "plan files"),
        plural(report.errors(), "error", "errors"),
        match report.warnings() {
            0 => String::new(),
            n => format!(", {}", plural(n, "warning", "warnings")),
        },
    );
    out.push_str("| file | line | level | code | problem |\n|---|---:|---|---|---|\n");
    let diagnostics: Vec<&crate::plan::Diagnostic> =
        report.files.iter().flat_map(|f| &f.diagnostics).collect();
    for (shown, diag) in diagnostics.iter().enumerate() {
        let at = diag
            .position()
            .map(|p| format!("{}:{}", p.line, p.column))
            .unwrap_or_default();
        let mut problem = table_cell(&diag.message);
        if let Some(help) = &diag.help {
            let _ = write!(problem, "<br>_help:_ {}", table_cell(help));
        }
        let row = format!(
            "| `{}` | {at} | {} | `{}` | {problem} |\n",
            table_cell(&diag.path),
            diag.severity.as_str(),
            diag.code
        );
        // Room for the note below, whatever the row.
        if out.len() + row.len() + 200 > MARKDOWN_BUDGET {
            let _ = writeln!(
                out,
                "\n_{} left out to stay under GitHub's comment size: run `aepact validate` to see all._",
                plural(diagnostics.len() - shown, "more problem", "more problems")
            );
            return out;
        }
        out.push_str(&row);
    }
    out
}

/// Text safe inside one markdown table cell: no line breaks, no column breaks, no raw controls.
fn table_cell(text: &str) -> String {
    escape_controls(text)
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}
