//! `aepact lock verify` output: one line per problem for people, one JSON document for scripts.

use serde::Serialize;

use super::{Style, plural};
use crate::lockfile::verify::{LockfileReport, VerifyReport};

/// One line per problem, `path:line:column: message` for parse errors and
/// `path: /json/pointer: message` otherwise, then a summary line.
pub fn human(report: &VerifyReport, style: Style) -> String {
    let mut out = String::new();
    for path in &report.missing {
        out.push_str(&format!("{path}: does not exist\n"));
    }
    for file in &report.lockfiles {
        for p in &file.problems {
            let place = match (&p.pointer, p.line, p.column) {
                (_, Some(line), Some(column)) => format!("{}:{line}:{column}", file.path),
                (Some(pointer), _, _) => format!("{}: {pointer}", file.path),
                _ => file.path.clone(),
            };
            out.push_str(&format!("{place}: {}\n", p.message));
        }
    }
    let files = report.lockfiles.len();
    let bad = report
        .lockfiles
        .iter()
        .filter(|f| !f.problems.is_empty())
        .count();
    let problems = report.problems();
    if files == 0 && problems == 0 {
        out.push_str("No lockfiles found: nothing has been applied under these paths.\n");
    } else if problems == 0 {
        let ok = style.paint(
            anstyle::Style::new()
                .fg_color(Some(anstyle::AnsiColor::Green.into()))
                .bold(),
            "no problems",
        );
        out.push_str(&format!(
            "Checked {}: {ok}.\n",
            plural(files, "lockfile", "lockfiles")
        ));
    } else {
        let what = style.paint(
            anstyle::Style::new()
                .fg_color(Some(anstyle::AnsiColor::Red.into()))
                .bold(),
            &plural(problems, "problem", "problems"),
        );
        out.push_str(&format!(
            "Checked {}: {what} in {}.\n",
            plural(files, "lockfile", "lockfiles"),
            plural(bad + report.missing.len(), "path", "paths"),
        ));
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    version: u32,
    ok: bool,
    problems: usize,
    missing: &'a [String],
    lockfiles: Vec<File<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    path: &'a str,
    plan_file: Option<&'a str>,
    runs: Option<usize>,
    ok: bool,
    problems: Vec<Problem<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    kind: &'a str,
    pointer: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
}

/// One JSON document: `{version, ok, problems, missing, lockfiles: [{path, planFile, runs, ok,
/// problems: [{kind, pointer, line, column, message}]}]}`; every key always present.
pub fn json(report: &VerifyReport) -> String {
    fn file(f: &LockfileReport) -> File<'_> {
        File {
            path: &f.path,
            plan_file: f.plan_file.as_deref(),
            runs: f.runs,
            ok: f.problems.is_empty(),
            problems: f
                .problems
                .iter()
                .map(|p| Problem {
                    kind: p.kind.as_str(),
                    pointer: p.pointer.as_deref(),
                    line: p.line,
                    column: p.column,
                    message: &p.message,
                })
                .collect(),
        }
    }
    let doc = Report {
        version: 1,
        ok: report.problems() == 0,
        problems: report.problems(),
        missing: &report.missing,
        lockfiles: report.lockfiles.iter().map(file).collect(),
    };
    // Invariant: plain strings and numbers always serialise.
    let mut text = serde_json::to_string_pretty(&doc).expect("the report serialises to JSON");
    text.push('\n');
    text
}
