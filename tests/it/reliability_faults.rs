//! Network faults: every fault the emulator can inject, on the ad-hoc POST (`apply`) and on the
//! GETs of `plan` and `status`, gives the documented behaviour and exit code (api-client.md,
//! workflow.md), never a panic, and never a lost or doubled job: after each one the request
//! log and the lockfile are compared, `status` settles what is in doubt, and a re-apply sends
//! only what the platform did not take.

use serde_json::{Value, json};

use crate::reliability_rig::{Rig, TRIO, TRIO_LOCK};

/// The client's per-request timeout in these tests; latency faults go beyond it.
const TIMEOUT: (&str, &str) = ("AEPACT_HTTP_TIMEOUT", "1s");

fn apply(rig: &Rig) -> crate::common::Output {
    rig.run_with(&[TIMEOUT], &["apply", "--auto-approve", TRIO])
}

/// How a faulty POST must end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Retried, then accepted: exit 0, `submitted`.
    Submitted,
    /// The platform kept refusing after the retries: exit 75, `rejected`, nothing activated.
    Busy,
    /// In doubt (the job may be running): exit 1, `unknown`, `status` settles it.
    InDoubt,
}

/// Applies the three-segment plan (one job) under `fault` on the POST, then checks the exit
/// code, the lockfile against the request log, that `status` settles it truthfully, and that
/// applying again sends the job only if the platform did not take it.
fn post_fault(fault: Value, expect: Expect) {
    let rig = Rig::new();
    rig.fault(fault.clone());
    let out = apply(&rig);
    rig.settle_emulator();
    rig.clear_faults();
    let job = rig.jobs(TRIO_LOCK)[0].clone();
    match expect {
        Expect::Submitted => {
            assert_eq!(out.status, 0, "{fault}: {out}");
            assert_eq!(job["status"], "submitted", "{fault}");
        }
        Expect::Busy => {
            assert_eq!(out.status, 75, "{fault}: {out}");
            assert_eq!(job["status"], "rejected", "{fault}");
            assert!(out.stdout.contains("apply again later"), "{fault}: {out}");
        }
        Expect::InDoubt => {
            assert_eq!(out.status, 1, "{fault}: {out}");
            assert_eq!(job["status"], "unknown", "{fault}: {job:#}");
            assert!(out.stdout.contains("aepact status"), "{fault}: {out}");
            // Not sent again: not retried, and a re-apply refuses until `status` settles it.
            let again = apply(&rig);
            assert_eq!(again.status, 1, "{fault}: {again}");
        }
    }
    rig.check_nothing_lost_or_doubled(TRIO_LOCK);

    let status = rig.status(&[TRIO]);
    assert_eq!(status.status, 0, "{fault}: {status}");
    rig.check_settled_truthfully(TRIO_LOCK);

    // Whatever happened, one more apply leaves the job sent exactly once.
    let last = apply(&rig);
    assert_eq!(last.status, 0, "{fault}: {last}");
    rig.settle_emulator();
    rig.check_nothing_lost_or_doubled(TRIO_LOCK);
    assert_eq!(
        rig.accepted().values().sum::<usize>(),
        1,
        "{fault}: sent exactly once in the end"
    );
}

#[test]
fn post_latency_beyond_the_timeout_is_in_doubt() {
    post_fault(
        json!({"route": "adhocrun", "latencyMs": 2500, "times": 1}),
        Expect::InDoubt,
    );
}

#[test]
fn post_429_is_retried_after_retry_after() {
    post_fault(
        json!({"route": "adhocrun", "status": 429, "retryAfter": 0, "times": 2}),
        Expect::Submitted,
    );
}

#[test]
fn post_429_that_never_clears_exits_75() {
    post_fault(
        json!({"route": "adhocrun", "status": 429, "retryAfter": 0}),
        Expect::Busy,
    );
}

#[test]
fn post_503_is_retried_or_exits_75() {
    post_fault(
        json!({"route": "adhocrun", "status": 503, "retryAfter": 0, "times": 1}),
        Expect::Submitted,
    );
    post_fault(
        json!({"route": "adhocrun", "status": 503, "retryAfter": 0}),
        Expect::Busy,
    );
}

#[test]
fn post_500_502_504_are_never_retried_and_in_doubt() {
    for status in [500, 502, 504] {
        post_fault(
            json!({"route": "adhocrun", "status": status, "times": 1}),
            Expect::InDoubt,
        );
    }
}

#[test]
fn post_dropped_after_the_request_is_read_is_in_doubt() {
    post_fault(
        json!({"route": "adhocrun", "drop": true, "times": 1}),
        Expect::InDoubt,
    );
}

#[test]
fn post_answers_that_cannot_be_read_are_in_doubt() {
    for response in ["malformedJson", "truncated"] {
        post_fault(
            json!({"route": "adhocrun", "response": response, "times": 1}),
            Expect::InDoubt,
        );
    }
    // An HTML error page from a proxy in front of the platform.
    post_fault(
        json!({"route": "adhocrun", "status": 502, "response": "html", "times": 1}),
        Expect::InDoubt,
    );
}

