//! The policy file (issue 11, section 2): `aepact.policy.yaml` found beside the plans or above
//! them up to the repository root, or named with `--policy`; every rule, offline in `validate`
//! (codes `aepact::policy::*`, the plan's line first and the rule's place beside it) and the
//! time rules in `plan`/`apply` at the emulator's clock; the file's own errors at their line.

use serde_json::{Value, json};

use crate::apply::{LOCK, Online, PLAN};
use crate::common::{TestEnv, repo_root};
use crate::emulator::{DIRECT_MAIL, EMAIL, GOLD, SILVER};

const POLICY: &str = "aepact.policy.yaml";

fn example() -> String {
    std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap()
}

/// A repository (`.git`) holding the flash-sale example and `policy` at its root.
fn repo(policy: &str) -> TestEnv {
    let env = TestEnv::new()
        .with_file(".git/HEAD", "ref: refs/heads/main\n")
        .with_file(PLAN, example());
    env.write(POLICY, policy);
    env
}

fn policy(rules: &str) -> String {
    format!("apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n{rules}")
}

/// The diagnostics of the first file of a `validate --format json` report.
fn diagnostics(env: &TestEnv, args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["validate", "--format", "json"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let json = out.json();
    let diags = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().cloned().unwrap_or_default())
        .collect();
    (out.status, diags)
}

fn line_of(text: &str, needle: &str) -> usize {
    1 + text.lines().position(|l| l.contains(needle)).unwrap()
}

#[test]
fn refuses_a_destination_the_policy_does_not_allow() {
    let env = repo(&policy(&format!("    destinations: [{EMAIL}]\n")));
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "aepact::policy::destination");
    assert_eq!(
        d["message"],
        format!("destination `{DIRECT_MAIL}` is not allowed in sandbox `prod` by the policy")
    );
    // Primary: the plan's line of the destination; beside it, the policy file and the rule's line.
    assert_eq!(
        d["line"],
        line_of(&example(), &format!("id: {DIRECT_MAIL}"))
    );
    let related = &d["related"][0];
    assert_eq!(related["path"], POLICY);
    assert_eq!(related["line"], 4);
    assert_eq!(related["code"], "aepact::policy::rule");

    let human = env.run(["validate", "plans"]);
    assert!(
        human
            .stdout
            .contains("breaks `destinations` (aepact.policy.yaml:4)"),
        "{human}"
    );
    // Allowed destinations pass.
    env.write(
        POLICY,
        policy(&format!("    destinations: [{EMAIL}, {DIRECT_MAIL}]\n")),
    );
    assert_eq!(env.run(["validate", "plans"]).status, 0);
}

#[test]
fn refuses_more_segments_per_plan_than_allowed() {
    let env = repo(&policy("    maxSegmentsPerPlan: 1\n"));
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1);
    assert_eq!(diags[0]["code"], "aepact::policy::max_segments_per_plan");
    assert_eq!(
        diags[0]["message"],
        "the plan activates 2 distinct segments; the policy allows at most 1 per plan in sandbox `prod`"
    );
    assert_eq!(diags[0]["line"], line_of(&example(), "destinations:"));
    env.write(POLICY, policy("    maxSegmentsPerPlan: 2\n"));
    assert_eq!(env.run(["validate", "plans"]).status, 0);
}

#[test]
fn refuses_more_segments_per_command_than_allowed() {
    let env = repo(&policy("    maxSegmentsPerApply: 3\n"));
    // A second plan of 2 segments: 4 in all, over 3; each alone is within.
    let other = example()
        .replace("black-friday-flash-sale", "second-sale")
        .replace(GOLD, "00000000-0000-4000-8000-000000000001")
        .replace(SILVER, "00000000-0000-4000-8000-000000000002");
    env.write("plans/second.yaml", other);
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1, "{diags:?}");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "aepact::policy::max_segments_per_apply");
    assert_eq!(diags[0]["path"], "plans/second.yaml");
    assert_eq!(
        diags[0]["message"],
        "the plans given activate 4 segments in sandbox `prod` up to this one (each plan's distinct segments, added up); the policy allows at most 3 per command"
    );
    assert_eq!(env.run(["validate", "plans/second.yaml"]).status, 0);
    assert_eq!(env.run(["validate", PLAN]).status, 0);
}

