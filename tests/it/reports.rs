//! What `apply` and `status` print, as golden files (human) and as their one JSON document
//! (`--format json`), also when they fail before anything was sent (issue 10).

use serde_json::Value;

use crate::apply::{Online, PLAN, settings};
use crate::common::TestEnv;

/// A platform that cannot be reached: a port bound, noted and closed.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn apply_and_status_for_people() {
    let o = Online::new();
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    let status = o.run(&["status", PLAN]);
    assert_eq!(status.status, 0, "{status}");
    settings().bind(|| {
        insta::assert_snapshot!("apply_human", apply);
        insta::assert_snapshot!("status_human", status);
    });
}

#[test]
fn apply_and_status_as_one_json_document() {
    let o = Online::new();
    let apply = o.run(&["apply", "--auto-approve", "--format", "json", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    let doc = apply.json();
    assert_eq!(doc["aepactApplyVersion"], 1);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["exitCode"], 0);
    assert_eq!(doc["plan"]["plans"][0]["verdict"]["action"], "apply");
    assert_eq!(doc["results"][0]["outcome"], "submitted");
    assert_eq!(doc["results"][0]["orders"], 3);
    assert_eq!(doc["error"], Value::Null);

    let status = o.run(&["status", "--format", "json", PLAN]);
    assert_eq!(status.status, 0, "{status}");
    let doc = status.json();
    assert_eq!(doc["aepactStatusVersion"], 1);
    assert_eq!(doc["totals"]["succeeded"], 3);
    assert_eq!(doc["plans"][0]["lockfile"], "plans/flash-sale.lock.json");
    settings().bind(|| {
        insta::assert_snapshot!("status_json", status.stdout);
    });

    // Again: already applied, nothing sent, still one document.
    let again = o.run(&["apply", "--auto-approve", "--format", "json", PLAN]);
    assert_eq!(
        again.json()["plan"]["plans"][0]["verdict"]["action"],
        "alreadyApplied"
    );
    assert_eq!(again.json()["results"], serde_json::json!([]));
}

/// With the platform unreachable, `plan` and `apply` exit 75 and say nothing was sent; `apply`
/// and `status` with `--format json` still print one document, with the error. (Each command
/// retries its connection with backoff first: they run side by side.)
#[test]
fn an_unreachable_platform_is_75_with_nothing_sent() {
    let o = Online::new();
    // A lockfile to poll, then the platform gone.
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let closed = closed_port();
    let recorded = o.lockfile()["runs"][0]["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let lock = std::fs::read_to_string(o.env.path().join("plans/flash-sale.lock.json")).unwrap();
    let env = TestEnv::new()
        .with_file(
            PLAN,
            std::fs::read_to_string(o.env.path().join(PLAN)).unwrap(),
        )
        .with_file(
            "polled/flash-sale.yaml",
            std::fs::read_to_string(o.env.path().join(PLAN)).unwrap(),
        )
        .with_file(
            "polled/flash-sale.lock.json",
            lock.replace(&recorded, &closed),
        )
        .with_emulator(&o.api.emulator)
        .with_env("AEP_PLATFORM_URL", &closed)
        .with_env("AEP_IMS_URL", &closed);
    let commands: [&[&str]; 3] = [
        &["plan", PLAN],
        &["apply", "--auto-approve", "--format", "json", PLAN],
        &["status", "--format", "json", "polled/flash-sale.yaml"],
    ];
    let env = &env;
    let [plan, apply, status] = std::thread::scope(|scope| {
        commands
            .map(|args| scope.spawn(move || env.run(args)))
            .map(|run| run.join().unwrap())
    });
    assert_eq!(plan.status, 75, "{plan}");
    assert!(plan.stderr.contains("Nothing was sent."), "{plan}");

    assert_eq!(apply.status, 75, "{apply}");
    assert!(apply.stderr.contains("Nothing was sent."), "{apply}");
    let doc = apply.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exitCode"], 75);
    assert_eq!(doc["error"]["code"], "aepact::api::transport");
    assert_eq!(doc["error"]["nothingSent"], true);
    assert_eq!(doc["plan"], Value::Null);

    assert_eq!(status.status, 75, "{status}");
    let doc = status.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["code"], "aepact::api::transport");
}

/// `status` starts with the offline checks, as every online command does (issue 14, point 4):
/// an invalid plan or a path that does not exist is an error, not "nothing applied".
#[test]
fn status_runs_the_offline_checks_first() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let missing = o.run(&["status", "plans/missing.yaml"]);
    assert_eq!(missing.status, 1, "{missing}");
    assert!(
        missing.stdout.contains("aepact::path_not_found"),
        "{missing}"
    );
    o.edit_plan("run: 1", "run: 1\nrunn: 2");
    let invalid = o.run(&["status", PLAN]);
    assert_eq!(invalid.status, 1, "{invalid}");
    assert!(invalid.stdout.contains("aepact::unknown_key"), "{invalid}");
    assert_eq!(
        o.lockfile()["runs"][0]["jobs"][0]["orders"][0]["status"],
        "notChecked",
        "nothing polled"
    );
}

