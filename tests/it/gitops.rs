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
    ::notice file=plans/flash-sale.yaml,title=aepact plan::plan `black-friday-flash-sale` will send 1 job with 2 segments to 2 destinations in sandbox `prod` (3 added, 0 removed since the last apply)
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
    let out = env.run(["man", "--out-dir", "man"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(env.path().join("man/aepact-apply.1").is_file());
}

/// Every `aepact ...` command line in the example pipelines, as written.
fn pipeline_commands() -> Vec<(String, String)> {
    let dir = repo_root().join("examples/ci");
    let mut found = Vec::new();
    for file in [
        "github/plan.yml",
        "github/apply.yml",
        "gitlab/.gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        // The files must be plain YAML our own loader reads.
        let source = aepact::plan::SourceFile::new(file, text.clone());
        aepact::plan::load::parse(&source).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        for line in text.lines() {
            let line = line
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ");
            if let Some(rest) = line.strip_prefix("aepact ") {
                found.push((file.to_owned(), format!("aepact {rest}")));
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
    assert!(commands.len() >= 8, "{commands:?}");
    for (file, line) in commands {
        let args = words(&line);
        if let Err(err) = aepact::cli::Cli::try_parse_from(&args) {
            panic!("{file}: `{line}` is not a valid aepact command line:\n{err}");
        }
    }
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
