//! `plan`, `apply` and `status` against the emulator on 127.0.0.1: the whole loop, exactly-once
//! behaviour, stale saved plans, refusals, faults, and secrets kept out of every output.

use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::common::{Output, TestEnv, repo_root};
use crate::emulator::{Api, SECRET};

pub(crate) const PLAN: &str = "plans/flash-sale.yaml";
pub(crate) const LOCK: &str = "plans/flash-sale.lock.json";

/// A scratch directory with the flash-sale example, pointed at a fresh emulator.
pub(crate) struct Online {
    pub(crate) api: Api,
    pub(crate) env: TestEnv,
}

impl Online {
    pub(crate) fn new() -> Self {
        Self::with(EmulatorBuilder::new().run_duration(Duration::ZERO))
    }

    pub(crate) fn with(builder: EmulatorBuilder) -> Self {
        let api = Api::with(builder);
        let example =
            std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap();
        let env = TestEnv::new()
            .with_file(PLAN, example)
            .with_emulator(&api.emulator);
        Self { api, env }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.env.run(args)
    }

    /// The requests the emulator received on one route.
    pub(crate) fn requests(&self, route: &str) -> Vec<Value> {
        let log = self
            .api
            .admin("GET", &format!("requests?route={route}"), None);
        log.as_array()
            .or_else(|| log["requests"].as_array())
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn posts(&self) -> usize {
        self.requests("adhocrun").len()
    }

    pub(crate) fn lockfile(&self) -> Value {
        let text = std::fs::read_to_string(self.env.path().join(LOCK)).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    pub(crate) fn edit_plan(&self, from: &str, to: &str) {
        let path = self.env.path().join(PLAN);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from} not in the plan");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

#[test]
fn full_loop_plan_apply_status() {
    let o = Online::new();
    let plan = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(plan.status, 2, "{plan}");
    assert!(plan.stdout.contains("\"activationInfo\""), "{plan}");
    assert!(plan.stdout.contains("Email vendor (SFTP)"), "{plan}");
    assert_eq!(o.posts(), 0, "plan sends nothing");

    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 1);
    let lock = o.lockfile();
    assert_eq!(lock["runs"].as_array().unwrap().len(), 1);
    let job = &lock["runs"][0]["jobs"][0];
    assert_eq!(job["status"], "submitted");
    assert_eq!(job["orders"].as_array().unwrap().len(), 3, "{job}");
    // The body sent is the body recorded.
    let sent = &o.requests("adhocrun")[0]["body"];
    assert_eq!(sent, &job["request"]);

    let status = o.run(&["status", PLAN]);
    assert_eq!(status.status, 0, "{status}");
    assert!(
        status.stdout.contains("3 succeeded, 0 failed, 0 in flight"),
        "{status}"
    );
    let lock = o.lockfile();
    assert_eq!(lock["runs"][0]["jobs"][0]["orders"][0]["status"], "success");

    let again = o.run(&["plan", "--detailed-exitcode", PLAN]);
    assert_eq!(again.status, 0, "nothing left to apply: {again}");
}

#[test]
fn reapply_is_a_no_op_and_bumping_run_applies_again() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let again = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(again.status, 0, "{again}");
    assert!(again.stdout.contains("already applied (run 1"), "{again}");
    assert!(again.stdout.contains("Nothing to apply."), "{again}");
    assert_eq!(o.posts(), 1, "a re-apply sends nothing");

    o.edit_plan("run: 1", "run: 2");
    let bumped = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(bumped.status, 0, "{bumped}");
    assert_eq!(o.posts(), 2);
    assert_eq!(o.lockfile()["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn apply_without_a_terminal_or_approval_refuses() {
    let o = Online::new();
    let out = o.run(&["apply", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("--auto-approve"), "{out}");
    assert_eq!(o.posts(), 0);
}

/// A saved plan that cannot be written is named as one, not as a lockfile (issue 10).
#[test]
fn a_saved_plan_that_cannot_be_written_says_so() {
    let o = Online::new();
    let out = o.run(&["plan", "--out", "missing/plan.json", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stderr
            .contains("cannot write the saved plan `missing/plan.json`"),
        "{out}"
    );
    assert!(!out.stderr.contains("lockfile"), "{out}");
    assert!(!o.env.path().join("missing").exists());
}

#[test]
fn saved_plan_applies_as_saved_or_is_refused_as_stale() {
    // Applied as saved.
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "plan.json", PLAN]).status, 0);
    let saved = std::fs::read_to_string(o.env.path().join("plan.json")).unwrap();
    assert!(!saved.contains(SECRET));
    let out = o.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(o.posts(), 1);

    // Stale: the plan file changed.
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "plan.json", PLAN]).status, 0);
    o.edit_plan("Email loyalty members", "Email our loyalty members");
    let out = o.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout
            .contains("the plan file `plans/flash-sale.yaml` changed"),
        "{out}"
    );
    assert_eq!(o.posts(), 0);

    // Stale: the lockfile changed (someone applied meanwhile).
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "plan.json", PLAN]).status, 0);
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let out = o.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("the lockfile"), "{out}");
    assert_eq!(o.posts(), 1);

    // Stale: `latest` now resolves to a newer export job.
    let o = Online::new();
    assert_eq!(o.run(&["plan", "--out", "plan.json", PLAN]).status, 0);
    let job = o
        .api
        .admin("POST", "export-jobs", Some(json!({"sandbox": "prod"})));
    let id = job["id"].as_u64().unwrap();
    o.api.admin(
        "POST",
        &format!("export-jobs/{id}/finish"),
        Some(json!({"status": "SUCCEEDED"})),
    );
    let out = o.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("now resolves to"), "{out}");
    assert_eq!(o.posts(), 0);
}

