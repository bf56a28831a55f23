//! Exactly once, whatever happens to the lockfile (issue 9): records bound to their target, the
//! platform's runs as the second witness, one identity per plan, digests recomputed, one
//! decision shown by `plan` and carried out by `apply`, lost runs, saved plans with the
//! emulator, and a closed stdout. Each test drives the binary against the emulator on
//! 127.0.0.1; time moves only through the emulator's clock.

use std::process::Stdio;
use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::apply::{LOCK, Online, PLAN};
use crate::common::Output;
use crate::emulator::{DIRECT_MAIL, EMAIL, GOLD, SILVER};

const HOUR_MS: u64 = 3_600_000;

/// Runs `aepact` with its stdout a pipe whose reading end is already closed (`aepact … | true`
/// once `true` has exited): every write to stdout fails with a broken pipe.
fn run_into_closed_pipe(o: &Online, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = o
        .env
        .command(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    Output {
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

fn codes(json: &Value, plan: usize) -> Vec<String> {
    json["plans"][plan]["verdict"]["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Case 1: `apply --emulator` (the quick start's habit) keeps its record under `.aepact/`, never
/// in the committed lockfile, so the real platform still gets the activation.
#[test]
fn an_emulator_rehearsal_never_makes_the_real_activation_look_done() {
    let o = Online::new();
    let rehearsal = o.run(&["apply", "--emulator", "--auto-approve", PLAN]);
    assert_eq!(rehearsal.status, 0, "{rehearsal}");
    assert!(
        rehearsal
            .stdout
            .contains("recorded in `.aepact/lockfiles/plans/flash-sale.lock.json`"),
        "{rehearsal}"
    );
    assert!(!o.env.path().join(LOCK).exists(), "no committed lockfile");
    let emulated: Value = serde_json::from_str(
        &std::fs::read_to_string(
            o.env
                .path()
                .join(".aepact/lockfiles/plans/flash-sale.lock.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(emulated["runs"][0]["endpoint"], "emulator");

    // The real platform (here: the test's own emulator, reached through AEP_PLATFORM_URL).
    let plan = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 2, "something to apply: {plan}");
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 1, "the real activation was sent");
    // And `--emulator` still finds its own record.
    let again = o.run(&["apply", "--emulator", "--auto-approve", PLAN]);
    assert!(again.stdout.contains("already applied"), "{again}");
}

/// Case 1, older lockfiles: runs an emulator recorded in the committed lockfile (before
/// lockfile version 2) are refused, never taken for the real activation.
#[test]
fn a_lockfile_recorded_against_another_endpoint_or_org_is_refused() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let text = std::fs::read_to_string(o.env.path().join(LOCK)).unwrap();
    let endpoint = o.lockfile()["runs"][0]["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(
        o.env.path().join(LOCK),
        text.replace(&endpoint, "http://127.0.0.1:1"),
    )
    .unwrap();
    let plan = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 1, "{plan}");
    assert!(
        plan.stderr.contains("aepact::lockfile::other_endpoint"),
        "{plan}"
    );
    assert!(plan.stderr.contains("http://127.0.0.1:1`"), "{plan}");
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 1, "{apply}");
    assert_eq!(o.posts(), 1, "nothing sent over another target's record");

    let org = o.lockfile()["runs"][0]["org"].as_str().unwrap().to_owned();
    std::fs::write(
        o.env.path().join(LOCK),
        text.replace(&org, "FFFFFFFFFFFFFFFFFFFFFFFF@AdobeOrg"),
    )
    .unwrap();
    for args in [
        vec!["plan", PLAN],
        vec!["apply", "--auto-approve", PLAN],
        vec!["status", PLAN],
    ] {
        let out = o.run(&args);
        assert_eq!(out.status, 1, "{args:?}: {out}");
        assert!(
            out.stderr.contains("aepact::lockfile::other_org"),
            "{args:?}: {out}"
        );
    }
    assert_eq!(o.posts(), 1);
}

/// Case 2: a saved plan whose lockfile update was lost is not sent twice: the platform shows
/// runs of its pairs created after the plan was made.
#[test]
fn a_saved_plan_is_not_sent_again_when_its_lockfile_is_lost() {
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "p.json", PLAN]).status, 0);
    assert_eq!(o.run(&["apply", "--auto-approve", "p.json"]).status, 0);
    std::fs::remove_file(o.env.path().join(LOCK)).unwrap();
    let again = o.run(&["apply", "--auto-approve", "p.json"]);
    assert_eq!(again.status, 1, "{again}");
    assert!(again.stdout.contains("after this plan was made"), "{again}");
    assert!(again.stdout.contains("aepact plan --out FILE"), "{again}");
    assert_eq!(o.posts(), 1, "sent once");
}