/// Every fault on a GET, once: retried where the client documents it (then the command
/// succeeds), else a clear error with exit 1. `expect_ok` says which.
/// A fault on a GET, and how a command ends when it meets it once: 0 when the retry clears it;
/// 75 for a 500, which is not retried but clears by itself (nothing was sent); 1 for an answer
/// that cannot be read.
const GET_FAULTS: &[(&str, i32)] = &[
    (r#"{"latencyMs": 2500}"#, 0),
    (r#"{"status": 429, "retryAfter": 0}"#, 0),
    (r#"{"status": 500}"#, 75),
    (r#"{"status": 502}"#, 0),
    (r#"{"status": 503, "retryAfter": 0}"#, 0),
    (r#"{"status": 504}"#, 0),
    (r#"{"drop": true}"#, 0),
    (r#"{"response": "malformedJson"}"#, 1),
    (r#"{"response": "truncated"}"#, 0),
    (r#"{"status": 502, "response": "html"}"#, 0),
];

fn get_fault(route: &str, spec: &str) -> Value {
    let mut fault: Value = serde_json::from_str(spec).unwrap();
    fault["route"] = json!(route);
    fault["times"] = json!(1);
    fault
}

#[test]
fn plan_under_get_faults() {
    let rig = Rig::new();
    for (spec, exit) in GET_FAULTS {
        for route in ["exportJobs.list", "flows.list", "runs.list"] {
            let fault = get_fault(route, spec);
            rig.fault(fault.clone());
            let out = rig.run_with(&[TIMEOUT], &["plan", TRIO]);
            rig.clear_faults();
            if *exit == 0 {
                assert_eq!(out.status, 0, "{fault}: {out}");
                assert!(out.stdout.contains("activationInfo"), "{fault}: {out}");
            } else {
                assert_eq!(out.status, *exit, "{fault}: {out}");
                // A clear diagnostic naming the request, not a panic.
                assert!(out.stderr.contains("aepact::api::"), "{fault}: {out}");
            }
        }
    }
    assert!(rig.posts().is_empty(), "plan never sends");
}

#[test]
fn apply_under_get_faults_sends_once_or_not_at_all() {
    for (spec, exit) in GET_FAULTS {
        let rig = Rig::new();
        let fault = get_fault("flows.list", spec);
        rig.fault(fault.clone());
        let out = apply(&rig);
        rig.clear_faults();
        if *exit == 0 {
            assert_eq!(out.status, 0, "{fault}: {out}");
            assert_eq!(rig.posts().len(), 1, "{fault}");
        } else {
            assert_eq!(out.status, *exit, "{fault}: {out}");
            assert!(out.stderr.contains("Nothing was sent."), "{fault}: {out}");
            assert!(rig.posts().is_empty(), "{fault}: nothing is sent");
            assert!(rig.lockfile(TRIO_LOCK).is_none(), "{fault}");
        }
    }
}

#[test]
fn status_under_get_faults_keeps_the_lockfile() {
    let rig = Rig::new();
    assert_eq!(apply(&rig).status, 0);
    let before = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK)).unwrap();
    for (spec, exit) in GET_FAULTS {
        let fault = get_fault("runs.list", spec);
        rig.fault(fault.clone());
        let out = rig.run_with(&[TIMEOUT], &["status", TRIO]);
        rig.clear_faults();
        if *exit == 0 {
            assert_eq!(out.status, 0, "{fault}: {out}");
            break; // the orders are final now; later faults would not be reached
        }
        assert_eq!(out.status, *exit, "{fault}: {out}");
        assert!(out.stderr.contains("/flowservice/runs"), "{fault}: {out}");
        let after = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK)).unwrap();
        assert_eq!(
            before, after,
            "{fault}: a failed status leaves the lockfile as it was"
        );
    }
    // Every fault, on a lockfile whose orders are still to be polled.
    for (spec, exit) in GET_FAULTS {
        let rig = Rig::new();
        assert_eq!(apply(&rig).status, 0);
        let fault = get_fault("runs.list", spec);
        rig.fault(fault.clone());
        let out = rig.run_with(&[TIMEOUT], &["status", TRIO]);
        rig.clear_faults();
        assert_eq!(out.status, *exit, "{fault}: {out}");
        rig.lockfile(TRIO_LOCK).unwrap();
        assert_eq!(rig.posts().len(), 1, "{fault}");
    }
}

#[test]
fn connection_refused_fails_cleanly_everywhere() {
    let rig = Rig::new();
    assert_eq!(apply(&rig).status, 0);
    // A port nothing listens on: bind one, note it, close it. The lockfile's runs are moved
    // there (as if the platform they were sent to had gone away), so that the commands get as
    // far as the network instead of refusing a lockfile recorded for another endpoint.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let recorded = rig.lockfile(TRIO_LOCK).unwrap()["runs"][0]["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK))
        .unwrap()
        .replace(&recorded, &closed);
    std::fs::write(rig.env.path().join(TRIO_LOCK), &moved).unwrap();
    let before = moved;
    let vars = [
        ("AEP_PLATFORM_URL", closed.as_str()),
        ("AEP_IMS_URL", closed.as_str()),
    ];
    // The three at once: each retries its connection with backoff before it gives up.
    let commands = [
        vec!["plan", TRIO],
        vec![
            "apply",
            "--auto-approve",
            "--max-segments-per-job",
            "2",
            "--split",
            TRIO,
        ],
        vec!["status", TRIO],
    ];
    let (rig_ref, vars_ref) = (&rig, &vars);
    std::thread::scope(|scope| {
        let runs: Vec<_> = commands
            .iter()
            .map(|args| scope.spawn(move || (args, rig_ref.run_with(vars_ref, args))))
            .collect();
        for run in runs {
            let (args, out) = run.join().unwrap();
            // The network clears by itself: 75, and plan and apply say nothing was sent.
            assert_eq!(out.status, 75, "{args:?}: {out}");
            if args[0] != "status" {
                assert!(out.stderr.contains("Nothing was sent."), "{args:?}: {out}");
            }
            assert!(
                out.stderr.contains("aepact::api::transport"),
                "{args:?}: {out}"
            );
            assert!(out.stderr.contains("Connection refused"), "{args:?}: {out}");
        }
    });
    let after = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK)).unwrap();
    assert_eq!(before, after, "nothing recorded without a connection");
    assert_eq!(rig.posts().len(), 1);
}

#[test]
fn status_settling_a_job_in_doubt_under_run_list_faults() {
    let rig = Rig::new();
    rig.fault(json!({"route": "adhocrun", "drop": true, "times": 1}));
    assert_eq!(apply(&rig).status, 1);
    rig.settle_emulator();
    let before = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK)).unwrap();
    // Not retried (500: 75, it clears by itself) or unreadable (1): status fails clearly and
    // records nothing.
    for (fault, exit) in [
        (json!({"route": "runs.list", "status": 500, "times": 1}), 75),
        (
            json!({"route": "runs.list", "response": "malformedJson", "times": 1}),
            1,
        ),
    ] {
        rig.fault(fault.clone());
        let out = rig.status(&[TRIO]);
        rig.clear_faults();
        assert_eq!(out.status, exit, "{fault}: {out}");
        let after = std::fs::read_to_string(rig.env.path().join(TRIO_LOCK)).unwrap();
        assert_eq!(before, after, "{fault}: the job stays in doubt, untouched");
    }
    // Retried (502, a lost connection): the job is found among the runs.
    for fault in [
        json!({"route": "runs.list", "status": 502, "times": 1}),
        json!({"route": "runs.list", "drop": true, "times": 1}),
    ] {
        rig.fault(fault);
    }
    let out = rig.status(&[TRIO]);
    rig.clear_faults();
    assert_eq!(out.status, 0, "{out}");
    rig.check_settled_truthfully(TRIO_LOCK);
    assert_eq!(rig.jobs(TRIO_LOCK)[0]["status"], "submitted");
}

#[test]
fn a_lost_response_is_settled_with_its_own_runs_not_another_plans() {
    use crate::reliability_rig::GOLD;
    let rig = Rig::new();
    // Another plan activated gold to the same dataflow a moment earlier (its runs finished).
    rig.env
        .write("plans/gold.yaml", crate::common::plan("gold", &[GOLD]));
    assert_eq!(
        rig.run(&["apply", "--auto-approve", "plans/gold.yaml"])
            .status,
        0
    );
    let other = rig.lockfile("plans/gold.lock.json").unwrap();
    let other_run = other["runs"][0]["jobs"][0]["orders"][0]["runId"].clone();

    // Then trio's response is lost; status must find trio's runs, not gold's. (Trio is sent
    // past gold's recent run, which trio's lockfile does not record, on purpose.)
    rig.fault(json!({"route": "adhocrun", "drop": true, "times": 1}));
    let out = rig.run_with(
        &[TIMEOUT],
        &["apply", "--auto-approve", "--allow-unrecorded-runs", TRIO],
    );
    assert_eq!(out.status, 1, "{out}");
    rig.settle_emulator();
    assert_eq!(rig.status(&[TRIO]).status, 0);
    let job = &rig.jobs(TRIO_LOCK)[0];
    assert_eq!(job["status"], "submitted");
    let orders = job["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 3, "{job:#}");
    let gold = orders.iter().find(|o| o["segment"] == GOLD).unwrap();
    assert_ne!(
        gold["runId"], other_run,
        "trio's gold order is the other plan's run"
    );
    // In request order, like the platform's answer.
    let segments: Vec<&str> = orders
        .iter()
        .map(|o| o["segment"].as_str().unwrap())
        .collect();
    let requested: Vec<&str> = job["request"]["activationInfo"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(segments, requested);
}
