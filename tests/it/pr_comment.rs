//! The PR comment always says something (issue 12, item 6): when the offline checks fail,
//! `plan --format markdown` prints the problems in the comment, and `--format json` the
//! `validate` report, instead of an empty stdout.

use std::path::PathBuf;

use aepact::plan::{CheckOptions, check_paths};

use crate::common::{TestEnv, fixture, plan, segment_id};

/// Two invalid files and a valid one, checked as `plan` checks them.
fn invalid_report(env: &TestEnv) -> aepact::plan::CheckReport {
    env.write("plans/dup.yaml", fixture("duplicate_segment.yaml"));
    env.write("plans/bad|name.yaml", fixture("invalid_name.yaml"));
    env.write("plans/ok.yaml", plan("ok", &[&segment_id(1)]));
    let paths: Vec<PathBuf> = ["plans/bad|name.yaml", "plans/dup.yaml", "plans/ok.yaml"]
        .iter()
        .map(|p| env.path().join(p))
        .collect();
    check_paths(&paths, &CheckOptions::default(), true)
}

#[test]
fn markdown_comment_lists_every_problem_with_file_line_and_code() {
    let env = TestEnv::new();
    let report = invalid_report(&env);
    assert!(!report.is_valid());
    let root = format!("{}/", env.path().display());
    let comment = aepact::output::plan::markdown_problems(&report).replace(&root, "");
    assert!(comment.starts_with("<!-- aepact:plan -->\n"), "{comment}");
    insta::assert_snapshot!(comment);
}

#[test]
fn markdown_comment_stays_under_the_budget() {
    let env = TestEnv::new();
    let mut text =
        String::from("apiVersion: aepact/v1\nname: many\nexports: latest\ndestinations:\n");
    for d in 0..2_000 {
        text.push_str(&format!(
            "  - id: not-a-uuid-{d}\n    segments: [also-not-{d}]\n"
        ));
    }
    env.write("many.yaml", &text);
    let report = check_paths(
        &[env.path().join("many.yaml")],
        &CheckOptions::default(),
        true,
    );
    assert_eq!(report.errors(), 4_000);
    let comment = aepact::output::plan::markdown_problems(&report);
    assert!(
        comment.len() <= aepact::output::plan::MARKDOWN_BUDGET,
        "{}",
        comment.len()
    );
    assert!(
        comment.contains("more problems left out"),
        "{}",
        &comment[comment.len() - 300..]
    );
}

/// End to end through `aepact plan`. Ignored until `commands::plan::run` calls
/// `online::checked_plans_for(&args.paths, &options, style, args.format)` instead of
/// `checked_plans(.., human)` (a file of the plan/apply rework, wired by its owner).
#[test]
fn plan_prints_the_problems_in_every_format() {
    let env = TestEnv::new().with_file("dup.yaml", fixture("duplicate_segment.yaml"));
    let out = env.run(["plan", "--format", "markdown", "--emulator", "dup.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.starts_with("<!-- aepact:plan -->\n"), "{out}");
    assert!(out.stdout.contains("`aepact::duplicate_segment`"), "{out}");
    assert!(
        out.stderr.contains("listed again here"),
        "human rendering for the log: {out}"
    );

    let out = env.run(["plan", "--format", "json", "--emulator", "dup.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    let json = out.json();
    assert_eq!(json["valid"], false);
    assert_eq!(
        json["files"][0]["diagnostics"][0]["code"],
        "aepact::duplicate_segment"
    );

    let out = env.run(["plan", "--format", "github", "--emulator", "dup.yaml"]);
    assert!(
        out.stdout.starts_with("::error file=dup.yaml,line=10"),
        "{out}"
    );
}