/// Two plans of the same 2 segments count 4 toward the limit (each plan's segments are
/// added up), and the message does not call them 4 distinct segments: there are 2.
#[test]
fn plans_sharing_segments_are_added_up_and_not_called_distinct() {
    let env = repo(&policy(
        "    maxSegmentsPerApply: 3
",
    ));
    env.write(
        "plans/second.yaml",
        example().replace("black-friday-flash-sale", "second-sale"),
    );
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1, "{diags:?}");
    let over: Vec<_> = diags
        .iter()
        .filter(|d| d["code"] == "aepact::policy::max_segments_per_apply")
        .collect();
    assert_eq!(over.len(), 1, "{diags:?}");
    let message = over[0]["message"].as_str().unwrap();
    assert!(!message.contains("distinct segments in"), "{message}");
    assert!(message.contains("activate 4 segments"), "{message}");
}

#[test]
fn requires_a_description() {
    let env = repo(&policy("    requireDescription: true\n"));
    assert_eq!(
        env.run(["validate", "plans"]).status,
        0,
        "the example has one"
    );
    env.write(
        PLAN,
        example().replace(
            "description: Email loyalty members about the flash sale\n",
            "",
        ),
    );
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1);
    assert_eq!(diags[0]["code"], "aepact::policy::require_description");
    assert_eq!(diags[0]["line"], 3, "on the plan's `name:`");
}

#[test]
fn requires_labels_on_every_destination_and_segment() {
    let env = repo(&policy("    requireLabels: true\n"));
    let (status, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(status, 1);
    // The example's direct-mail segment is a bare ID.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "aepact::policy::require_labels");
    assert_eq!(diags[0]["line"], line_of(&example(), "# bare ID is fine"));
    env.write(
        PLAN,
        example().replace("    name: Email vendor (SFTP)\n", ""),
    );
    let (_, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(diags.len(), 2, "{diags:?}");
}

#[test]
fn default_rules_apply_to_sandboxes_not_named() {
    let text = format!(
        "apiVersion: aepact/policy-v1\nsandboxes:\n  default: {{maxSegmentsPerPlan: 1}}\n  dev:\n    destinations: [{EMAIL}]\n"
    );
    let env = repo(&text);
    let (_, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(
        diags[0]["code"], "aepact::policy::max_segments_per_plan",
        "prod takes default"
    );
    // A named sandbox takes its own rules only.
    env.write(PLAN, example().replace("sandbox: prod", "sandbox: dev"));
    let (_, diags) = diagnostics(&env, &["plans"]);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["aepact::policy::destination"]);
}

#[test]
fn the_nearest_policy_wins_up_to_the_repository_root() {
    let env = repo(&policy("    maxSegmentsPerPlan: 1\n"));
    // Nearer, in the plan's own directory: it governs instead.
    env.write(
        "plans/aepact.policy.yaml",
        policy("    requireLabels: true\n"),
    );
    let (_, diags) = diagnostics(&env, &["plans"]);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["aepact::policy::require_labels"]);
    assert_eq!(diags[0]["related"][0]["path"], "plans/aepact.policy.yaml");

    // A policy above the repository root governs nothing in it.
    let outer = TestEnv::new().with_file(POLICY, policy("    maxSegmentsPerPlan: 1\n"));
    outer.write("repo/.git/HEAD", "ref: refs/heads/main\n");
    outer.write("repo/plans/flash-sale.yaml", example());
    assert_eq!(outer.run(["validate", "repo/plans"]).status, 0);
}

#[test]
fn policy_flag_and_variable_override_the_nearest() {
    let env = repo(&policy("    maxSegmentsPerPlan: 1\n"));
    env.write("strict.yaml", policy("    requireLabels: true\n"));
    let (_, diags) = diagnostics(&env, &["--policy", "strict.yaml", "plans"]);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["aepact::policy::require_labels"]);
    let env = env.with_env("AEPACT_POLICY", "strict.yaml");
    let (_, diags) = diagnostics(&env, &["plans"]);
    assert_eq!(diags[0]["code"], "aepact::policy::require_labels");

    let missing = env.run(["validate", "--policy", "nope.yaml", "plans"]);
    assert_eq!(missing.status, 1, "{missing}");
    assert!(
        missing
            .stdout
            .contains("policy file `nope.yaml` does not exist"),
        "{missing}"
    );
}

