//! `apply --wait-for-clear` against the emulator, its clock moved by the test while aepact
//! waits: an export job finishing, a run in flight ending, the platform's "Run already going
//! on", the deadline, and the refusals that are not waited for. Every check while waiting is
//! a fresh apply's: nothing is sent until the plan is clear, and then exactly once.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::apply::{LOCK, Online, PLAN};
use crate::common::Output;
use crate::emulator::{DIRECT_MAIL, EMAIL, GOLD};

/// Short pauses between checks, so that a test waits milliseconds, not seconds.
const POLL: (&str, &str) = ("AEPACT_POLL_DELAY_MS", "20");

/// `aepact` running in the background with stdout piped.
struct Waiting {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    seen: String,
}

impl Waiting {
    fn start(o: &Online, args: &[&str]) -> Self {
        let mut child = o
            .env
            .command(args)
            .env(POLL.0, POLL.1)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Waiting {
            child,
            stdout,
            seen: String::new(),
        }
    }

    /// Reads stdout up to a line containing `text` (panics with what it printed, and how it
    /// ended, if it ends first).
    fn until(&mut self, text: &str) {
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line).unwrap() == 0 {
                let out = self.finish();
                panic!("ended before printing {text:?}:\n{out}");
            }
            self.seen.push_str(&line);
            if line.contains(text) {
                return;
            }
        }
    }

    /// Waits for the process to end: everything it printed and its status.
    fn finish(&mut self) -> Output {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut stderr).unwrap();
        }
        let status = self.child.wait().unwrap();
        Output {
            stdout: std::mem::take(&mut self.seen) + &rest,
            stderr,
            status: status.code().unwrap_or(-1),
        }
    }
}

fn start_export(o: &Online) -> u64 {
    let job = o
        .api
        .admin("POST", "export-jobs", Some(json!({"sandbox": "prod"})));
    job["id"].as_u64().unwrap()
}

fn finish_export(o: &Online, id: u64) {
    o.api.admin(
        "POST",
        &format!("export-jobs/{id}/finish"),
        Some(json!({"status": "SUCCEEDED"})),
    );
}

fn lockfile_at(o: &Online, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(o.env.path().join(path)).unwrap()).unwrap()
}

#[test]
fn waits_for_an_export_job_to_finish_then_applies_from_it() {
    let o = Online::new();
    let export = start_export(&o);
    let mut apply = Waiting::start(
        &o,
        &["apply", "--auto-approve", "--wait-for-clear=5m", PLAN],
    );
    apply.until(&format!(
        "waiting for `black-friday-flash-sale`: segment export job {export} is PROCESSING in sandbox `prod`"
    ));
    apply.until("checking again at ");
    assert_eq!(o.posts(), 0, "nothing is sent while the export runs");
    finish_export(&o, export);
    let out = apply.finish();
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("giving up at "), "{out}");
    assert!(out.stdout.contains("clear after "), "{out}");
    assert!(
        out.stdout
            .contains("applied `black-friday-flash-sale` (run 1)"),
        "{out}"
    );
    assert_eq!(o.posts(), 1);
    // Checked again as a fresh apply: `latest` is now the export that just finished.
    let lock = o.lockfile();
    assert_eq!(lock["runs"].as_array().unwrap().len(), 1);
    assert_eq!(
        lock["runs"][0]["exports"]["resolved"],
        json!([export.to_string()]),
        "{lock}"
    );
    assert_eq!(
        o.requests("adhocrun")[0]["body"]["exportIds"],
        json!([export.to_string()])
    );
}

#[test]
fn waits_for_a_run_in_flight_to_end_on_the_platforms_clock() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    o.edit_plan("run: 1", "run: 2");
    let mut apply = Waiting::start(&o, &["apply", "--auto-approve", "--wait-for-clear", PLAN]);
    apply.until("has a run still in flight");
    assert_eq!(o.posts(), 1, "run 2 waits for run 1");
    o.api.advance(3_600_000);
    let out = apply.finish();
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stdout
            .contains("applied `black-friday-flash-sale` (run 2)"),
        "{out}"
    );
    assert_eq!(o.posts(), 2);
    let runs = o.lockfile()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|r| r["jobs"][0]["status"] == "submitted"),
        "{runs:?}"
    );
}

/// The platform answers "Run already going on" for a run aepact could not see (another
/// dataflow's, applied by another plan): nothing started, so the job is sent again, but only
/// once the run the platform named is over.
#[test]
fn run_already_going_on_is_waited_out_and_sent_once_more() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    let plan = |name: &str, flow: &str| {
        format!(
            "apiVersion: aepact/v1\nname: {name}\nexports: latest\ndestinations:\n  - id: {flow}\n    segments: [{GOLD}]\n"
        )
    };
    o.env
        .write("plans/gold-email.yaml", plan("gold-email", EMAIL));
    o.env
        .write("plans/gold-mail.yaml", plan("gold-mail", DIRECT_MAIL));
    let first = o.run(&["apply", "--auto-approve", "plans/gold-email.yaml"]);
    assert_eq!(first.status, 0, "{first}");
    let mut apply = Waiting::start(
        &o,
        &[
            "apply",
            "--auto-approve",
            "--wait-for-clear=10m",
            "plans/gold-mail.yaml",
        ],
    );
    apply.until("Run already going on");
    // The next checks find the run the platform named, and wait for it without sending.
    apply.until(&format!("segment `{GOLD}` has a run still in flight"));
    assert_eq!(o.posts(), 2, "one for gold-email, one refused");
    o.api.advance(3_600_000);
    let out = apply.finish();
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("applied `gold-mail` (run 1)"), "{out}");
    assert_eq!(o.posts(), 3);
    let lock = lockfile_at(&o, "plans/gold-mail.lock.json");
    let jobs: Vec<(&Value, &Value)> = lock["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                &r["jobs"][0]["status"],
                &r["jobs"][0]["error"]["httpStatus"],
            )
        })
        .collect();
    assert_eq!(
        jobs,
        [
            (&json!("rejected"), &json!(409)),
            (&json!("submitted"), &Value::Null)
        ],
        "{lock}"
    );
}

