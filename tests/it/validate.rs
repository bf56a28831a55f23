//! `aepact validate`: rendered diagnostics for every code, output formats, exit codes and the
//! guardrail options.

use crate::common::{TestEnv, fixture, plan, segment_id};

/// Runs `validate` on one fixture and returns the output (human format).
fn validate_fixture(name: &str) -> String {
    let env = TestEnv::new().with_file(name, fixture(name));
    env.run(["validate", name]).to_string()
}

macro_rules! fixture_snapshot {
    ($($test:ident => $file:literal,)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(validate_fixture($file));
        }
    )*};
}

fixture_snapshot! {
    reports_unknown_keys_with_suggestions => "unknown_key.yaml",
    reports_missing_keys => "missing_key.yaml",
    reports_wrong_types => "wrong_type.yaml",
    reports_invalid_values => "invalid_value.yaml",
    reports_invalid_name_with_a_slug => "invalid_name.yaml",
    reports_malformed_ids => "malformed_id.yaml",
    reports_empty_lists => "empty_list.yaml",
    reports_missing_exports_under_v1 => "missing_exports.yaml",
    reports_duplicate_export => "duplicate_export.yaml",
    reports_export_id_leading_zero => "export_id_leading_zero.yaml",
    reports_duplicate_destination => "duplicate_destination.yaml",
    reports_duplicate_segment => "duplicate_segment.yaml",
    reports_expect_bounds_no_number_meets => "expect_bounds.yaml",
    reports_yaml_syntax_errors => "yaml_syntax.yaml",
    reports_tabs_in_indentation => "tabs.yaml",
    reports_duplicate_keys => "duplicate_key.yaml",
    reports_multiple_documents => "multiple_documents.yaml",
    reports_unsupported_yaml => "unsupported_yaml.yaml",
}

fn many_segments(name: &str, count: usize) -> String {
    let ids: Vec<String> = (0..count).map(segment_id).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    plan(name, &refs)
}

#[test]
fn refuses_more_than_20_segments_per_job_under_v1() {
    let env = TestEnv::new().with_file("big.yaml", many_segments("big", 21));
    insta::assert_snapshot!(env.run(["validate", "big.yaml"]));
}

#[test]
fn counts_distinct_segments_across_destinations() {
    // 15 + 15 segments, 10 shared: 20 distinct, which fits one v1 job.
    let mut text = many_segments("shared", 15);
    text.push_str("  - id: 3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e\n    segments:\n");
    for n in 5..20 {
        text.push_str(&format!("      - {}\n", segment_id(n)));
    }
    let env = TestEnv::new().with_file("shared.yaml", text);
    let out = env.run(["validate", "shared.yaml"]);
    assert_eq!(out.status, 0, "{out}");
}