#[test]
fn a_plan_from_standard_input_takes_the_policy_of_the_current_directory() {
    let env = repo(&policy("    maxSegmentsPerPlan: 1\n"));
    let mut child = env
        .command(["validate", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(example().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["files"][0]["diagnostics"][0]["code"],
        "aepact::policy::max_segments_per_plan"
    );
}

/// Each mistake in a policy file, at its line and column, with the code it is reported under.
#[test]
fn policy_file_errors_point_at_their_line() {
    let cases = [
        (
            "apiVersion: aepact/policy-v9\nsandboxes: {}\n",
            "aepact::policy::version",
            1,
            "`aepact/policy-v9` is not a policy format this aepact reads",
        ),
        (
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    maxSegments: 3\n",
            "aepact::unknown_key",
            4,
            "unknown field `maxSegments`",
        ),
        (
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    windows: [{days: [mon], hours: \"08:00-18:00\", timeZone: Europe/Berlim}]\n",
            "aepact::invalid_value",
            4,
            "`Europe/Berlim` is not an IANA time zone",
        ),
        (
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    windows:\n      - days: [mon]\n        hours: \"18:00-08:00\"\n        timeZone: UTC\n",
            "aepact::invalid_value",
            6,
            "`18:00-08:00` is not a range of hours",
        ),
        (
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    windows:\n      - days: [mon, sunday]\n        hours: \"08:00-18:00\"\n        timeZone: UTC\n",
            "aepact::invalid_value",
            5,
            "unknown variant `sunday`",
        ),
        (
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    minInterval: 12 hours\n",
            "aepact::invalid_value",
            4,
            "`12 hours` is not a duration",
        ),
    ];
    for (text, code, line, message) in cases {
        let env = repo(text);
        let out = env.run(["validate", "--format", "json", "plans"]);
        assert_eq!(out.status, 1, "{text}\n{out}");
        let json = out.json();
        let file = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == POLICY)
            .unwrap_or_else(|| panic!("{text}\n{out}"));
        let d = &file["diagnostics"][0];
        assert_eq!(d["code"], code, "{text}\n{d}");
        assert_eq!(d["line"], line, "{text}\n{d}");
        assert!(
            d["message"].as_str().unwrap().contains(message),
            "{text}\n{d}"
        );
    }
    // A wrong version names the versions this aepact reads.
    let env = repo("apiVersion: aepact/policy-v9\nsandboxes: {}\n");
    let out = env.run(["validate", "plans"]);
    assert!(
        out.stdout.contains("this aepact reads `aepact/policy-v1`"),
        "{out}"
    );
}

#[test]
fn the_walk_knows_a_policy_file_and_other_aepact_documents() {
    let env = repo(&policy("    maxSegmentsPerPlan: 20\n"));
    env.write(
        "plans/aepact.policy.yaml",
        policy("    maxSegmentsPerPlan: 20\n"),
    );
    env.write(
        "plans/team-policy.yaml",
        policy("    maxSegmentsPerPlan: 20\n"),
    );
    env.write(
        "plans/other.yaml",
        "apiVersion: aepact/notes-v1\ntext: hi\n",
    );
    let out = env.run(["validate", "--format", "json", "."]);
    assert_eq!(out.status, 0, "{out}");
    let files: Vec<String> = out.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(files, ["plans/flash-sale.yaml"], "{out}");
    let verbose = env.run(["-v", "validate", "."]);
    assert!(
        verbose
            .stderr
            .contains("skipped `plans/team-policy.yaml`: a policy file, not a plan"),
        "{verbose}"
    );
    // Named on the command line, a policy file is checked as the policy it is.
    env.write(
        POLICY,
        "apiVersion: aepact/policy-v1\nsandboxes:\n  prod: {colour: red}\n",
    );
    let out = env.run(["validate", "--format", "json", POLICY]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(out.codes(0), ["aepact::unknown_key"]);
}

#[test]
fn sarif_and_github_name_the_policy_rule() {
    let env = repo(&policy(&format!("    destinations: [{EMAIL}]\n")));
    let sarif = env.run(["validate", "--format", "sarif", "plans"]).json();
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for code in [
        "aepact::policy::destination",
        "aepact::policy::max_segments_per_plan",
        "aepact::policy::max_segments_per_apply",
        "aepact::policy::require_description",
        "aepact::policy::require_labels",
    ] {
        assert!(rules.contains(&code), "{code} not a SARIF rule");
    }
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "aepact::policy::destination");
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        POLICY
    );
    let github = env.run(["validate", "--format", "github", "plans"]);
    assert!(
        github
            .stdout
            .contains("title=aepact%3A%3Apolicy%3A%3Adestination")
            && github.stdout.contains("see aepact.policy.yaml:4:"),
        "{github}"
    );
}

/// The emulator's clock (epoch ms).
fn clock(o: &Online) -> i64 {
    o.api.admin("GET", "clock", None)["now"].as_i64().unwrap()
}

/// Moves the emulator's clock to `hour`:00:30 UTC of the next day.
fn to_next_day_at(o: &Online, hour: i64) {
    let now = clock(o);
    let day = 86_400_000;
    let target = (now / day + 1) * day + hour * 3_600_000 + 30_000;
    o.api.advance((target - now) as u64);
}

fn online_with(policy_text: &str) -> Online {
    let o = Online::new();
    o.env.write(".git/HEAD", "ref: refs/heads/main\n");
    o.env.write(POLICY, policy_text);
    o
}

#[test]
fn apply_refuses_outside_a_window_and_sends_once_it_opens() {
    let o = online_with(&policy(
        "    windows: [{days: [mon, tue, wed, thu, fri, sat, sun], hours: \"02:00-03:00\", timeZone: UTC}]\n",
    ));
    to_next_day_at(&o, 1);
    let plan = o.run(&["plan", "--format", "json", PLAN]);
    assert_eq!(plan.status, 75, "{plan}");
    let reason = &plan.json()["plans"][0]["verdict"]["reasons"][0];
    assert_eq!(reason["code"], "aepact::policy::window");
    assert_eq!(reason["temporary"], true);
    // The instant it clears, as data (epoch ms on the platform's clock): 02:00 UTC that day.
    let clears_ms = reason["clearsAt"].as_i64().unwrap();
    let clears = aepact::time::rfc3339(clears_ms);
    assert!(clears.ends_with("T02:00:00Z"), "{reason}");
    let message = reason["message"].as_str().unwrap();
    assert!(
        message.contains("(aepact.policy.yaml:4: ")
            && message.contains("the next window opens ")
            && message.contains(&format!("02:00 UTC ({clears})")),
        "{message}"
    );

    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 75, "{apply}");
    assert!(apply.stdout.contains("the next window opens"), "{apply}");
    assert_eq!(o.posts(), 0, "nothing is sent outside the window");
    assert!(!o.env.path().join(LOCK).exists());

    o.api.advance(3_600_000);
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 1);
}