#[test]
fn refuses_with_75_while_an_export_job_is_processing() {
    let o = Online::new();
    o.api
        .admin("POST", "export-jobs", Some(json!({"sandbox": "prod"})));
    let out = o.run(&["plan", PLAN]);
    assert_eq!(out.status, 75, "{out}");
    assert!(
        out.stdout.contains("ad-hoc jobs cannot run beside it"),
        "{out}"
    );
    let out = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(out.status, 75, "{out}");
    assert_eq!(o.posts(), 0);
}

#[test]
fn refuses_with_75_while_a_segment_run_is_in_flight() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    o.edit_plan("run: 1", "run: 2");
    let out = o.run(&["plan", PLAN]);
    assert_eq!(out.status, 75, "{out}");
    assert!(out.stdout.contains("still in flight"), "{out}");
    let status = o.run(&["status", PLAN]);
    assert!(status.stdout.contains("in flight"), "{status}");
    let timeout = o.run(&["status", "--wait", "--timeout", "1s", PLAN]);
    assert_eq!(timeout.status, 75, "{timeout}");
}

#[test]
fn split_sends_several_jobs_of_whole_segments() {
    let o = Online::new();
    let refused = o.run(&["plan", "--max-segments-per-job", "1", PLAN]);
    assert_eq!(refused.status, 1, "{refused}");
    assert!(
        refused.stdout.contains("aepact::too_many_segments"),
        "{refused}"
    );
    let out = o.run(&[
        "apply",
        "--auto-approve",
        "--max-segments-per-job",
        "1",
        "--split",
        PLAN,
    ]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(o.posts(), 2);
    let jobs = o.lockfile()["runs"][0]["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2);
    // Loyalty gold goes to both destinations in job 1; silver alone in job 2.
    assert_eq!(
        jobs[0]["request"]["activationInfo"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        jobs[1]["request"]["activationInfo"]
            .as_object()
            .unwrap()
            .len(),
        1
    );

    // A saved split plan is applied with the options it was made with.
    let o = Online::new();
    let args = [
        "plan",
        "--max-segments-per-job",
        "1",
        "--split",
        "--out",
        "plan.json",
        PLAN,
    ];
    assert_eq!(o.run(&args).status, 0);
    let out = o.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(o.posts(), 2);
}

#[test]
fn api_version_2_sends_the_accept_header() {
    let o = Online::new();
    let out = o.run(&["apply", "--auto-approve", "--api-version", "2", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    let post = &o.requests("adhocrun")[0];
    assert_eq!(
        post["headers"]["accept"],
        "application/vnd.adobe.adhoc.activation+json; version=2"
    );
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    let post = &o.requests("adhocrun")[0];
    assert_ne!(
        post["headers"]["accept"],
        "application/vnd.adobe.adhoc.activation+json; version=2"
    );
}

#[test]
fn lost_response_is_recorded_unknown_sent_once_and_settled_by_status() {
    let o = Online::new();
    o.api.admin(
        "POST",
        "faults",
        Some(json!({"route": "adhocrun", "drop": true, "times": 1})),
    );
    let out = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("aepact status"), "{out}");
    assert_eq!(o.posts(), 1, "a lost response is never retried");
    assert_eq!(o.lockfile()["runs"][0]["jobs"][0]["status"], "unknown");

    // Neither plan nor apply sends it again before status settles it.
    let again = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(again.status, 1, "{again}");
    assert_eq!(o.posts(), 1);

    let status = o.run(&["status", PLAN]);
    assert_eq!(status.status, 0, "{status}");
    let job = &o.lockfile()["runs"][0]["jobs"][0];
    assert_eq!(job["status"], "submitted", "{job}");
    assert_eq!(job["orders"].as_array().unwrap().len(), 3, "{job}");
    let after = o.run(&["apply", "--auto-approve", PLAN]);
    assert!(after.stdout.contains("already applied"), "{after}");
    assert_eq!(o.posts(), 1);
}

#[test]
fn retries_429_then_succeeds() {
    let o = Online::new();
    o.api.admin(
        "POST",
        "faults",
        Some(json!({"route": "adhocrun", "status": 429, "retryAfter": 0, "times": 1})),
    );
    let out = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(o.posts(), 2, "one 429, then the accepted retry");
    assert_eq!(o.lockfile()["runs"][0]["jobs"][0]["status"], "submitted");
}

#[test]
fn two_concurrent_applies_post_exactly_once() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::ZERO));
    // Slow the POST so both processes overlap.
    o.api.admin(
        "POST",
        "faults",
        Some(json!({"route": "adhocrun", "latencyMs": 500})),
    );
    let spawn = || {
        o.env
            .command(["apply", "--auto-approve", PLAN])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?}\n{b:?}");
    assert_eq!(o.posts(), 1, "exactly one POST across both applies");
    assert_eq!(o.lockfile()["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn a_canary_secret_never_appears_anywhere() {
    let canary = "canary-3f1e-never-print-me";
    let o = Online::new();
    let env = TestEnv::new()
        .with_file(
            PLAN,
            std::fs::read_to_string(o.env.path().join(PLAN)).unwrap(),
        )
        .with_emulator(&o.api.emulator)
        .with_env("AEP_CLIENT_SECRET", canary)
        .with_env("RUST_LOG", "trace");
    for args in [
        vec!["plan", PLAN],
        vec!["plan", "--format", "json", "--out", "plan.json", PLAN],
        vec!["apply", "--auto-approve", PLAN],
        vec!["status", PLAN],
    ] {
        let out = env.run(&args);
        assert!(
            !out.stdout.contains(canary) && !out.stderr.contains(canary),
            "{out}"
        );
    }
    for file in ["plan.json", "plans/flash-sale.lock.json"] {
        if let Ok(text) = std::fs::read_to_string(env.path().join(file)) {
            assert!(!text.contains(canary), "{file}");
        }
    }
}

#[test]
fn missing_credentials_name_the_variables() {
    let env = TestEnv::new().with_file(
        PLAN,
        std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap(),
    );
    let out = env.run(["plan", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("AEP_ORG_ID"), "{out}");
}

#[test]
fn emulator_flag_runs_the_whole_loop_in_process() {
    let env = TestEnv::new().with_file(
        PLAN,
        std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap(),
    );
    let out = env.run(["apply", "--emulator", "--auto-approve", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    assert!(env.path().join(".aepact/emulator-state.json").exists());
    let out = env.run(["apply", "--emulator", "--auto-approve", PLAN]);
    assert!(out.stdout.contains("already applied"), "{out}");
}

/// Replaces what changes between runs (times, the emulator's port, run IDs) for snapshots.
pub(crate) fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "[SERVER]");
    settings.add_filter(r"/runs/[0-9a-f-]{36}", "/runs/[RUN]");
    settings.add_filter(r#""runId": "[0-9a-f-]{36}""#, r#""runId": "[RUN]""#);
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]");
    settings.add_filter(r"run [0-9a-f-]{36}", "run [RUN]");
    settings.add_filter(r"\| `[0-9a-f-]{36}` \| \[TIME\]", "| `[RUN]` | [TIME]");
    settings
}

#[test]
fn lockfile_records_the_whole_story() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    assert_eq!(o.run(&["status", PLAN]).status, 0);
    let text = std::fs::read_to_string(o.env.path().join(LOCK)).unwrap();
    assert!(text.ends_with("}\n"));
    settings().bind(|| insta::assert_snapshot!(text));
}

#[test]
fn plan_output_in_every_format() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    // Add a segment and bump the run: the plan shows the body and the diff against run 1.
    o.edit_plan(
        "        name: Loyalty silver",
        "        name: Loyalty silver\n      - 7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a",
    );
    o.edit_plan("run: 1", "run: 2");
    let human = o.run(&["plan", PLAN]);
    assert_eq!(human.status, 0, "{human}");
    let markdown = o.run(&["plan", "--format", "markdown", PLAN]);
    assert!(
        markdown.stdout.starts_with("<!-- aepact:plan -->"),
        "{markdown}"
    );
    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    assert_eq!(json["aepactPlanVersion"], 3);
    assert_eq!(json["plans"][0]["changes"][0]["change"], "added");
    settings().bind(|| {
        insta::assert_snapshot!("plan_human", human);
        insta::assert_snapshot!("plan_markdown", markdown.stdout);
    });
}

#[test]
fn a_second_apply_waits_for_the_lock_then_fails_clearly() {
    let o = Online::new();
    let held =
        aepact::lockfile::LockGuard::acquire(&o.env.path().join(PLAN), Duration::ZERO).unwrap();
    let out = o.run(&["apply", "--auto-approve", "--lock-timeout", "200ms", PLAN]);
    // The other apply will finish: 75, try again later; nothing was sent.
    assert_eq!(out.status, 75, "{out}");
    assert!(out.stderr.contains("Nothing was sent."), "{out}");
    assert!(out.stderr.contains("--lock-timeout"), "{out}");
    assert_eq!(o.posts(), 0);
    drop(held);
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
}

/// A second plan with a segment that the first one's run is still exporting.
const OTHER: &str = "plans/gold-direct-mail.yaml";
const OTHER_PLAN: &str = "apiVersion: aepact/v1
name: gold-direct-mail
exports: latest
destinations:
  - id: 3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e
    segments: [db8961e9-d52f-45bc-b3fb-76d0382a6851]
";

#[test]
fn run_already_going_on_from_the_platform_exits_75() {
    let o = Online::with(EmulatorBuilder::new().run_duration(Duration::from_secs(3600)));
    // Gold goes to the email dataflow; the other plan sends it to direct mail, whose runs are
    // all this invocation reads: neither its lockfile nor the platform's runs of its dataflow
    // know of the run going, and the platform refuses the job.
    o.env.write(
        "plans/gold-email.yaml",
        OTHER_PLAN
            .replace("gold-direct-mail", "gold-email")
            .replace(
                "3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e",
                "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            ),
    );
    assert_eq!(
        o.run(&["apply", "--auto-approve", "plans/gold-email.yaml"])
            .status,
        0
    );
    o.env.write(OTHER, OTHER_PLAN);
    let out = o.run(&["apply", "--auto-approve", OTHER]);
    assert_eq!(out.status, 75, "{out}");
    assert!(out.stdout.contains("Run already going on"), "{out}");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(o.env.path().join("plans/gold-direct-mail.lock.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(lock["runs"][0]["jobs"][0]["status"], "rejected");
    assert_eq!(lock["runs"][0]["jobs"][0]["error"]["httpStatus"], 409);
}

#[test]
fn status_exits_1_when_a_run_failed() {
    let o = Online::new();
    o.env.write(
        OTHER,
        OTHER_PLAN.replace(
            "db8961e9-d52f-45bc-b3fb-76d0382a6851",
            "a62ea7d4-ac30-4a29-a1d8-f413b18eb143",
        ),
    );
    assert_eq!(o.run(&["apply", "--auto-approve", OTHER]).status, 0);
    let out = o.run(&["status", "--wait", OTHER]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("1 of 1 order failed"), "{out}");
}

#[test]
fn markdown_comment_stays_under_the_size_budget() {
    use aepact::planner::model::{PlanSet, PlannedPlan, ResolvedExports, Verdict};
    let plan = |i: usize| PlannedPlan {
        lines: Default::default(),
        policy: None,
        path: format!("plans/p{i}.yaml"),
        name: format!("p{i}"),
        sandbox: "prod".into(),
        plan_digest: String::new(),
        lockfile: format!("plans/p{i}.lock.json"),
        lockfile_digest: None,
        intent_digest: String::new(),
        exports: ResolvedExports {
            spec: "latest".into(),
            ids: vec!["1".into()],
            finished_at: None,
        },
        destinations: Vec::new(),
        jobs: vec![
            serde_json::from_value(json!({"activationInfo": {"d": vec!["x".repeat(36); 80]}}))
                .unwrap(),
        ],
        verdict: Verdict::Apply,
        warnings: Vec::new(),
        guard_window_ms: 3_600_000,
        deliveries: Vec::new(),
        overridden: Vec::new(),
        last_applied: None,
        changes: Vec::new(),
        diff: String::new(),
    };
    let set = PlanSet {
        aepact_plan_version: 1,
        aepact_version: "0".into(),
        created_at: String::new(),
        endpoint: "e".into(),
        org: "o".into(),
        api_version: aepact::api::AdhocApiVersion::V1,
        max_segments_per_job: 80,
        split: false,
        runs_read: Default::default(),
        plans: (0..40).map(plan).collect(),
    };
    let text = aepact::output::plan::markdown(&set);
    assert!(
        text.len() <= aepact::output::plan::MARKDOWN_BUDGET,
        "{}",
        text.len()
    );
    // Every plan is still in the summary table, and the comment says what was left out.
    assert_eq!(
        text.matches("| **apply**: 1 job, 0 added, 0 removed |")
            .count(),
        40
    );
    assert!(text.contains("left out to stay under GitHub's comment size"));
}

#[test]
fn a_saved_plan_of_another_format_is_refused_as_such_whatever_its_fields() {
    let o = Online::new();
    let out = o.run(&["plan", "--out", "saved.json", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    let path = o.env.path().join("saved.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // A newer aepact's saved plan: another format number and a field this one does not know.
    saved["aepactPlanVersion"] = json!(4);
    saved["somethingNew"] = json!({"a": 1});
    std::fs::write(&path, saved.to_string()).unwrap();
    let out = o.run(&["apply", "--auto-approve", "saved.json"]);
    assert_eq!(out.status, 1, "{out}");
    let said = out.stderr.replace('│', " ");
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("is a saved plan of format 4, which this aepact does not read (it reads 3)")
            && said.contains("help: make the saved plan again with `aepact plan --out FILE`"),
        "{out}"
    );
    assert_eq!(o.posts(), 0);
}