/// Case 3: a lost lockfile does not mean a second activation: the platform's recent runs of
/// the plan's pairs, recorded nowhere, refuse it; the override sends anyway and is recorded;
/// once the guard window has passed, the plan may be sent again.
#[test]
fn a_lost_lockfile_is_caught_by_the_platforms_runs() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    std::fs::remove_file(o.env.path().join(LOCK)).unwrap();

    let plan = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 1, "{plan}");
    assert!(
        plan.stdout.contains("not recorded in the lockfile"),
        "{plan}"
    );
    assert!(plan.stdout.contains("--allow-unrecorded-runs"), "{plan}");
    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    assert_eq!(codes(&json, 0), ["unrecorded_run"]);
    assert_eq!(json["plans"][0]["deliveries"][0]["recorded"], false);
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 1, "{apply}");
    assert_eq!(o.posts(), 1, "refused before any POST");

    // The override sends, and the lockfile says which runs it sent past.
    let forced = o.run(&["apply", "--auto-approve", "--allow-unrecorded-runs", PLAN]);
    assert_eq!(forced.status, 0, "{forced}");
    assert_eq!(o.posts(), 2);
    let run = &o.lockfile()["runs"][0];
    assert_eq!(run["override"]["flag"], "--allow-unrecorded-runs");
    assert_eq!(
        run["override"]["runs"].as_array().unwrap().len(),
        3,
        "{run}"
    );

    // Another lost lockfile, an hour and more later by the platform's clock: nothing recent is
    // unrecorded any more, and the plan is to apply again.
    std::fs::remove_file(o.env.path().join(LOCK)).unwrap();
    o.api.advance(HOUR_MS + 60_000);
    let later = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(later.status, 2, "{later}");
    assert!(
        later.stdout.contains("not recorded in the lockfile"),
        "{later}"
    );
}

/// Old scheduled runs (last night's) do not block a first activation; a guard window that
/// reaches them does, and `--guard-window 0` turns the check off.
#[test]
fn old_scheduled_runs_do_not_block_a_first_activation() {
    let o = Online::new();
    o.api.admin(
        "POST",
        "runs",
        Some(
            json!({"flowId": EMAIL, "segments": [GOLD, SILVER], "ago": "10h", "kind": "scheduled"}),
        ),
    );
    o.api.admin(
        "POST",
        "runs",
        Some(json!({"flowId": DIRECT_MAIL, "segments": [GOLD], "ago": "9h"})),
    );
    let plan = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 2, "{plan}");
    assert!(
        plan.stdout.contains("not recorded in the lockfile"),
        "{plan}"
    );

    o.edit_plan("run: 1", "run: 1\nguardWindow: 12h");
    let guarded = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(guarded.status, 1, "{guarded}");
    assert!(guarded.stdout.contains("guard window (12h)"), "{guarded}");
    let off = o.run(&["plan", "--detailed-exitcode", "--guard-window", "0", PLAN]);
    assert_eq!(off.status, 2, "{off}");
    let flag = o.run(&["apply", "--auto-approve", "--guard-window", "1h", PLAN]);
    assert_eq!(flag.status, 0, "the flag overrides the plan: {flag}");
    assert_eq!(o.posts(), 1);
}

/// An "Export file now" click in the UI a few minutes ago is an activation no lockfile records.
#[test]
fn a_recent_export_file_now_refuses_the_plan() {
    let o = Online::new();
    o.api.admin(
        "POST",
        "runs",
        Some(json!({"flowId": EMAIL, "segments": [SILVER], "ago": "5m", "kind": "exportNow", "durationMs": 0})),
    );
    let out = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout
            .contains(&format!("segment `{SILVER}` to `{EMAIL}` by run")),
        "{out}"
    );
    assert!(out.stdout.contains("5 minutes ago"), "{out}");
    assert_eq!(o.posts(), 0);
}

