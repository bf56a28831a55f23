//! Concurrency: many `aepact apply` processes on one plan send it once; plans of one invocation
//! that share a segment are never in flight together, so the platform never answers "Run
//! already going on".

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::plan;
use crate::reliability_rig::{GOLD, LAPSED, Rig, SILVER, TRIO, TRIO_LOCK};

#[test]
fn eight_applies_started_together_post_exactly_once() {
    let rig = Rig::new();
    // Hold the POST so the processes overlap while one of them sends.
    rig.fault(json!({"route": "adhocrun", "latencyMs": 300}));
    let children: Vec<_> = (0..8)
        .map(|_| {
            rig.command(&[], &["apply", "--auto-approve", TRIO])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let applied = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("applied `trio` (run 1)"))
        .count();
    assert_eq!(
        applied, 1,
        "one process applies, the others find it applied"
    );
    assert_eq!(rig.posts().len(), 1, "exactly one ad-hoc POST");
    let lock = rig.lockfile(TRIO_LOCK).unwrap();
    assert_eq!(lock["runs"].as_array().unwrap().len(), 1);
    assert_eq!(lock["runs"][0]["jobs"][0]["status"], "submitted");
}

const A: &str = "plans/a.yaml";
const B: &str = "plans/b.yaml";
const C: &str = "plans/c.yaml";

fn no_409(posts: &[Value]) {
    for post in posts {
        assert_ne!(post["status"], 409, "the platform refused a job: {post}");
    }
}

#[test]
fn plans_sharing_a_segment_are_never_in_flight_together() {
    // Runs take an hour of the emulator's clock: a's runs are still going when b would be sent.
    let rig = Rig::with(Duration::from_secs(3600));
    rig.env.write(A, plan("a", &[GOLD, SILVER]));
    rig.env.write(B, plan("b", &[GOLD]));
    rig.env.write(C, plan("c", &[LAPSED]));

    // b shares gold with a: refused up front with 75; a and c (no shared segment) are sent.
    let out = rig.run(&["apply", "--auto-approve", A, B, C]);
    assert_eq!(out.status, 75, "{out}");
    assert!(
        out.stdout
            .contains("shares segment `db8961e9-d52f-45bc-b3fb-76d0382a6851` with plan `a`"),
        "{out}"
    );
    assert!(
        out.stdout.contains("apply the plans one after the other"),
        "{out}"
    );
    assert_eq!(rig.posts().len(), 2, "a and c, not b");
    assert!(
        rig.lockfile("plans/b.lock.json").is_none(),
        "b was not sent"
    );
    no_409(&rig.posts());

    // Again, while a's runs are going: a and c are applied, b is refused (a's lockfile knows
    // its runs are in flight), nothing is sent.
    let out = rig.run(&["apply", "--auto-approve", A, B, C]);
    assert_eq!(out.status, 75, "{out}");
    assert!(out.stdout.contains("still in flight"), "{out}");
    assert_eq!(rig.posts().len(), 2);
    // Once a's runs have finished, b goes through, and no other 409 was ever received.
    rig.advance_clock(3_600_000 + 1_000);
    let out = rig.run(&["apply", "--auto-approve", A, B, C]);
    assert_eq!(out.status, 0, "{out}");
    let posts = rig.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[2]["status"], 200);
    no_409(&posts);
}

#[test]
fn plan_order_decides_which_plan_goes_first() {
    let rig = Rig::with(Duration::from_secs(3600));
    rig.env.write(A, plan("a", &[GOLD, SILVER]));
    rig.env.write(B, plan("b", &[GOLD]));
    let out = rig.run(&["apply", "--auto-approve", B, A]);
    assert_eq!(out.status, 75, "{out}");
    assert!(
        out.stdout
            .contains("shares segment `db8961e9-d52f-45bc-b3fb-76d0382a6851` with plan `b`"),
        "{out}"
    );
    assert_eq!(rig.posts().len(), 1);
    no_409(&rig.posts());
    assert!(rig.lockfile("plans/a.lock.json").is_none());
}

#[test]
fn the_same_plan_twice_in_one_invocation_is_sent_once() {
    let rig = Rig::new();
    let out = rig.run(&["apply", "--auto-approve", TRIO, TRIO]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(rig.posts().len(), 1);
}