/// `status --wait` off a terminal says how many orders are final when that changes, not at
/// every poll (and at most once a minute when nothing changes).
#[test]
fn status_wait_prints_a_line_when_something_changes() {
    let o = Online::with(
        aepact::emulator::EmulatorBuilder::new().run_duration(std::time::Duration::from_secs(3600)),
    );
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let out = o.run(&["status", "--wait", "--timeout", "3s", PLAN]);
    assert_eq!(out.status, 75, "{out}");
    // Polls at 0, 0.5, 1.5 and 3.5 s would each have printed a line before.
    assert_eq!(
        out.stdout.matches("waiting: 0 of 3 orders final").count(),
        1,
        "{out}"
    );
    assert!(
        out.stdout
            .contains("timed out after 3s with 3 orders still in flight"),
        "{out}"
    );
}

/// `lock verify`'s report, for people and as JSON, as golden files.
#[test]
fn lock_verify_for_people_and_as_json() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let text = std::fs::read_to_string(o.env.path().join("plans/flash-sale.lock.json")).unwrap();
    o.env.write(
        "plans/flash-sale.lock.json",
        text.replacen("\"index\": 0", "\"index\": 3", 1),
    );
    let human = o.run(&["lock", "verify", "plans"]);
    assert_eq!(human.status, 1, "{human}");
    let json = o.run(&["lock", "verify", "--format", "json", "plans"]);
    assert_eq!(json.status, 1, "{json}");
    settings().bind(|| {
        insta::assert_snapshot!("lock_verify_human", human);
        insta::assert_snapshot!("lock_verify_json", json.stdout);
    });
}

/// Ctrl-C or SIGTERM during `status --wait`: what was polled is printed and recorded, and the
/// command exits 130 or 143 (issue 12).
#[cfg(unix)]
#[test]
fn status_wait_stops_cleanly_on_ctrl_c_and_sigterm() {
    use std::io::BufRead;
    let o = Online::with(
        aepact::emulator::EmulatorBuilder::new().run_duration(std::time::Duration::from_secs(3600)),
    );
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let mut child = o
            .env
            .command(["status", "--wait", "--timeout", "5m", PLAN])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        // The first poll is done and recorded once it says it is waiting.
        let first = lines.next().unwrap().unwrap();
        assert!(first.starts_with("waiting: 0 of 3 orders final"), "{first}");
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {rest:?}");
        let text = rest.join("\n");
        assert!(
            text.contains("plans/flash-sale.yaml: 0 succeeded, 0 failed, 3 in flight"),
            "{text}"
        );
        assert!(
            text.contains("interrupted with 3 orders still in flight"),
            "{text}"
        );
        // The poll was recorded: the orders were checked.
        assert_eq!(
            o.lockfile()["runs"][0]["jobs"][0]["orders"][0]["status"],
            "scheduled"
        );
    }
}

/// `validate -` and `plan -` read the plan from standard input; `apply -` refuses, since such a
/// plan has no lockfile (issue 12).
#[test]
fn a_plan_on_standard_input() {
    use std::io::Write;
    let o = Online::new();
    let text = std::fs::read_to_string(o.env.path().join(PLAN)).unwrap();
    let run = |args: &[&str], input: &str| {
        let mut child = o
            .env
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        crate::common::Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        }
    };
    let valid = run(&["validate", "-"], &text);
    assert_eq!(valid.status, 0, "{valid}");
    let invalid = run(&["validate", "-"], &text.replace("run: 1", "runn: 1"));
    assert_eq!(invalid.status, 1, "{invalid}");
    assert!(invalid.stdout.contains("<stdin>:"), "{invalid}");
    let plan = run(&["plan", "--detailed-exitcode", "-"], &text);
    assert_eq!(plan.status, 2, "{plan}");
    assert!(
        plan.stdout
            .contains("plan `black-friday-flash-sale` (<stdin>)"),
        "{plan}"
    );
    let apply = run(&["apply", "--auto-approve", "-"], &text);
    assert_eq!(apply.status, 1, "{apply}");
    assert!(apply.stderr.contains("aepact::stdin_plan"), "{apply}");
    assert_eq!(o.posts(), 0);
}
