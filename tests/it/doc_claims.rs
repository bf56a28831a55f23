//! Claims of the docs that the binary did not keep (issue 14), each settled one way or the
//! other and pinned here: the `truncated` fault closes the connection, seed errors point at
//! their line, the control endpoints' unknown paths and the request log's shape are as
//! documented, long YAML keys are written as `? key`, and the `validate` JSON has `[]` for empty
//! lists. (`lock verify`'s place for a wrong `lockfileVersion` is pinned in `lock_verify.rs`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::common::{TestEnv, fixture};
use crate::emulator::{Api, CLIENT_ID, EMAIL, ORG};

const FLOW: &str = "/data/foundation/flowservice/flows/0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";

/// The head of a raw HTTP response, lowercase header names, and its body bytes.
fn split_response(raw: &[u8]) -> (u16, Vec<(String, String)>, &[u8]) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, &raw[end + 4..])
}

/// Issue 14, point 6: `truncated` set a `Content-Length` of more than the body it sent. A release
/// build believed the body's own length and kept the connection open, so a client that keeps
/// connections alive waited for the rest until its timeout (a debug build's hyper asserted and
/// sent nothing). Now the head and half the body go out and the connection closes: reading to the
/// end finishes (EOF), it does not run into the read timeout.
#[test]
fn truncated_answers_close_the_connection_even_when_kept_alive() {
    let api = Api::new();
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "flows.get", "response": "truncated", "times": 1})),
    );
    let mut stream = TcpStream::connect(api.emulator.addr()).unwrap();
    // A safety net against a hung test, not an assertion about speed.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // HTTP/1.1 without `Connection: close`: the client would keep the connection alive.
    let request = format!(
        "GET {FLOW} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nx-api-key: {CLIENT_ID}\r\nx-gw-ims-org-id: {ORG}\r\nx-sandbox-name: prod\r\n\r\n",
        api.emulator.addr(),
        api.token
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    assert!(
        read.is_ok(),
        "the connection was left open after the truncated body: {read:?}"
    );
    let (status, headers, body) = split_response(&raw);
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("connection"), Some("close"), "{headers:?}");
    let promised: usize = header("content-length").unwrap().parse().unwrap();
    assert_eq!(
        body.len(),
        promised / 2,
        "the first half of the body is sent"
    );
    assert!(body.starts_with(b"{\"items\""), "{body:?}");
}

/// The same fault as aepact's HTTP client meets it: the body fails (not a timeout), and the
/// next request, on a new connection, is answered in full.
#[test]
fn a_kept_alive_client_sees_the_truncated_body_fail_and_the_next_request_succeed() {
    let api = Api::new();
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "flows.get", "response": "truncated", "times": 1})),
    );
    let url = format!("{}{FLOW}", api.emulator.platform_url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // A safety net: a connection left open would end here, as `is_timeout`.
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let get = || {
            client
                .get(&url)
                .bearer_auth(&api.token)
                .header("x-api-key", CLIENT_ID)
                .header("x-gw-ims-org-id", ORG)
                .header("x-sandbox-name", "prod")
                .send()
        };
        let first = get().await.unwrap();
        assert_eq!(first.status(), 200);
        let err = first.bytes().await.unwrap_err();
        assert!(
            !err.is_timeout(),
            "waited for the rest of the body: {err:?}"
        );
        assert!(err.is_body() || err.is_decode(), "{err:?}");
        let second = get().await.unwrap();
        assert_eq!(second.status(), 200);
        let flow: Value = second.json().await.unwrap();
        assert_eq!(flow["items"][0]["id"], EMAIL);
    });
}