/// The same with a saved plan: the rejected run this apply itself recorded changes the plan's
/// lockfile, which is no reason to call the saved plan stale.
#[test]
fn a_saved_plan_waits_out_run_already_going_on_without_going_stale() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    let plan = |name: &str, flow: &str| {
        format!(
            "apiVersion: aepact/v1\nname: {name}\nexports: latest\ndestinations:\n  - id: {flow}\n    segments: [{GOLD}]\n"
        )
    };
    o.env
        .write("plans/gold-email.yaml", plan("gold-email", EMAIL));
    o.env
        .write("plans/gold-mail.yaml", plan("gold-mail", DIRECT_MAIL));
    let first = o.run(&["apply", "--auto-approve", "plans/gold-email.yaml"]);
    assert_eq!(first.status, 0, "{first}");
    let saved = o.run(&["plan", "--out", "saved.json", "plans/gold-mail.yaml"]);
    assert_eq!(saved.status, 0, "{saved}");
    let mut apply = Waiting::start(
        &o,
        &[
            "apply",
            "--auto-approve",
            "--wait-for-clear=10m",
            "saved.json",
        ],
    );
    apply.until("Run already going on");
    apply.until(&format!("segment `{GOLD}` has a run still in flight"));
    o.api.advance(3_600_000);
    let out = apply.finish();
    assert_eq!(out.status, 0, "{out}");
    assert!(!out.stdout.contains("stale"), "{out}");
    assert!(out.stdout.contains("applied `gold-mail` (run 1)"), "{out}");
    assert_eq!(
        o.posts(),
        3,
        "gold-email, the refused one, and gold-mail once"
    );
}

#[test]
fn gives_up_with_75_when_the_time_is_up() {
    let o = Online::new();
    let export = start_export(&o);
    let out = o
        .env
        .command([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--wait-for-clear=300ms",
            PLAN,
        ])
        .env(POLL.0, POLL.1)
        .output()
        .unwrap();
    let out = Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    };
    assert_eq!(out.status, 75, "{out}");
    // With `--format json` the progress goes to stderr; stdout is the one document.
    assert!(
        out.stderr.contains(&format!(
            "waiting for `black-friday-flash-sale`: segment export job {export} is PROCESSING"
        )),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("gave up waiting after 300ms: 1 plan still refused"),
        "{out}"
    );
    let doc = out.json();
    assert_eq!(doc["exitCode"], 75);
    assert_eq!(doc["timedOut"], true);
    assert_eq!(doc["results"], json!([]));
    assert_eq!(
        doc["plan"]["plans"][0]["verdict"]["reasons"][0]["code"],
        "export_running"
    );
    assert_eq!(o.posts(), 0);
    assert!(!o.env.path().join(LOCK).exists(), "nothing recorded");
}

/// A refusal that needs someone to act is not waited for: the command ends at once, as
/// without the flag (given here without a value, before the path).
#[test]
fn a_refusal_that_does_not_clear_by_itself_is_not_waited_for() {
    let o = Online::new();
    start_export(&o);
    // Employees is mapped to no dataflow: `segments_unmapped`, beside the export running.
    o.edit_plan(
        "- id: 6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8",
        "- id: f19f3ffe-7e79-4732-b7c2-78c7ce369ef7",
    );
    let out = o.run(&["apply", "--auto-approve", "--wait-for-clear", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("does not map"), "{out}");
    assert!(!out.stdout.contains("waiting for"), "{out}");
    assert_eq!(o.posts(), 0);
}

/// A saved plan is checked again at each check: the export it waited for makes `latest`
/// resolve to a newer job, so the reviewed request bodies are stale and nothing is sent.
#[test]
fn a_saved_plan_that_goes_stale_while_waiting_is_refused() {
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "plan.json", PLAN]).status, 0);
    let export = start_export(&o);
    let mut apply = Waiting::start(
        &o,
        &[
            "apply",
            "--auto-approve",
            "--wait-for-clear=5m",
            "plan.json",
        ],
    );
    apply.until("is PROCESSING");
    finish_export(&o, export);
    let out = apply.finish();
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("the saved plan is stale"), "{out}");
    assert!(out.stdout.contains("now resolves to"), "{out}");
    assert_eq!(o.posts(), 0);
}

/// Plans that are clear go at once; the one sharing a segment with them waits for their runs
/// and then goes too.
#[test]
fn clear_plans_go_at_once_and_the_others_as_they_clear() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(600)));
    o.env.write(
        "plans/gold-mail.yaml",
        format!(
            "apiVersion: aepact/v1\nname: gold-mail\nexports: latest\ndestinations:\n  - id: {DIRECT_MAIL}\n    segments: [{GOLD}]\n"
        ),
    );
    let mut apply = Waiting::start(
        &o,
        &[
            "apply",
            "--auto-approve",
            "--wait-for-clear=10m",
            PLAN,
            "plans/gold-mail.yaml",
        ],
    );
    apply.until("applied `black-friday-flash-sale` (run 1)");
    apply.until("waiting for `gold-mail`");
    assert_eq!(o.posts(), 1);
    o.api.advance(600_000);
    let out = apply.finish();
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("applied `gold-mail` (run 1)"), "{out}");
    assert_eq!(o.posts(), 2);
    // The flash sale was sent once, not again at the later check.
    assert_eq!(o.lockfile()["runs"].as_array().unwrap().len(), 1);
}
