//! Which files are plans, and one identity per plan (issue 9, cases 4 and 10): a directory walk
//! skips YAML that is not an aepact plan and counts it; a file that means to be a plan is
//! checked; one file reached by several paths is one plan; two files sharing a lockfile are
//! refused.

use crate::common::{TestEnv, fixture, plan, repo_root, segment_id};

/// A GitHub Actions workflow: YAML, but no plan.
const WORKFLOW: &str = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: aepact validate plans/\n";

/// A Kubernetes manifest: an `apiVersion`, but not aepact's.
const MANIFEST: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

/// The paths of `files` and `skipped` in a `--format json` report.
fn json_paths(json: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let paths = |key: &str, inner: Option<&str>| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is not an array: {json}"))
            .iter()
            .map(|v| inner.map_or(v, |k| &v[k]).as_str().unwrap().to_owned())
            .collect()
    };
    (paths("files", Some("path")), paths("skipped", None))
}

#[test]
fn a_walk_skips_workflows_and_manifests_and_counts_them() {
    let env = TestEnv::new()
        .with_file("repo/plans/flash-sale.yaml", fixture("valid/minimal.yaml"))
        .with_file("repo/ci/deploy.yml", WORKFLOW)
        .with_file("repo/k8s/web.yaml", MANIFEST);
    let out = env.run(["validate", "repo"]);
    assert_eq!(out.status, 0, "{out}");
    insta::assert_snapshot!(out, @r"
    ----- stdout -----
    ok: 1 plan file valid, 2 other YAML files skipped
    [exit status: 0]
    ");

    let out = env.run(["validate", "--format", "json", "repo"]);
    assert_eq!(out.status, 0, "{out}");
    let json = out.json();
    let (files, skipped) = json_paths(&json);
    assert_eq!(files, ["repo/plans/flash-sale.yaml"]);
    assert_eq!(skipped, ["repo/ci/deploy.yml", "repo/k8s/web.yaml"]);
    assert_eq!(json["summary"]["files"], 1);

    // The machine formats leave skipped files out altogether.
    let sarif = env.run(["validate", "--format", "sarif", "repo"]);
    assert_eq!(sarif.status, 0, "{sarif}");
    assert_eq!(sarif.json()["runs"][0]["results"], serde_json::json!([]));
    let junit = env.run(["validate", "--format", "junit", "repo"]);
    assert_eq!(junit.status, 0, "{junit}");
    assert!(junit.stdout.contains("tests=\"1\""), "{junit}");
    assert!(!junit.stdout.contains("deploy.yml"), "{junit}");
    let github = env.run(["validate", "--format", "github", "repo"]);
    assert_eq!(github.status, 0, "{github}");
    assert!(!github.stdout.contains("::error"), "{github}");
}

#[test]
fn the_count_is_singular_for_one_skipped_file_and_shown_next_to_errors() {
    let env = TestEnv::new()
        .with_file("plans/dup.yaml", fixture("duplicate_segment.yaml"))
        .with_file("plans/ci.yml", WORKFLOW);
    let out = env.run(["validate", "plans"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout
            .ends_with("error: 1 of 1 plan file invalid (1 error), 1 other YAML file skipped\n"),
        "{out}"
    );
}

#[test]
fn a_file_named_on_the_command_line_is_always_checked() {
    let env = TestEnv::new()
        .with_file("plans/ok.yaml", fixture("valid/minimal.yaml"))
        .with_file("plans/ci.yml", WORKFLOW);
    let out = env.run(["validate", "--format", "json", "plans/ci.yml"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        json_paths(&out.json()),
        (vec!["plans/ci.yml".to_owned()], vec![])
    );
    let codes = out.codes(0);
    assert!(
        codes.iter().any(|c| c == "aepact::missing_key"),
        "{codes:?}"
    );

    // Also when the walk met it first: naming it makes it a plan.
    let out = env.run(["validate", "--format", "json", "plans", "plans/ci.yml"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        json_paths(&out.json()),
        (
            vec!["plans/ci.yml".to_owned(), "plans/ok.yaml".to_owned()],
            vec![]
        )
    );
}

/// Validates `plans/` holding `text` as `plans/bad.yaml` next to a workflow: the workflow is
/// skipped while `bad.yaml` is reported. Returns the code of its first diagnostic.
fn first_code_next_to_a_workflow(text: &str) -> String {
    let env = TestEnv::new()
        .with_file("plans/bad.yaml", text)
        .with_file("plans/ci.yml", WORKFLOW);
    let out = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        json_paths(&out.json()),
        (
            vec!["plans/bad.yaml".to_owned()],
            vec!["plans/ci.yml".to_owned()]
        )
    );
    out.codes(0).swap_remove(0)
}

#[test]
fn an_unknown_aepact_version_in_a_walk_is_an_error() {
    let text = fixture("valid/minimal.yaml").replace("aepact/v1", "aepact/v9");
    assert_eq!(
        first_code_next_to_a_workflow(&text),
        "aepact::invalid_value"
    );
}

#[test]
fn a_plan_without_api_version_in_a_walk_is_an_error() {
    let text = plan("no-version", &[&segment_id(1)]).replace("apiVersion: aepact/v1\n", "");
    assert!(!text.contains("apiVersion"));
    assert_eq!(first_code_next_to_a_workflow(&text), "aepact::missing_key");
    // A misspelt `apiVersion` value too: `name` and `destinations` make it a plan.
    let text = plan("bad-version", &[&segment_id(1)]).replace("aepact/v1", "aepact-v1");
    assert_eq!(
        first_code_next_to_a_workflow(&text),
        "aepact::invalid_value"
    );
}

#[test]
fn broken_yaml_that_mentions_aepact_is_an_error_and_other_broken_yaml_is_skipped() {
    let broken_plan = "apiVersion: aepact/v1\nname: [unclosed\n";
    assert_eq!(
        first_code_next_to_a_workflow(broken_plan),
        "aepact::yaml_syntax"
    );

    // Broken YAML of some other tool (here with a tab in its indentation, and a second
    // document) is not a plan.
    let env = TestEnv::new()
        .with_file("plans/ok.yaml", fixture("valid/minimal.yaml"))
        .with_file("plans/broken.yaml", "key:\n\t- tabbed\n")
        .with_file("plans/two.yaml", "a: 1\n---\nb: 2\n");
    let out = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        json_paths(&out.json()),
        (
            vec!["plans/ok.yaml".to_owned()],
            vec!["plans/broken.yaml".to_owned(), "plans/two.yaml".to_owned()]
        )
    );
}

#[test]
fn a_directory_of_other_yaml_only_holds_no_plans() {
    let env = TestEnv::new()
        .with_file("ci/build.yml", WORKFLOW)
        .with_file("ci/k8s.yaml", MANIFEST);
    insta::assert_snapshot!(env.run(["validate", "ci"]), @r"
    ----- stdout -----
    aepact::no_plans

      × directory `ci` holds no plan files (2 other YAML files skipped)
      help: a plan is a `*.yaml` or `*.yml` file whose top level has `apiVersion: aepact/v1`; check
            that this is the right directory, or name a file to check it as a plan

    error: 1 of 1 plan file invalid (1 error), 2 other YAML files skipped
    [exit status: 1]
    ");
}

/// Regression test for issue 9, case 10: the README's `aepact validate examples/` took the
/// example CI workflows under `examples/ci/` for plans and failed.
#[test]
fn regression_issue_9_validate_examples_exits_zero() {
    let env = TestEnv::new();
    let examples = repo_root().join("examples");
    let out = env.run(["validate".as_ref(), examples.as_os_str()]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("other YAML files skipped"), "{out}");
}

#[test]
fn two_files_sharing_a_lockfile_are_both_refused() {
    let env = TestEnv::new()
        .with_file("plans/a.yaml", plan("plan-a", &[&segment_id(1)]))
        .with_file("plans/a.yml", plan("plan-a-too", &[&segment_id(2)]));
    let out = env.run(["validate", "plans"]);
    assert_eq!(out.status, 1, "{out}");
    insta::assert_snapshot!(out);

    let json = env.run(["validate", "--format", "json", "plans"]).json();
    for (file, other) in [(0, "plans/a.yml"), (1, "plans/a.yaml")] {
        let diags = json["files"][file]["diagnostics"].as_array().unwrap();
        assert_eq!(diags.len(), 1, "{json}");
        assert_eq!(diags[0]["code"], "aepact::shared_lockfile");
        assert_eq!(diags[0]["severity"], "error");
        assert_eq!(diags[0]["path"], json["files"][file]["path"]);
        assert!(
            diags[0]["message"].as_str().unwrap().contains(other),
            "{json}"
        );
    }
}

#[test]
fn a_plan_named_relatively_and_absolutely_is_one_plan() {
    let env = TestEnv::new().with_file("plans/a.yaml", fixture("valid/minimal.yaml"));
    let absolute = env.path().join("plans/a.yaml");
    let out = env.run([
        "validate".as_ref(),
        "plans/a.yaml".as_ref(),
        absolute.as_os_str(),
        "./plans/../plans/a.yaml".as_ref(),
    ]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("ok: 1 plan file valid"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_symlink_and_its_target_in_one_walk_are_one_plan() {
    let env = TestEnv::new().with_file("plans/a.yaml", fixture("valid/minimal.yaml"));
    std::os::unix::fs::symlink("a.yaml", env.path().join("plans/link.yaml")).unwrap();
    let out = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    // The first path met is the one shown.
    assert_eq!(
        json_paths(&out.json()),
        (vec!["plans/a.yaml".to_owned()], vec![])
    );
    // Named together, too.
    let out = env.run(["validate", "plans/link.yaml", "plans/a.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("ok: 1 plan file valid"), "{out}");
    // A link met before its target in the walk is the path shown, and the target is not
    // checked again.
    std::os::unix::fs::symlink("a.yaml", env.path().join("plans/0-link.yaml")).unwrap();
    let out = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        json_paths(&out.json()),
        (vec!["plans/0-link.yaml".to_owned()], vec![])
    );
}

#[test]
fn a_directory_met_again_under_another_path_adds_no_plan() {
    let env = TestEnv::new()
        .with_file("plans/a.yaml", plan("a", &[&segment_id(1)]))
        .with_file("plans/sub/b.yaml", plan("b", &[&segment_id(2)]));
    let two = || {
        (
            vec!["plans/a.yaml".to_owned(), "plans/sub/b.yaml".to_owned()],
            vec![],
        )
    };
    for paths in [
        &["plans", "plans/sub"][..],
        &["plans", "./plans/"],
        &["plans/sub/b.yaml", "plans"],
    ] {
        let out = env.run(["validate", "--format", "json"].iter().chain(paths));
        assert_eq!(out.status, 0, "{paths:?}: {out}");
        let (mut shown, skipped) = json_paths(&out.json());
        shown.sort();
        assert_eq!((shown, skipped), two(), "{paths:?}: {out}");
    }
    // A child walked first keeps its files' places; the parent's walk adds only `a.yaml`.
    let out = env.run(["validate", "--format", "json", "plans/sub", "plans"]);
    assert_eq!(
        json_paths(&out.json()),
        (
            vec!["plans/sub/b.yaml".to_owned(), "plans/a.yaml".to_owned()],
            vec![]
        ),
        "{out}"
    );
}
