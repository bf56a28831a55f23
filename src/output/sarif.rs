//! `validate --format sarif`: SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning
//! uploads it as is). One rule per diagnostic code, one result per diagnostic.

use serde_json::{Value, json};

use crate::plan::{CheckReport, Code, Diagnostic, FileReport, Severity};

/// Renders a `validate` report as one SARIF log.
pub fn validate(report: &CheckReport) -> String {
    let entries: Vec<String> = report.files.iter().map(file_results).collect();
    let (head, foot) = frame();
    let mut text = head;
    super::pretty::list(
        &mut text,
        entries.iter().map(String::as_str).filter(|e| !e.is_empty()),
        RESULTS_INDENT,
    );
    text.push_str(&foot);
    text
}

/// The results stand in the run's `results` list: 8 spaces in, its `]` 6.
pub(crate) const RESULTS_INDENT: usize = 6;

/// The results of one file's diagnostics, indented for their place in the `results` list and
/// joined as they stand there; empty for a file without diagnostics.
pub(crate) fn file_results(file: &FileReport) -> String {
    let results: Vec<String> = file
        .diagnostics
        .iter()
        .map(|diag| {
            let text = serde_json::to_string_pretty(&result(diag))
                .expect("invariant: a serde_json::Value always serialises");
            super::pretty::indent(&text, RESULTS_INDENT + 2)
        })
        .collect();
    results.join(",\n")
}

/// The log before the run's results and after them (the rules, every code's, come after:
/// the keys are in order).
pub(crate) fn frame() -> (String, String) {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str().trim_start_matches("aepact::"),
                "shortDescription": {"text": code.description()},
                "help": {"text": format!("{}. See docs/validate.md for every code.", code.description())},
                "defaultConfiguration": {"level": level(default_severity(*code))},
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "aepact",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "results": [],
    });
    if let Some(root) = std::env::current_dir()
        .ok()
        .and_then(|dir| dir.to_str().map(|d| file_uri(&d.replace('\\', "/"))))
    {
        run["originalUriBaseIds"] =
            json!({SRCROOT: {"uri": format!("{}/", root.trim_end_matches('/'))}});
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut text = serde_json::to_string_pretty(&log)
        .expect("invariant: a serde_json::Value always serialises");
    text.push('\n');
    super::pretty::split_at_list(text, "\n      \"results\": ")
}

const SRCROOT: &str = "%SRCROOT%";

/// A file's SARIF location: a relative path as a percent-encoded relative URI against
/// [`SRCROOT`], an absolute one as a `file://` URI (SARIF 2.1.0, sections 3.4.3 and 3.4.4).
fn artifact_location(path: &str) -> Value {
    let path = path.replace('\\', "/");
    let is_drive =
        path.as_bytes().get(1) == Some(&b':') && path.as_bytes()[0].is_ascii_alphabetic();
    if path.starts_with('/') || is_drive {
        json!({"uri": file_uri(&path)})
    } else {
        json!({"uri": percent_encode(&path), "uriBaseId": SRCROOT})
    }
}

/// `file:///an/absolute/path`, percent-encoded; `C:/x` becomes `file:///C:/x`.
fn file_uri(path: &str) -> String {
    match path.strip_prefix('/') {
        Some(rest) => format!("file:///{}", percent_encode(rest)),
        None => {
            // `C:` (what `artifact_location` passes); anything else stays whole.
            let cut = path.char_indices().nth(2).map_or(path.len(), |(i, _)| i);
            let (drive, rest) = path.split_at(cut);
            format!("file:///{drive}{}", percent_encode(rest))
        }
    }
}

/// Percent-encodes a path for a URI (RFC 3986): unreserved characters and `/` stay, every other
/// byte of the UTF-8 becomes `%XX`.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn default_severity(code: Code) -> Severity {
    match code {
        Code::SegmentInSeveralPlans => Severity::Warning,
        _ => Severity::Error,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(diag: &Diagnostic) -> Value {
    let mut text = diag.message.clone();
    if let Some(help) = &diag.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut location =
        json!({"physicalLocation": {"artifactLocation": artifact_location(&diag.path)}});
    if let Some(pos) = diag.position() {
        location["physicalLocation"]["region"] = json!({
            "startLine": pos.line,
            "startColumn": pos.column,
            "endLine": pos.end_line,
            "endColumn": pos.end_column,
        });
    }
    let mut result = json!({
        "ruleId": diag.code.as_str(),
        "level": level(diag.severity),
        "message": {"text": text},
        "locations": [location],
    });
    // What explains the result elsewhere (the policy rule a plan breaks, the first plan of a
    // duplicate name): SARIF's related locations, each with its message.
    let related: Vec<Value> = diag
        .related
        .iter()
        .enumerate()
        .map(|(id, related)| {
            let mut location = json!({
                "id": id,
                "physicalLocation": {"artifactLocation": artifact_location(&related.path)},
                "message": {"text": related.message},
            });
            if let Some(pos) = related.position() {
                location["physicalLocation"]["region"] =
                    json!({"startLine": pos.line, "startColumn": pos.column});
            }
            location
        })
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    if let Some(pointer) = &diag.pointer {
        result["properties"] = json!({"pointer": pointer});
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_paths_as_uris() {
        assert_eq!(
            artifact_location("plans/black friday #1 (é).yaml"),
            json!({"uri": "plans/black%20friday%20%231%20%28%C3%A9%29.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/tmp/a b/x.yaml"),
            json!({"uri": "file:///tmp/a%20b/x.yaml"})
        );
        assert_eq!(
            artifact_location("C:\\plans\\x y.yaml"),
            json!({"uri": "file:///C:/plans/x%20y.yaml"})
        );
    }
}
