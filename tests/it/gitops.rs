//! The GitOps kit: SARIF, JUnit and GitHub renderers, `init`, completions, the man page, the
//! example pipelines (every aepact command in them parses) and the pre-commit hook.

use clap::Parser;

use crate::apply::{Online, PLAN};
use crate::common::{TestEnv, fixture, plan, repo_root, segment_id};

fn invalid_pair() -> TestEnv {
    TestEnv::new()
        .with_file("dup.yaml", fixture("duplicate_segment.yaml"))
        .with_file("a.yaml", plan("plan-a", &[&segment_id(1)]))
        .with_file("b.yaml", plan("plan-b", &[&segment_id(1)]))
}

#[test]
fn validate_as_sarif() {
    let out = invalid_pair().run([
        "validate", "--format", "sarif", "dup.yaml", "a.yaml", "b.yaml",
    ]);
    assert_eq!(out.status, 1);
    let sarif = out.json();
    assert_eq!(sarif["version"], "2.1.0");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(
        rules.len(),
        aepact::plan::Code::ALL.len(),
        "one rule per code"
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""version": "\d+\.\d+\.\d+""#, r#""version": "[VERSION]""#);
    settings.bind(|| insta::assert_json_snapshot!(sarif["runs"][0]["results"]));
}

#[test]
fn validate_as_junit() {
    let out = invalid_pair().run([
        "validate", "--format", "junit", "dup.yaml", "a.yaml", "b.yaml",
    ]);
    assert_eq!(out.status, 1);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn plan_as_github_annotations() {
    let o = Online::new();
    let out = o.run(&["plan", "--format", "github", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    insta::assert_snapshot!(out.stdout, @r"
    ::notice file=plans/flash-sale.yaml,title=aepact plan::plan `black-friday-flash-sale` will send 1 job with 2 segments to 2 destinations in sandbox `prod` (3 added, 0 removed since the last apply)%0AEmail vendor (SFTP) (`0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f`): Loyalty gold, Loyalty silver%0ADirect mail partner (S3) (`3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e`): Loyalty gold
    Plan: 1 to apply, 0 already applied.
    ");
}

#[test]
fn init_writes_a_starter_that_validate_points_into() {
    let env = TestEnv::new();
    let out = env.run(["init", "spring-promo"]);
    assert_eq!(out.status, 0, "{out}");
    let text = std::fs::read_to_string(env.path().join("spring-promo.yaml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema="),
        "{text}"
    );
    assert!(text.contains("name: spring-promo"));
    let out = env.run(["validate", "--format", "json", "spring-promo.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.codes(0),
        ["aepact::malformed_id", "aepact::malformed_id"],
        "only the IDs to fill in"
    );

    let again = env.run(["init", "spring-promo"]);
    assert_eq!(again.status, 1, "never overwrites: {again}");
    let bad = env.run(["init", "Spring Promo"]);
    assert_eq!(bad.status, 1, "{bad}");
}

/// The modeline of the first line of a plan file.
fn modeline(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap();
    first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("no modeline: {first}"))
        .to_owned()
}

/// `init` wrote `$schema=../schemas/plan.schema.json`, which does not exist in a user's
/// repository (issue 12): the modeline must resolve.
#[test]
fn init_writes_a_modeline_that_resolves() {
    let schema = aepact::plan::schema::generate_text();
    let env = TestEnv::new();
    std::fs::create_dir(env.path().join(".git")).unwrap();
    let out = env.run(["init", "promo", "--out", "plans/eu/promo.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stdout
            .contains("Wrote the plan schema to `.aepact/plan.schema.json`"),
        "{out}"
    );
    let plan = env.path().join("plans/eu/promo.yaml");
    assert_eq!(modeline(&plan), "../../.aepact/plan.schema.json");
    let resolved = plan.parent().unwrap().join(modeline(&plan));
    assert_eq!(std::fs::read_to_string(resolved).unwrap(), schema);

    // A second plan finds the same file; a stale copy is refreshed.
    env.write(".aepact/plan.schema.json", "{}");
    let out = env.run(["init", "second"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        modeline(&env.path().join("second.yaml")),
        ".aepact/plan.schema.json"
    );
    assert_eq!(
        std::fs::read_to_string(env.path().join(".aepact/plan.schema.json")).unwrap(),
        schema
    );
    let out = env.run(["init", "third"]);
    assert!(
        !out.stdout.contains("plan schema"),
        "unchanged, not rewritten: {out}"
    );

    // A committed `schemas/plan.schema.json` (as in aepact's own repository) wins.
    env.write("schemas/plan.schema.json", &schema);
    let out = env.run(["init", "fourth", "--out", "plans/fourth.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        modeline(&env.path().join("plans/fourth.yaml")),
        "../schemas/plan.schema.json"
    );

    // Or a URL of the committed schema, written as given.
    let url = "https://example.com/aepact/v0.1.0/schemas/plan.schema.json";
    let out = env.run(["init", "fifth", "--schema", url]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(modeline(&env.path().join("fifth.yaml")), url);
}

#[test]
fn schema_out_writes_the_schema_file() {
    let env = TestEnv::new();
    let out = env.run(["schema", "--out", ".aepact/plan.schema.json"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(
        out.stdout,
        "Wrote the plan schema to `.aepact/plan.schema.json`.\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path().join(".aepact/plan.schema.json")).unwrap(),
        aepact::plan::schema::generate_text()
    );
    env.write("file", "");
    let out = env.run(["schema", "--out", "file/schema.json"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stderr.contains("cannot write `file/schema.json`"),
        "{out}"
    );
}

#[test]
fn completions_and_man_page() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = env.run(["completions", shell]);
        assert_eq!(out.status, 0, "{shell}: {out}");
        assert!(out.stdout.contains("validate"), "{shell}");
    }
    let man = env.run(["man"]);
    assert_eq!(man.status, 0);
    assert!(man.stdout.contains(".TH aepact 1"), "{man}");
    // Exit 75 covers the policy's time rules too (docs/policy.md), as the README says.
    let tempfail = man
        .stdout
        .split("\\fB75\\fR")
        .nth(1)
        .expect("exit 75 is listed");
    let tempfail = tempfail.split(".TP").next().unwrap();
    assert!(tempfail.contains("send windows"), "{tempfail}");
    assert!(tempfail.contains("minInterval"), "{tempfail}");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let row = readme.lines().find(|l| l.starts_with("| 75 |")).unwrap();
    assert!(
        row.contains("send windows") && row.contains("minInterval"),
        "{row}"
    );
    let out = env.run(["man", "--out-dir", "man"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(env.path().join("man/aepact-apply.1").is_file());
}

/// Every `aepact ...` command line in the GitLab template and the GitHub Action's script, with
/// their shell variables replaced by example values.
fn pipeline_commands() -> Vec<(String, String)> {
    let root = repo_root();
    let mut found = Vec::new();
    for file in [
        "examples/ci/gitlab/aepact.gitlab-ci.yml",
        "examples/ci/gitlab/.gitlab-ci.yml",
        "action.yml",
        "action/run.sh",
        "examples/ci/github/plan.yml",
        "examples/ci/github/apply.yml",
        ".github/workflows/release.yml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        if file.ends_with(".yml") {
            // The files must be plain YAML our own loader reads.
            let source = aepact::plan::SourceFile::new(file, text.clone());
            aepact::plan::load::parse(&source).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        }
        for line in text.lines() {
            let line = line
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ")
                .trim_start_matches("run_");
            // `run_aepact`'s own body passes its arguments on.
            if let Some(rest) = line
                .strip_prefix("aepact ")
                .filter(|rest| !rest.starts_with("\"$@\""))
            {
                let line = format!("aepact {rest}")
                    .replace(r#""${paths[@]}""#, "plans/")
                    .replace(r#"${args[@]+"${args[@]}"}"#, "")
                    .replace(r#""${INPUT_TIMEOUT:-30m}""#, "30m")
                    .replace(r#""$INPUT_SAVED_PLAN""#, "aepact-plan.json")
                    .replace(r#""$out""#, "aepact-plan.json")
                    .replace("$AEPACT_PATHS", "plans/");
                found.push((file.to_owned(), line));
            }
        }
    }
    found
}

/// Splits a shell command line at blanks, stopping at redirections and operators.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .take_while(|w| !matches!(*w, ">" | "|" | "||" | "&&" | ";" | "2>&1"))
        .map(|w| w.trim_matches('"').to_owned())
        .collect()
}

#[test]
fn every_pipeline_command_parses() {
    let commands = pipeline_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    for (file, line) in commands {
        let args = words(&line);
        assert!(
            !args.iter().any(|a| a.contains('$')),
            "{file}: `{line}`: give the test an example value for the variable"
        );
        match aepact::cli::Cli::try_parse_from(&args) {
            Ok(_) => {}
            Err(err) if err.kind() == clap::error::ErrorKind::DisplayVersion => {}
            Err(err) => panic!("{file}: `{line}` is not a valid aepact command line:\n{err}"),
        }
    }
}

/// The example workflows pass the Action only inputs it has, and commands it runs.
#[test]
fn example_workflows_use_the_actions_inputs() {
    let load = |file: &str| {
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        aepact::plan::load::parse(&aepact::plan::SourceFile::new(file, text))
            .unwrap()
            .value
    };
    let action = load("action.yml");
    let inputs = action["inputs"].as_object().unwrap();
    let mut uses = 0;
    for file in [
        "examples/ci/github/plan.yml",
        "examples/ci/github/apply.yml",
    ] {
        let workflow = load(file);
        for job in workflow["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                let Some(name) = step["uses"].as_str() else {
                    continue;
                };
                let (repo, pin) = name.split_once('@').unwrap();
                assert!(
                    pin.len() == 40 && pin.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{file}: `{name}` is not pinned to a full commit SHA"
                );
                if repo != "OWNER/aepact" {
                    continue;
                }
                uses += 1;
                for (key, value) in step["with"].as_object().unwrap() {
                    assert!(
                        inputs.contains_key(key),
                        "{file}: the Action has no input `{key}`"
                    );
                    if key == "command" {
                        let command = value.as_str().unwrap();
                        assert!(
                            ["validate", "plan", "apply", "status"].contains(&command),
                            "{file}: command `{command}`"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(uses, 3);
}

#[test]
fn pre_commit_hook_runs_validate() {
    let hooks = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    let source = aepact::plan::SourceFile::new(".pre-commit-hooks.yaml", hooks);
    let doc = aepact::plan::load::parse(&source).unwrap();
    let hook = &doc.value[0];
    assert_eq!(hook["id"], "aepact-validate");
    let entry = hook["entry"].as_str().unwrap();
    let mut args = words(entry);
    args.push("plan.yaml".into());
    aepact::cli::Cli::try_parse_from(&args).unwrap();
}

/// docs/ci.md documents every input and output of the Action.
#[test]
fn docs_describe_every_action_input_and_output() {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let action = aepact::plan::load::parse(&aepact::plan::SourceFile::new("action.yml", text))
        .unwrap()
        .value;
    let docs = std::fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    for section in ["inputs", "outputs"] {
        for name in action[section].as_object().unwrap().keys() {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs/ci.md does not describe the Action's {section} `{name}`"
            );
        }
    }
}