/// Case 4: a symbolic link to a plan is the plan: one lockfile, beside the file linked to.
#[cfg(unix)]
#[test]
fn a_plan_named_through_a_symlink_is_the_same_plan() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    std::os::unix::fs::symlink("flash-sale.yaml", o.env.path().join("plans/link.yaml")).unwrap();
    let out = o.run(&["apply", "--auto-approve", "plans/link.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("already applied"), "{out}");
    assert!(!o.env.path().join("plans/link.lock.json").exists());
    assert_eq!(o.posts(), 1);
    // Named relatively and absolutely in one invocation: one plan.
    let absolute = o.env.path().join(PLAN);
    let both = o.run(&["plan", PLAN, absolute.to_str().unwrap()]);
    assert_eq!(both.status, 0, "{both}");
    assert_eq!(
        both.stdout
            .matches("plan `black-friday-flash-sale`")
            .count(),
        1,
        "{both}"
    );
}

/// Case 5: an edited `intentDigest` is refused by `plan` and `apply` (never a reason to send
/// again), and `lock verify` reports it, with the digest the run records.
#[test]
fn an_edited_intent_digest_is_refused_and_reported() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let digest = o.lockfile()["runs"][0]["intentDigest"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = format!("sha256:{}", "0".repeat(64));
    let text = std::fs::read_to_string(o.env.path().join(LOCK)).unwrap();
    std::fs::write(o.env.path().join(LOCK), text.replace(&digest, &forged)).unwrap();
    for args in [vec!["plan", PLAN], vec!["apply", "--auto-approve", PLAN]] {
        let out = o.run(&args);
        assert_eq!(out.status, 1, "{args:?}: {out}");
        assert!(
            out.stderr.contains("aepact::lockfile::digest_mismatch"),
            "{args:?}: {out}"
        );
        assert!(
            out.stderr.contains(&digest),
            "names the right digest: {out}"
        );
    }
    assert_eq!(o.posts(), 1);
    let verify = o.run(&["lock", "verify", PLAN]);
    assert_eq!(verify.status, 1, "{verify}");
    assert!(
        verify
            .stdout
            .contains("plans/flash-sale.lock.json: /runs/0/intentDigest:"),
        "{verify}"
    );
    let json = o.run(&["lock", "verify", "--format", "json", PLAN]).json();
    assert_eq!(
        json["lockfiles"][0]["problems"][0]["kind"], "digest_mismatch",
        "{json:#}"
    );
}

/// Case 6: what `plan` shows is what `apply` does: a plan sharing a segment with an earlier one
/// is refused in the plan (human, JSON, markdown, github), and the saved plan applies the same.
#[test]
fn plan_shows_every_refusal_apply_makes() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    o.env
        .write("plans/gold.yaml", crate::common::plan("gold", &[GOLD]));
    let plans = [PLAN, "plans/gold.yaml"];
    let human = o.run(&[&["plan", "--detailed-exitcode"][..], &plans].concat());
    assert_eq!(human.status, 75, "{human}");
    assert!(
        human
            .stdout
            .contains("shares segment `db8961e9-d52f-45bc-b3fb-76d0382a6851` with plan `black-friday-flash-sale`"),
        "{human}"
    );
    assert!(
        human
            .stdout
            .contains("Plan: 1 to apply, 0 already applied, 1 refused."),
        "{human}"
    );
    let json = o
        .run(&[&["plan", "--format", "json"][..], &plans].concat())
        .json();
    assert_eq!(
        json["plans"].as_array().unwrap().len(),
        2,
        "refused plans are listed"
    );
    assert_eq!(json["plans"][0]["verdict"]["action"], "apply");
    assert_eq!(json["plans"][1]["verdict"]["action"], "refused");
    assert_eq!(codes(&json, 1), ["shared_segment"]);
    assert_eq!(json["plans"][1]["verdict"]["reasons"][0]["temporary"], true);
    let markdown = o.run(&[&["plan", "--format", "markdown"][..], &plans].concat());
    assert!(
        markdown.stdout.contains(
            "| `gold` | prod | **Email vendor (SFTP)**<br><sub>`0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f`</sub> | **Loyalty gold** | `11044` (latest), finished 25 hours ago | none | **refused** (try again later): `shared_segment` |"
        ),
        "{markdown}"
    );
    let github = o.run(&[&["plan", "--format", "github"][..], &plans].concat());
    // On the line of the shared segment (issue 14, point 10).
    let text = std::fs::read_to_string(o.env.path().join("plans/gold.yaml")).unwrap();
    let line = 1 + text.lines().position(|l| l.contains(GOLD)).unwrap();
    assert!(
        github.stdout.contains(&format!(
            "::warning file=plans/gold.yaml,line={line},title=aepact plan refused::"
        )),
        "{github}"
    );

    assert_eq!(
        o.run(&[&["plan", "--out", "p.json"][..], &plans].concat())
            .status,
        75
    );
    let apply = o.run(&["apply", "--auto-approve", "p.json"]);
    assert_eq!(apply.status, 75, "{apply}");
    assert!(
        apply.stdout.contains("applied `black-friday-flash-sale`"),
        "{apply}"
    );
    assert_eq!(o.posts(), 1, "the first plan only");
    assert!(!o.env.path().join("plans/gold.lock.json").exists());
}