#[test]
fn api_version_2_allows_80_segments_and_no_exports() {
    let env = TestEnv::new()
        .with_file("big.yaml", many_segments("big", 80))
        .with_file(
            "no-exports.yaml",
            fixture("missing_exports.yaml").replace("no-exports", "no-exports-v2"),
        );
    let out = env.run([
        "validate",
        "--api-version",
        "2",
        "big.yaml",
        "no-exports.yaml",
    ]);
    assert_eq!(out.status, 0, "{out}");
    let env = env.with_file("bigger.yaml", many_segments("bigger", 81));
    let out = env.run(["validate", "--api-version", "2", "bigger.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout
            .contains("one job allows at most 80 (ad-hoc API version 2)"),
        "{out}"
    );
}

#[test]
fn api_version_comes_from_the_environment_too() {
    let env = TestEnv::new()
        .with_file("big.yaml", many_segments("big", 30))
        .with_env("AEP_ADHOC_API_VERSION", "2");
    let out = env.run(["validate", "big.yaml"]);
    assert_eq!(out.status, 0, "{out}");
}

#[test]
fn max_segments_per_job_overrides_the_limit() {
    let env = TestEnv::new().with_file("five.yaml", many_segments("five", 5));
    let out = env.run(["validate", "--max-segments-per-job", "4", "five.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout
            .contains("one job allows at most 4 (`--max-segments-per-job`)"),
        "{out}"
    );
    let out = env.run(
        [
            "validate",
            "--max-segments-per-job",
            "30",
            "--api-version",
            "1",
        ]
        .into_iter()
        .chain(["five.yaml"]),
    );
    assert_eq!(out.status, 0, "{out}");
    let out = env.run(["validate", "--max-segments-per-job", "0", "five.yaml"]);
    assert_eq!(out.status, 1, "a zero limit is a usage error: {out}");
}

#[test]
fn split_packs_whole_segments_into_jobs() {
    let mut text = many_segments("split-me", 45);
    // A second destination shares the first and last segments: they must stay whole.
    text.push_str("  - id: 3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e\n    segments:\n");
    text.push_str(&format!(
        "      - {}\n      - {}\n",
        segment_id(44),
        segment_id(0)
    ));
    let env = TestEnv::new().with_file("split.yaml", text);
    let out = env.run(["validate", "--split", "split.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    insta::assert_snapshot!(out);

    let json = env
        .run(["validate", "--split", "--format", "json", "split.yaml"])
        .json();
    let jobs = json["files"][0]["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3);
    let sizes: Vec<usize> = jobs
        .iter()
        .map(|j| j["segments"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [20, 20, 5]);
    // Every segment in exactly one job.
    let mut all: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j["segments"].as_array().unwrap())
        .map(|s| s.as_str().unwrap())
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 45);
    // Job 1 holds segment 0, which goes to both destinations; job 3 holds segment 44, likewise.
    assert_eq!(jobs[0]["destinations"].as_array().unwrap().len(), 2);
    assert_eq!(jobs[1]["destinations"].as_array().unwrap().len(), 1);
    assert_eq!(jobs[2]["destinations"].as_array().unwrap().len(), 2);
}

#[test]
fn reports_duplicate_plan_names_across_files() {
    let env = TestEnv::new()
        .with_file("a.yaml", plan("same-name", &[&segment_id(1)]))
        .with_file("b.yaml", plan("same-name", &[&segment_id(2)]));
    insta::assert_snapshot!(env.run(["validate", "a.yaml", "b.yaml"]));
}

#[test]
fn warns_when_two_plans_activate_the_same_segment() {
    let env = TestEnv::new()
        .with_file("a.yaml", plan("plan-a", &[&segment_id(1), &segment_id(2)]))
        .with_file(
            "b.yaml",
            plan("plan-b", &[&segment_id(3), &segment_id(2), &segment_id(1)]),
        );
    let out = env.run(["validate", "a.yaml", "b.yaml"]);
    assert_eq!(
        out.status, 0,
        "warnings alone keep the exit status 0: {out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn reports_every_problem_of_every_file_in_one_run() {
    let env = TestEnv::new()
        .with_file("plans/a.yaml", fixture("duplicate_segment.yaml"))
        .with_file("plans/nested/b.yml", fixture("unknown_key.yaml"))
        .with_file("plans/nested/c.yaml", fixture("valid/minimal.yaml"))
        .with_file("plans/notes.txt", "not a plan");
    let out = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(out.status, 1);
    let json = out.json();
    let files: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["plans/a.yaml", "plans/nested/b.yml", "plans/nested/c.yaml"]
    );
    // unknown_key.yaml: 4 unknown keys and the missing `apiVersion`; a.yaml: 1 duplicate.
    assert_eq!(json["summary"]["errors"], 6);
    assert_eq!(json["summary"]["invalid"], 2);
}

#[test]
fn json_format_is_one_stable_document() {
    let env = TestEnv::new()
        .with_file("dup.yaml", fixture("duplicate_segment.yaml"))
        .with_file("ok.yaml", fixture("valid/minimal.yaml"));
    let out = env.run([
        "validate",
        "--format",
        "json",
        "dup.yaml",
        "ok.yaml",
        "missing.yaml",
    ]);
    assert_eq!(out.status, 1);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn github_format_prints_workflow_commands() {
    let env = TestEnv::new()
        .with_file("dup.yaml", fixture("duplicate_segment.yaml"))
        .with_file("a.yaml", plan("plan-a", &[&segment_id(1)]))
        .with_file("b.yaml", plan("plan-b", &[&segment_id(1)]));
    let out = env.run([
        "validate", "--format", "github", "dup.yaml", "a.yaml", "b.yaml",
    ]);
    assert_eq!(out.status, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn valid_plans_exit_zero_with_a_summary() {
    let env = TestEnv::new()
        .with_file("a.yaml", fixture("valid/minimal.yaml"))
        .with_file("b.yaml", fixture("valid/anchors.yaml"))
        .with_file("c.yaml", fixture("valid/unicode.yaml"));
    insta::assert_snapshot!(env.run(["validate", "."]), @r"
    ----- stdout -----
    ok: 3 plan files valid
    [exit status: 0]
    ");
}

#[test]
fn output_is_the_same_whatever_order_workers_finish_in() {
    let mut env = TestEnv::new();
    for n in 0..40 {
        let text = if n % 7 == 3 {
            fixture("duplicate_segment.yaml").replace("duplicate-segment", &format!("p{n}"))
        } else {
            plan(&format!("p{n}"), &[&segment_id(n)])
        };
        env = env.with_file(&format!("plans/p{n:02}.yaml"), text);
    }
    let first = env.run(["validate", "plans"]).to_string();
    for _ in 0..3 {
        assert_eq!(env.run(["validate", "plans"]).to_string(), first);
    }
    assert!(first.contains("6 of 40 plan files invalid"), "{first}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::new().with_file("dup.yaml", fixture("duplicate_segment.yaml"));
    // Not a terminal: no escape codes, even without NO_COLOR.
    let plain = env
        .command(["validate", "dup.yaml"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
    // `--color always` wins, even over NO_COLOR.
    let always = env.run(["--color", "always", "validate", "dup.yaml"]);
    assert!(always.stdout.contains('\u{1b}'), "{always}");
    let never = env.run(["validate", "--color", "never", "dup.yaml"]);
    assert!(!never.stdout.contains('\u{1b}'), "{never}");
}

#[test]
fn usage_errors_exit_one() {
    let env = TestEnv::new();
    let out = env.run(["validate"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("PATH"), "{out}");
    let out = env.run(["validate", "--format", "yaml", "x.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    let out = env.run(["--help"]);
    assert_eq!(out.status, 0, "{out}");
}

/// Every diagnostic code appears in at least one golden file under `tests/it/snapshots/`, as
/// docs/validate.md says, so each has a rendered example that review can read (issue 14,
/// point 15: `no_plans`, `unreadable` and `file_too_large` were only inline snapshots).
#[test]
fn every_code_has_a_rendered_example() {
    let dir = crate::common::repo_root().join("tests/it/snapshots");
    let mut all = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            all.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let missing: Vec<&str> = aepact::plan::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| {
            // Human output puts the code on a line of its own; JSON quotes it; GitHub escapes it.
            let human = format!("{c}\n");
            let json = format!("\"{c}\"");
            let github = format!("title={}", c.replace(':', "%3A"));
            ![human, json, github]
                .iter()
                .any(|form| all.contains(form.as_str()))
        })
        .collect();
    assert!(missing.is_empty(), "no golden output shows {missing:?}");
}

#[test]
fn a_file_named_and_inside_a_named_directory_is_checked_once() {
    let env = TestEnv::new().with_file("plans/a.yaml", fixture("valid/minimal.yaml"));
    let out = env.run(["validate", "plans/a.yaml", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("ok: 1 plan file valid"), "{out}");
}

/// `validate` writes the human and github reports file by file and renders a file's own
/// problems as soon as it is checked (issue 13); a problem found across plans later must still
/// take its place among them, in line order, as in the JSON report.
#[test]
fn problems_found_across_plans_join_a_files_own_in_line_order() {
    let (one, two) = (segment_id(1), segment_id(2));
    let env = TestEnv::new()
        .with_file("plans/a.yaml", plan("alpha", &[&one]))
        // Line 2: the name `a.yaml` already uses; lines 7-8: a segment listed twice.
        .with_file("plans/b.yaml", plan("alpha", &[&two, &two]));

    let json = env.run(["validate", "--format", "json", "plans"]);
    assert_eq!(
        json.codes(1),
        ["aepact::duplicate_name", "aepact::duplicate_segment"]
    );

    let human = env.run(["validate", "plans"]);
    assert_eq!(human.status, 1, "{human}");
    let name = human
        .stdout
        .find("aepact::duplicate_name")
        .expect("duplicate_name");
    let segment = human
        .stdout
        .find("aepact::duplicate_segment")
        .expect("duplicate_segment");
    assert!(name < segment, "{human}");
    assert!(human.stdout.contains("[plans/b.yaml:2:7]"), "{human}");
    assert!(
        human
            .stdout
            .ends_with("error: 1 of 2 plan files invalid (2 errors)\n"),
        "{human}"
    );

    let github = env.run(["validate", "--format", "github", "plans"]);
    let titles: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error file=plans/b.yaml"))
        .filter_map(|l| l.split(",title=").nth(1)?.split("::").next())
        .collect();
    assert_eq!(
        titles,
        [
            "aepact%3A%3Aduplicate_name",
            "aepact%3A%3Aduplicate_segment"
        ],
        "{github}"
    );
}

/// A run whose files with problems render past the memory budget (256 KiB) writes them to an
/// unnamed temporary file in `TMPDIR`, which leaves nothing behind; with no usable temporary
/// directory it holds them in memory instead; the report is the same either way, in every
/// format (docs/validate.md, "Memory and the temporary file").
#[test]
fn a_large_run_spills_to_an_unnamed_temporary_file_or_holds_what_it_cannot_write() {
    let env = TestEnv::new();
    let mut text = plan("p", &[&segment_id(1)]);
    for k in 0..12 {
        text.push_str(&format!("unknownKeyNumber{k:02}: true\n"));
    }
    for i in 0..200 {
        let body = text.replace("name: p\n", &format!("name: plan-{i}\n"));
        env.write(&format!("plans/p{i:03}.yaml"), body);
    }
    let tmp = env.write("tmp/.keep", "");
    let tmp = tmp.parent().unwrap();
    std::fs::remove_file(tmp.join(".keep")).unwrap();
    let listing = || std::fs::read_dir(tmp).unwrap().count();

    let run = |tmpdir: &std::path::Path| {
        let out = env
            .command(["-vv", "validate", "plans"])
            .env("TMPDIR", tmpdir)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (status, spilled, log) = run(tmp);
    assert_eq!(status, Some(1), "{log}");
    assert!(
        spilled.ends_with("error: 200 of 200 plan files invalid (2400 errors)\n"),
        "{spilled}"
    );
    assert!(
        log.contains("bytes of what the run held went to its temporary file"),
        "{log}"
    );
    assert_eq!(listing(), 0, "the temporary file is left behind");

    let (status, held, log) = run(&tmp.join("missing"));
    assert_eq!(status, Some(1), "{log}");
    assert!(
        log.contains("no temporary file, holding everything in memory"),
        "{log}"
    );
    assert!(!log.contains("went to its temporary file"), "{log}");
    assert_eq!(held, spilled);

    // The machine documents keep their entries past the budget too, and read the same.
    for format in ["json", "sarif", "junit"] {
        let run = |tmpdir: &std::path::Path| {
            let out = env
                .command(["validate", "--format", format, "plans"])
                .env("TMPDIR", tmpdir)
                .output()
                .unwrap();
            (out.status.code(), String::from_utf8(out.stdout).unwrap())
        };
        let (status, spilled) = run(tmp);
        assert_eq!(status, Some(1), "{format}");
        assert_eq!(listing(), 0, "{format}: the temporary file is left behind");
        let (status, held) = run(&tmp.join("missing"));
        assert_eq!(status, Some(1), "{format}");
        assert_eq!(held, spilled, "{format}");
        match format {
            "json" => {
                let json: serde_json::Value = serde_json::from_str(&spilled).unwrap();
                assert_eq!(json["summary"]["files"], 200);
                assert_eq!(json["summary"]["errors"], 2400);
                assert_eq!(json["files"][199]["path"], "plans/p199.yaml");
            }
            "sarif" => {
                let sarif: serde_json::Value = serde_json::from_str(&spilled).unwrap();
                assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2400);
            }
            _ => {
                assert!(
                    spilled.contains("tests=\"200\" failures=\"200\""),
                    "{spilled}"
                );
                assert_eq!(spilled.matches("<testcase ").count(), 200);
            }
        }
    }
}