#[test]
fn min_interval_holds_a_pair_back_until_it_has_passed() {
    let o = online_with(&policy("    minInterval: 12h\n"));
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    o.api.advance(2 * 3_600_000);
    // Activating the same pairs again (a bumped `run`) is too soon.
    o.edit_plan("run: 1", "run: 2");
    let plan = o.run(&["plan", "--format", "json", PLAN]);
    assert_eq!(plan.status, 75, "{plan}");
    let reasons = plan.json()["plans"][0]["verdict"]["reasons"].clone();
    assert_eq!(reasons.as_array().unwrap().len(), 1, "{reasons}");
    let reason = &reasons[0];
    assert_eq!(reason["code"], "aepact::policy::min_interval");
    assert_eq!(reason["temporary"], true);
    let message = reason["message"].as_str().unwrap();
    assert!(
        message.contains("the policy's `minInterval` of 12h (aepact.policy.yaml:4)")
            && message.contains("(3 pairs of the plan's are too soon)"),
        "{message}"
    );
    let lock: Value = o.lockfile();
    let sent_at = lock["runs"][0]["jobs"][0]["sentAt"].as_str().unwrap();
    let sent: jiff_like::Ms = sent_at.into();
    let clears = jiff_like::Ms(reason["clearsAt"].as_i64().unwrap());
    assert!(
        clears.0 >= sent.0 + 12 * 3_600_000 - 1000,
        "{reason} vs {sent_at}"
    );

    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 75, "{apply}");
    assert_eq!(o.posts(), 1, "nothing more is sent");

    o.api.advance(11 * 3_600_000);
    let apply = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 2);
}