/// Case 7: a recorded run the platform does not know (404) is reported at the default
/// verbosity, recorded as `lost`, exits 1, and `status --wait` does not wait for it.
#[test]
fn a_run_the_platform_does_not_know_is_lost_not_in_flight() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    // The platform forgets every run (its world rebuilt).
    o.api.admin("POST", "reset", None);
    let status = o.run(&["status", PLAN]);
    assert_eq!(status.status, 1, "{status}");
    assert!(status.stdout.contains("lost: segment"), "{status}");
    assert!(status.stdout.contains("3 lost"), "{status}");
    assert!(
        status
            .stdout
            .contains("3 of 3 orders lost (the platform does not know their runs)"),
        "{status}"
    );
    let orders = o.lockfile()["runs"][0]["jobs"][0]["orders"].clone();
    assert!(
        orders
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "lost"),
        "{orders:#}"
    );
    let wait = o.run(&["status", "--wait", "--timeout", "30s", PLAN]);
    assert_eq!(wait.status, 1, "stops waiting, not 75: {wait}");
    assert!(o.run(&["lock", "verify", PLAN]).status == 0);
}

/// Case 8: a plan saved with `--emulator` applies with `--emulator`: it names the emulator as
/// its target, not the port it happened to listen on.
#[test]
fn a_saved_plan_works_with_the_emulator() {
    let o = Online::new();
    let plan = o.run(&["plan", "--emulator", "--out", "p.json", PLAN]);
    assert_eq!(plan.status, 0, "{plan}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(o.env.path().join("p.json")).unwrap())
            .unwrap();
    assert_eq!(saved["endpoint"], "emulator");
    let apply = o.run(&["apply", "--emulator", "--auto-approve", "p.json"]);
    assert_eq!(apply.status, 0, "{apply}");
    assert!(
        apply.stdout.contains("applied `black-friday-flash-sale`"),
        "{apply}"
    );
    // The real platform was never involved, and the saved plan is not for it.
    assert_eq!(o.posts(), 0);
    let real = o.run(&["apply", "--auto-approve", "p.json"]);
    assert_eq!(real.status, 1, "{real}");
    assert!(real.stdout.contains("it was made for `emulator`"), "{real}");
}

/// Case 9: a closed stdout never changes the exit status, and `apply` still sends and records.
#[test]
fn a_closed_stdout_never_changes_the_verdict() {
    let o = Online::new();
    o.env.write(
        "bad/broken.yaml",
        "apiVersion: aepact/v1\nname: Not A Slug\n",
    );
    let validate = run_into_closed_pipe(&o, &["validate", "bad"]);
    assert_eq!(validate.status, 1, "{validate}");
    let plan = run_into_closed_pipe(&o, &["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 2, "{plan}");
    let apply = run_into_closed_pipe(&o, &["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 1, "sent");
    assert_eq!(o.lockfile()["runs"][0]["jobs"][0]["status"], "submitted");
    let text = std::fs::read_to_string(o.env.path().join(LOCK)).unwrap();
    std::fs::write(
        o.env.path().join(LOCK),
        text.replacen("\"index\": 0", "\"index\": 5", 1),
    )
    .unwrap();
    let verify = run_into_closed_pipe(&o, &["lock", "verify", PLAN]);
    assert_eq!(verify.status, 1, "{verify}");
}

/// `guardWindow` is checked offline: units from the largest to the smallest, at most a week.
#[test]
fn a_guard_window_is_checked_offline() {
    let env = crate::common::TestEnv::new();
    for (window, ok) in [
        ("90m", true),
        ("1h30m", true),
        ("0", true),
        ("30m1h", false),
        ("2w", false),
        ("200h", false),
    ] {
        env.write(
            "p.yaml",
            format!(
                "{}guardWindow: {window}\n",
                crate::common::plan("p", &[GOLD])
            ),
        );
        let out = env.run(["validate", "p.yaml"]);
        assert_eq!(out.status, if ok { 0 } else { 1 }, "{window}: {out}");
        if !ok {
            assert!(out.stdout.contains("guardWindow"), "{window}: {out}");
        }
    }
}
