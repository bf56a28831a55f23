//! `validate --format sarif`: SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning
//! uploads it as is). One rule per diagnostic code, one result per diagnostic.

use serde_json::{Value, json};

use crate::plan::{CheckReport, Code, Diagnostic, Severity};

/// Renders a `validate` report as one SARIF log.
pub fn validate(report: &CheckReport) -> String {
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
    let results: Vec<Value> = report
        .files
        .iter()
        .flat_map(|f| &f.diagnostics)
        .map(result)
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "aepact",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log)
        .expect("invariant: a serde_json::Value always serialises");
    text.push('\n');
    text
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
    let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": &*diag.path}}});
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
    if let Some(pointer) = &diag.pointer {
        result["properties"] = json!({"pointer": pointer});
    }
    result
}