/// Issue 14, point 13: an unknown path under `/_emulator/` answers the platform's 404 problem
/// body, like any unknown path; the control endpoints' own errors are `{"error": …}`.
#[test]
fn unknown_control_paths_answer_the_not_found_problem() {
    let api = Api::new();
    let reply = api.raw("GET", "/_emulator/nope", &[], None).unwrap();
    assert_eq!(reply.status, 404, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        body["type"], "https://ns.adobe.com/aep/errors/EMU-0404-404",
        "{body}"
    );
    assert_eq!(body["title"], "Not Found");
    assert_eq!(body["status"], 404);
    assert_eq!(body["detail"], "no such endpoint: GET /_emulator/nope");
    assert!(body["report"]["request-id"].is_string(), "{body}");
    assert!(body.get("error").is_none(), "{body}");

    let reply = api.raw("DELETE", "/_emulator/info", &[], None).unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET,HEAD"));
    assert_eq!(reply.body, "");

    let reply = api
        .raw(
            "POST",
            "/_emulator/clock",
            &[("Content-Type", "application/json")],
            Some(r#"{"advanceMs": "soon"}"#),
        )
        .unwrap();
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["error"]
    );
}

/// Issue 14, point 14: a request-log entry leaves out `query`, `params`, `route`, `body` and
/// `fault` when the request has none of them, and has them when it does.
#[test]
fn request_log_entries_leave_out_what_a_request_lacks() {
    let api = Api::new();
    api.admin("DELETE", "requests", None);
    // No query, no body, no fault, not a route faults can name.
    let _ = api.get("/data/core/ups/export/nothing-here");
    api.admin(
        "POST",
        "faults",
        Some(json!({"route": "exportJobs.list", "latencyMs": 1, "times": 1})),
    );
    let _ = api.get("/data/core/ups/export/jobs?limit=1");
    let _ = api.adhoc(&json!({"activationInfo": {}}));
    let log = api.admin("GET", "requests", None);
    let entries = log["requests"].as_array().unwrap();
    let keys = |e: &Value| -> Vec<String> { e.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&entries[0]),
        ["at", "headers", "method", "path", "seq", "status"],
        "{:#}",
        entries[0]
    );
    assert_eq!(
        keys(&entries[1]),
        [
            "at", "fault", "headers", "method", "params", "path", "query", "route", "seq", "status"
        ],
        "{:#}",
        entries[1]
    );
    assert_eq!(entries[1]["query"], "limit=1");
    assert_eq!(entries[1]["params"], json!([["limit", "1"]]));
    assert_eq!(
        keys(&entries[2]),
        [
            "at", "body", "headers", "method", "path", "route", "seq", "status"
        ],
        "{:#}",
        entries[2]
    );
    assert_eq!(entries[2]["body"], json!({"activationInfo": {}}));
}

/// A seed with an unknown key and a value of the wrong type, each at a known line.
fn seed_with(extra: &str) -> String {
    format!(
        "org: 0123456789ABCDEF01234567@AdobeOrg\nclients:\n  - id: ci-client\n    secret: ci-secret\nsandboxes:\n  prod:\n    segments:\n      - id: 11111111-1111-4111-8111-111111111111\n        name: QA list\n{extra}"
    )
}

