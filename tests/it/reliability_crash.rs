//! Crash consistency: `aepact apply` of a three-job plan is killed with SIGKILL at each point of
//! its work, and then the lockfile must still parse, hold every job the emulator accepted as
//! (maybe) submitted, never let `apply` send an accepted job again, and `status` must turn
//! every `pending`/`unknown` job into its true outcome.
//!
//! Points inside the apply are reached with the test-only hook `AEPACT_TEST_PAUSE_AFTER`
//! (`src/commands/apply.rs`: the process says where it is on stderr and sleeps); "sent, no
//! response yet" is reached with the emulator's latency fault and its request log.

use serde_json::json;

use crate::reliability_rig::{Rig, SPLIT, TRIO, TRIO_LOCK, kill, spawn_until, wait_for};

/// Where the apply is killed.
enum Point {
    /// At a hook of `AEPACT_TEST_PAUSE_AFTER`, e.g. `response:1`.
    Hook(&'static str),
    /// While the emulator holds POST number `n` (from 0): sent, no response yet.
    InFlight(usize),
}

fn apply_args() -> Vec<&'static str> {
    let mut args = vec!["apply"];
    args.extend(SPLIT);
    args.push(TRIO);
    args
}

/// Kills an apply at `point`, checks that the emulator had then accepted `accepted_when_killed`
/// jobs, and checks the recovery.
fn crash_at(point: Point, accepted_when_killed: usize) {
    let rig = Rig::new();
    let args = apply_args();
    match point {
        Point::Hook(hook) => {
            let child = spawn_until(
                rig.command(&[("AEPACT_TEST_PAUSE_AFTER", hook)], &args),
                &format!("aepact-test-pause: {hook}"),
            );
            kill(child);
        }
        Point::InFlight(n) => {
            // Every POST is held; the (n+1)-th to arrive is the one the apply dies waiting on.
            rig.fault(json!({"route": "adhocrun", "latencyMs": 1500}));
            let child = rig
                .command(&[], &args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            wait_for("the POST to arrive", || rig.posts().len() > n);
            kill(child);
            rig.clear_faults();
        }
    }
    // The emulator finishes what it received (as the platform would) before we judge.
    rig.settle_emulator();
    assert_eq!(accepted_at_crash(&rig), accepted_when_killed);

    // 1. The lockfile parses, and holds every accepted job as (maybe) submitted.
    assert!(
        rig.lockfile(TRIO_LOCK).is_some(),
        "no lockfile after the crash"
    );
    rig.check_nothing_lost_or_doubled(TRIO_LOCK);

    // 2. Applying again before `status` never sends an accepted job again.
    let again = rig.run(&args);
    rig.settle_emulator();
    rig.check_nothing_lost_or_doubled(TRIO_LOCK);
    let doubt = rig
        .jobs(TRIO_LOCK)
        .iter()
        .any(|j| j["status"] == "unknown" || (j["status"] == "pending" && !j["sentAt"].is_null()));
    if doubt {
        assert_eq!(again.status, 1, "a job in doubt refuses the apply: {again}");
        assert!(again.stdout.contains("aepact status"), "{again}");
    }

    // 3. `status` settles every job left pending or unknown, truthfully.
    let status = rig.status(&[TRIO]);
    assert_eq!(status.status, 0, "{status}");
    rig.check_settled_truthfully(TRIO_LOCK);

    // 4. Applying after that resumes the plan: every segment ends up activated exactly once,
    //    none forgotten, none doubled.
    let resumed = rig
        .jobs(TRIO_LOCK)
        .iter()
        .any(|j| j["status"] == "submitted");
    let after = rig.run(&args);
    assert_eq!(after.status, 0, "{after}");
    if resumed && rig.accepted().len() < 3 {
        assert!(after.stdout.contains("resuming run 1"), "{after}");
    }
    rig.settle_emulator();
    rig.check_nothing_lost_or_doubled(TRIO_LOCK);
    assert_eq!(
        rig.accepted().len(),
        3,
        "each of the three jobs accepted once"
    );
    let again = rig.run(&args);
    assert!(again.stdout.contains("already applied"), "{again}");

    // 5. `lock verify` accepts the history aepact wrote, resumed runs included (issue 14, 2).
    let status = rig.status(&[TRIO]);
    assert_eq!(status.status, 0, "{status}");
    let verify = rig.run(&["lock", "verify", TRIO]);
    assert_eq!(verify.status, 0, "{verify}");
}

/// The number of jobs the emulator had accepted when the apply died (read before recovery).
fn accepted_at_crash(rig: &Rig) -> usize {
    rig.posts()
        .iter()
        .filter(|p| crate::reliability_rig::accepted(p))
        .count()
}

#[test]
fn killed_after_the_pending_run_is_written() {
    crash_at(Point::Hook("pending:0"), 0);
}

#[test]
fn killed_after_sent_at_is_written_before_the_post() {
    crash_at(Point::Hook("sending:1"), 1);
}

#[test]
fn killed_while_the_first_post_waits_for_its_response() {
    // The platform finishes the request its client gave up on: job 0 runs, once.
    crash_at(Point::InFlight(0), 1);
}

#[test]
fn killed_while_the_second_post_waits_for_its_response() {
    crash_at(Point::InFlight(1), 2);
}

#[test]
fn killed_after_the_response_before_it_is_recorded() {
    crash_at(Point::Hook("response:1"), 2);
}

#[test]
fn killed_between_jobs() {
    crash_at(Point::Hook("job:0"), 1);
}

#[test]
fn killed_after_the_last_job_is_recorded() {
    crash_at(Point::Hook("job:2"), 3);
}