/// RFC 3339 UTC text to epoch ms, for comparing the times a refusal names.
mod jiff_like {
    pub(super) struct Ms(pub(super) i64);

    impl From<&str> for Ms {
        fn from(text: &str) -> Self {
            Ms(text
                .parse::<aepact::time::Timestamp>()
                .unwrap_or_else(|_| panic!("not a time: {text}"))
                .unix_ms())
        }
    }
}

#[test]
fn a_saved_plan_records_its_policy_and_apply_rechecks_the_window() {
    let o = online_with(&policy(
        "    windows: [{days: [mon, tue, wed, thu, fri, sat, sun], hours: \"02:00-03:00\", timeZone: UTC}]\n",
    ));
    to_next_day_at(&o, 2);
    let plan = o.run(&["plan", "--out", "saved.json", PLAN]);
    assert_eq!(plan.status, 0, "{plan}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(o.env.path().join("saved.json")).unwrap())
            .unwrap();
    assert_eq!(saved["plans"][0]["policy"], POLICY);
    // The window closes before the saved plan is applied.
    o.api.advance(3_600_000);
    let apply = o.run(&["apply", "--auto-approve", "saved.json"]);
    assert_ne!(apply.status, 0, "{apply}");
    assert_eq!(o.posts(), 0, "{apply}");
}

#[test]
fn committed_policy_schema_is_fresh_and_printed() {
    use aepact::policy::schema::{SCHEMA_PATH, generate_text};
    let path = repo_root().join(SCHEMA_PATH);
    let expected = generate_text();
    if std::env::var_os("AEPACT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{SCHEMA_PATH} is stale: the policy types changed. Refresh it with\n\n    \
         AEPACT_UPDATE_GOLDEN=1 cargo test --test it policy\n\n(or `cargo run -- schema --policy > {SCHEMA_PATH}`) and commit the result."
    );
    let out = TestEnv::new().run(["schema", "--policy"]);
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, expected);
    // It is valid draft 2020-12, and the example policy passes it.
    let schema: Value = serde_json::from_str(&committed).unwrap();
    jsonschema::draft202012::meta::validate(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let source = aepact::plan::SourceFile::new(
        "examples/policy/aepact.policy.yaml",
        std::fs::read_to_string(repo_root().join("examples/policy/aepact.policy.yaml")).unwrap(),
    );
    let example = aepact::plan::load::parse(&source).unwrap().value;
    assert!(validator.is_valid(&example));
    assert!(
        !validator
            .is_valid(&json!({"apiVersion": "aepact/policy-v1", "sandboxes": {"prod": {"x": 1}}}))
    );
    assert!(aepact::policy::Policy::parse(source).is_ok());
}

/// The human rendering of every policy code, as golden output.
#[test]
fn every_policy_code_renders_with_its_rule_beside_it() {
    let env = repo(&policy(&format!(
        "    destinations: [{EMAIL}]\n    maxSegmentsPerPlan: 1\n    maxSegmentsPerApply: 1\n    requireDescription: true\n    requireLabels: true\n"
    )));
    env.write(
        PLAN,
        example().replace(
            "description: Email loyalty members about the flash sale\n",
            "",
        ),
    );
    insta::assert_snapshot!(env.run(["validate", "plans"]).to_string());
    env.write(POLICY, "apiVersion: aepact/policy-v2\nsandboxes: {}\n");
    insta::assert_snapshot!("policy_version", env.run(["validate", "plans"]).to_string());
}

/// Moves the emulator's clock to `ms_before` milliseconds before `hour`:00 UTC of the next day.
fn to_just_before(o: &Online, hour: i64, ms_before: i64) {
    let now = clock(o);
    let day = 86_400_000;
    let target = (now / day + 1) * day + hour * 3_600_000 - ms_before;
    o.api.advance((target - now) as u64);
}

#[test]
fn wait_for_clear_sleeps_until_the_window_opens_then_applies_once() {
    // The window opens a few seconds ahead on the platform's clock (which runs in real time
    // beside the offset): apply finds it closed, waits for that instant, checks again, and
    // sends. On a machine so busy that the first check comes after the opening, there was
    // nothing to wait for: try again with a wider margin.
    for margin_ms in [3_000, 10_000, 30_000] {
        let o = online_with(&policy(
            "    windows: [{days: [mon, tue, wed, thu, fri, sat, sun], hours: \"02:00-03:00\", timeZone: UTC}]\n",
        ));
        to_just_before(&o, 2, margin_ms);
        let opens = clock(&o) + margin_ms;
        let out = o.run(&["apply", "--auto-approve", "--wait-for-clear=5m", PLAN]);
        assert_eq!(out.status, 0, "{out}");
        assert_eq!(o.posts(), 1, "sent once: {out}");
        if !out
            .stdout
            .contains("waiting for `black-friday-flash-sale`: the policy allows sending")
        {
            continue;
        }
        assert!(out.stdout.contains("clears at "), "{out}");
        assert!(
            out.stdout
                .contains("applied `black-friday-flash-sale` (run 1)"),
            "{out}"
        );
        // Sent after the window opened, on the platform's clock.
        assert!(clock(&o) >= opens, "{out}");
        return;
    }
    panic!("apply never found the window closed: the machine is too busy for this test");
}

#[test]
fn wait_for_clear_gives_up_at_once_when_the_window_opens_after_the_deadline() {
    let o = online_with(&policy(
        "    windows: [{days: [mon, tue, wed, thu, fri, sat, sun], hours: \"02:00-03:00\", timeZone: UTC}]\n",
    ));
    to_next_day_at(&o, 1);
    let out = o.run(&["apply", "--auto-approve", "--wait-for-clear=1m", PLAN]);
    assert_eq!(out.status, 75, "{out}");
    // It did not wait: the message says so, not that a minute went by.
    assert!(
        out.stdout.contains(
            "gave up at once: 1 plan still refused, clearing only after the 1m of `--wait-for-clear`"
        ),
        "{out}"
    );
    assert!(!out.stdout.contains("gave up waiting after 1m"), "{out}");
    assert!(out.stdout.contains("the next window opens"), "{out}");
    assert_eq!(o.posts(), 0, "nothing is sent outside the window");
}

#[test]
fn a_policy_named_and_governing_is_reported_once() {
    let env = repo("apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    maxSegments: 3\n");
    let out = env.run(["validate", POLICY, PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stderr.matches("unknown field `maxSegments`").count()
            + out.stdout.matches("unknown field `maxSegments`").count(),
        1,
        "{out}"
    );
    assert!(
        out.stdout
            .contains("error: 0 of 1 plan file invalid, 1 of 1 policy file invalid (1 error)"),
        "{out}"
    );
}