/// Issue 14, point 8: unknown keys and wrong types in a seed file point at their line and
/// column, as the other seed errors do.
#[test]
fn seed_errors_point_at_their_line_and_column() {
    let env = TestEnv::new();
    for (extra, code, place, message) in [
        (
            "        nmae: typo\n",
            "aepact::unknown_key",
            "seed.yaml:10:9",
            "unknown field `nmae`",
        ),
        (
            "        profiles: lots\n",
            "aepact::wrong_type",
            "seed.yaml:10:19",
            "invalid type: string \"lots\", expected u64",
        ),
        (
            "        outcome: maybe\n",
            "aepact::invalid_value",
            "seed.yaml:10:18",
            "unknown variant `maybe`",
        ),
    ] {
        let path = env.write("seed.yaml", seed_with(extra));
        let err = EmulatorBuilder::new().seed_file(&path).unwrap_err();
        let aepact::emulator::EmulatorError::Seed { diagnostics, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let diag = &diagnostics[0];
        assert_eq!(diag.code.as_str(), code, "{extra}");
        assert!(diag.message.contains(message), "{}", diag.message);
        let pos = diag
            .position()
            .unwrap_or_else(|| panic!("no position: {diag:?}"));
        assert_eq!(
            format!("seed.yaml:{}:{}", pos.line, pos.column),
            place,
            "{extra}"
        );
        // The command prints the snippet with the place.
        let out = env.run(["emulator", "--seed", "seed.yaml"]);
        assert_eq!(out.status, 1, "{out}");
        assert!(out.stderr.contains(&format!("[{place}]")), "{out}");
    }
}

/// A plan whose top level has a key of `len` characters, written as given by `key_line`.
fn plan_with_long_key(key_line: &str) -> String {
    format!("{}{key_line}", fixture("valid/minimal.yaml"))
}

/// Issue 14, point 7: a mapping key over 1,024 characters cannot be written plain or quoted
/// (YAML's limit on implicit keys); the help says to write it as `? key`, which parses.
#[test]
fn keys_over_1024_characters_are_written_as_explicit_keys() {
    let key = "k".repeat(1100);
    let env = TestEnv::new()
        .with_file("plain.yaml", plan_with_long_key(&format!("{key}: 1\n")))
        .with_file(
            "quoted.yaml",
            plan_with_long_key(&format!("\"{key}\": 1\n")),
        )
        .with_file(
            "explicit.yaml",
            plan_with_long_key(&format!("? {key}\n: 1\n")),
        );
    for file in ["plain.yaml", "quoted.yaml"] {
        let json = env.run(["validate", "--format", "json", file]).json();
        let diags = &json["files"][0]["diagnostics"];
        assert_eq!(diags[0]["code"], "aepact::yaml_syntax", "{file}: {diags:#}");
        let help = diags[0]["help"].as_str().unwrap();
        assert!(help.contains("`? key`"), "{file}: {help}");
        assert!(help.contains("1,024 characters"), "{file}: {help}");
        assert!(
            !help.contains("quote it") && !help.contains("quotes"),
            "quoting does not help: {help}"
        );
    }
    // Past the YAML: the key is read, and refused as a key the plan format does not have.
    let out = env.run(["validate", "--format", "json", "explicit.yaml"]);
    assert_eq!(out.codes(0), ["aepact::unknown_key"], "{out}");
    // A short key that lacks its `:` keeps the general help.
    let env = env.with_file("short.yaml", plan_with_long_key("oops\nrun: 1\n"));
    let json = env
        .run(["validate", "--format", "json", "short.yaml"])
        .json();
    let help = json["files"][0]["diagnostics"][0]["help"].as_str().unwrap();
    assert!(!help.contains("? key"), "{help}");
}

/// Issue 14, point 12: in the `validate` JSON, lists are `[]` when empty (`diagnostics`,
/// `related`, `skipped`) and a value that does not apply is `null` (`jobs` without `--split`,
/// the positions of a diagnostic with none).
#[test]
fn validate_json_has_empty_lists_and_null_values() {
    let env = TestEnv::new()
        .with_file("ok.yaml", fixture("valid/minimal.yaml"))
        .with_file("dup.yaml", fixture("duplicate_segment.yaml"))
        .with_file("empty/README.md", "no plans\n");
    // Two runs: the two plans share a segment, which would warn.
    let json = env
        .run(["validate", "--format", "json", "ok.yaml", "empty"])
        .json();
    let dup_json = env.run(["validate", "--format", "json", "dup.yaml"]).json();
    let file = |path: &str| -> Value {
        json["files"]
            .as_array()
            .unwrap()
            .iter()
            .chain(dup_json["files"].as_array().unwrap())
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {json:#}"))
            .clone()
    };
    let ok = file("ok.yaml");
    assert_eq!(ok["diagnostics"], json!([]));
    assert_eq!(ok["jobs"], Value::Null);
    let dup = file("dup.yaml");
    assert_eq!(dup["diagnostics"][0]["related"], json!([]));
    assert_eq!(dup["jobs"], Value::Null);
    let empty = file("empty");
    let diag = &empty["diagnostics"][0];
    assert_eq!(diag["code"], "aepact::no_plans");
    for key in ["line", "column", "endLine", "endColumn", "pointer"] {
        assert_eq!(diag[key], Value::Null, "{key}: {diag:#}");
    }
    assert_eq!(empty["plan"], Value::Null);
    assert_eq!(json["skipped"], json!([]));
}
