//! `aepact log` output: the activation history as `git log`-like text (one heading per apply,
//! one line per segment and destination), one JSON document, CSV with a header row, or a
//! Markdown table.

use serde::Serialize;

use super::{Style, escape_controls, plural};
use crate::lockfile::history::Entry;

/// The version of the `log --format json` document.
pub(crate) const LOG_JSON_VERSION: u32 = 1;

/// One heading per apply (when, plan, run, where, who), its entries below it, then a summary.
pub(crate) fn human(entries: &[Entry], lockfiles: usize, style: Style) -> String {
    if entries.is_empty() {
        return format!(
            "No activations recorded in {}.\n",
            plural(lockfiles, "lockfile", "lockfiles")
        );
    }
    let mut out = String::new();
    let mut last: Option<(&crate::time::Timestamp, &str, u64)> = None;
    for e in entries {
        let apply = (&e.at, e.lockfile.as_str(), e.run);
        if last != Some(apply) {
            let by = e
                .applied_by
                .as_deref()
                .map(|who| format!(" by {}", escape_controls(who)))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}  {} run {}  {} on {}{by}\n",
                e.at,
                style.paint(super::style::strong(), &escape_controls(&e.plan)),
                e.run,
                escape_controls(&e.sandbox),
                escape_controls(&e.endpoint),
            ));
            last = Some(apply);
        }
        let records = match e.records {
            Some(n) => plural(n as usize, "record", "records"),
            None => "no records reported".to_owned(),
        };
        let paint = match e.outcome.as_str() {
            "success" => super::style::good(),
            "failed" | "partialSuccess" | "cancelled" | "rejected" | "lost" | "unknown" => {
                super::style::bad()
            }
            _ => anstyle::Style::new(),
        };
        let outcome = format!("{:<14}", escape_controls(&e.outcome));
        out.push_str(&format!(
            "  {}  {records:>19}  segment {} to {}\n",
            style.paint(paint, &outcome),
            escape_controls(&e.segment),
            escape_controls(&e.destination),
        ));
    }
    out.push_str(&format!(
        "{} from {}.\n",
        plural(entries.len(), "entry", "entries"),
        plural(lockfiles, "lockfile", "lockfiles")
    ));
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    aepact_log_version: u32,
    /// Every lockfile read, as found.
    lockfiles: &'a [String],
    entries: &'a [Entry],
}

/// `log --format json`: `{aepactLogVersion, lockfiles, entries: [Entry]}`, every key always
/// present.
pub(crate) fn json(entries: &[Entry], lockfiles: &[String]) -> String {
    let doc = Document {
        aepact_log_version: LOG_JSON_VERSION,
        lockfiles,
        entries,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("invariant: reports serialise");
    text.push('\n');
    text
}

/// The columns of `--format csv` and `--format markdown`, in order, and each entry's values.
const COLUMNS: [&str; 15] = [
    "at",
    "plan",
    "lockfile",
    "run",
    "endpoint",
    "org",
    "sandbox",
    "appliedBy",
    "destination",
    "segment",
    "outcome",
    "records",
    "failedRecords",
    "runId",
    "finishedAt",
];

fn values(e: &Entry) -> [String; 15] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        e.at.to_string(),
        e.plan.clone(),
        e.lockfile.clone(),
        e.run.to_string(),
        e.endpoint.clone(),
        e.org.clone(),
        e.sandbox.clone(),
        opt(e.applied_by.clone()),
        e.destination.clone(),
        e.segment.clone(),
        e.outcome.clone(),
        opt(e.records.map(|n| n.to_string())),
        opt(e.failed_records.map(|n| n.to_string())),
        opt(e.run_id.clone()),
        opt(e.finished_at.map(|t| t.to_string())),
    ]
}

/// `log --format csv`: a header row, then one row per entry, CRLF line ends and quoting as in
/// RFC 4180 (a field with a comma, a quote or a line break is quoted, quotes doubled); an
/// unknown value is an empty field.
pub(crate) fn csv(entries: &[Entry]) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for e in entries {
        let row: Vec<String> = values(e).iter().map(|v| field(v)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `log --format markdown`: a table of the columns a reviewer reads (when, plan, run, sandbox,
/// by, destination, segment, outcome, records), `|` escaped and line breaks flattened.
pub(crate) fn markdown(entries: &[Entry]) -> String {
    let cell = |text: &str| {
        let text = escape_controls(text)
            .replace('\\', "\\\\")
            .replace('|', "\\|")
            .replace(['\r', '\n'], " ");
        if text.is_empty() {
            "–".to_owned()
        } else {
            text
        }
    };
    let mut out = String::from(
        "| when | plan | run | sandbox | by | destination | segment | outcome | records |\n|---|---|---:|---|---|---|---|---|---:|\n",
    );
    for e in entries {
        let v = values(e);
        let cells = [0, 1, 3, 6, 7, 8, 9, 10, 11].map(|i| cell(&v[i]));
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if entries.is_empty() {
        out.push_str("\nNo activations recorded.\n");
    }
    out
}
