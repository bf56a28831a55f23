//! The rough edges a new user hit (issue 12, item 7): integer-valued floats, control characters
//! in output, CR-only line endings, export IDs with leading zeros, one JUnit failure per test
//! case, SARIF URIs, compound durations and the manual's EXIT STATUS and ENVIRONMENT sections.

use clap::Parser;

use crate::common::{TestEnv, repo_root};

const DEST: &str = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const SEGMENT: &str = "db8961e9-d52f-45bc-b3fb-76d0382a6851";

/// A plan with `exports` and `run` written as given.
fn plan_with(exports: &str, run: &str) -> String {
    format!(
        "apiVersion: aepact/v1\nname: floats\nexports: {exports}\ndestinations:\n  - id: {DEST}\n    segments: [{SEGMENT}]\nrun: {run}\n"
    )
}

/// Checks a plan's text offline and returns its report.
fn check(text: &str) -> aepact::plan::FileReport {
    let source = aepact::plan::SourceFile::new("p.yaml", text);
    aepact::plan::check::check_source(&source, "p.yaml".into(), &Default::default(), true).0
}

/// The codes and `line:column` of a report's diagnostics.
fn found(report: &aepact::plan::FileReport) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let p = d.position().unwrap();
            format!("{} {}:{}", d.code, p.line, p.column)
        })
        .collect()
}

/// `run: 1.0`, `run: 1e0` and `exports: [1.1037e4]` ended in "this is a bug in aepact" at 1:1.
/// The schema says `"type": "integer"`, which counts a number with a zero fractional part as an
/// integer, so aepact reads them as integers.
#[test]
fn integer_valued_floats_are_read_as_integers() {
    for (exports, run) in [
        ("[1.1037e4]", "1.0"),
        ("[11037.0]", "1e0"),
        ("[1.1037E+4]", "2.0"),
    ] {
        let report = check(&plan_with(exports, run));
        assert!(
            report.diagnostics.is_empty(),
            "{exports} {run}: {:?}",
            found(&report)
        );
        let plan = report.plan.unwrap();
        assert_eq!(
            plan.exports,
            aepact::plan::model::Exports::Ids(vec!["11037".into()])
        );
        assert_eq!(plan.run, if run == "2.0" { 2 } else { 1 });
    }
    let env = TestEnv::new().with_file("p.yaml", plan_with("[1.1037e4]", "1.0"));
    let out = env.run(["validate", "p.yaml"]);
    assert_eq!(out.status, 0, "{out}");
}

/// Numbers that are no whole number, or too large for one, are refused at their own position.
#[test]
fn non_integers_and_huge_numbers_are_refused_where_they_are() {
    let report = check(&plan_with("latest", "1.5"));
    assert_eq!(found(&report), ["aepact::wrong_type 7:6"]);
    assert!(
        report.diagnostics[0]
            .message
            .contains("`run` must be an integer")
    );

    let report = check(&plan_with("latest", "1e20"));
    assert_eq!(found(&report), ["aepact::invalid_value 7:6"]);
    assert_eq!(
        report.diagnostics[0].message,
        "`run` must be at most 18446744073709551615, not 1e+20"
    );

    let report = check(&plan_with("[11037, 1.5, 1e25]", "1"));
    assert_eq!(
        found(&report),
        ["aepact::wrong_type 3:18", "aepact::invalid_value 3:23"]
    );
}

/// ESC and BEL in a name (written as YAML escapes) or raw in the file reached the terminal as
/// they were, even with `--color never`.
#[test]
fn control_characters_are_escaped_in_human_and_github_output() {
    let text = format!(
        "apiVersion: aepact/v1\nname: \"\\e[31mred\\a\"\nexports: latest\ndestinations:\n  - id: {DEST}\n    name: raw\u{1b}]0;title\u{7} label\n    segments: [DB8961E9-d52f-45bc-b3fb-76d0382a6851]\n"
    );
    let env = TestEnv::new().with_file("ctl.yaml", text);
    for format in ["human", "github"] {
        let out = env.run([
            "validate", "--color", "never", "--format", format, "ctl.yaml",
        ]);
        assert_eq!(out.status, 1, "{out}");
        assert!(
            !out.stdout.contains(['\u{1b}', '\u{7}']),
            "{format}: raw control characters in\n{out}"
        );
        assert!(
            out.stdout
                .contains(r"`\u{1b}[31mred\u{7}` is not a valid plan name"),
            "{format}: {out}"
        );
    }
    // The snippet draws them as control pictures, one character for one, so labels stay put.
    let out = env.run(["validate", "ctl.yaml"]);
    assert!(out.stdout.contains("name: raw␛]0;title␇ label"), "{out}");
    assert!(out.stdout.contains("[ctl.yaml:7:16]"), "{out}");
}

/// A file with CR-only line endings (classic Mac) was reported at line 0.
#[test]
fn cr_only_line_endings_give_right_positions() {
    let text = format!(
        "apiVersion: aepact/v1\rname: Bad Name\rexports: latest\rdestinations:\r  - id: {DEST}\r    segments: [{SEGMENT}]\r"
    );
    let env = TestEnv::new().with_file("cr.yaml", text);
    let out = env.run(["validate", "--format", "json", "cr.yaml"]);
    let diag = &out.json()["files"][0]["diagnostics"][0];
    assert_eq!(
        (diag["line"].as_u64(), diag["column"].as_u64()),
        (Some(2), Some(7)),
        "{out}"
    );
    let out = env.run(["validate", "cr.yaml"]);
    assert!(out.stdout.contains("[cr.yaml:2:7]"), "{out}");
    assert!(out.stdout.contains(" 2 │ name: Bad Name\n"), "{out}");
}

/// `exports: [11037, "011037"]` sent both although they name the same job.
#[test]
fn export_ids_with_leading_zeros_are_refused() {
    let report = check(&plan_with(r#"[11037, "011037"]"#, "1"));
    assert_eq!(found(&report), ["aepact::export_id_leading_zero 3:18"]);
    assert!(report.plan.is_none());
    assert_eq!(
        report.diagnostics[0].labels.len(),
        2,
        "points at the other entry too"
    );
    assert!(
        check(&plan_with(r#"[0, "0", 10]"#, "1")).diagnostics.len() == 1,
        "`0` alone is fine"
    );
}

/// JUnit allows one `<failure>` per test case; two errors in one file made two.
#[test]
fn junit_has_one_failure_per_testcase() {
    let two_errors = format!(
        "apiVersion: aepact/v1\nname: Bad Name\nexports: latest\ndestinations:\n  - id: {DEST}\n    segments: [{SEGMENT}, not-an-id]\n"
    );
    let env = TestEnv::new()
        .with_file("two.yaml", two_errors)
        .with_file("ok.yaml", plan_with("latest", "1"));
    let out = env.run(["validate", "--format", "junit", "two.yaml", "ok.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    for case in out.stdout.split("<testcase").skip(1) {
        assert!(case.matches("<failure").count() <= 1, "{case}");
    }
    assert_eq!(out.stdout.matches("<failure").count(), 1, "{out}");
    assert!(
        out.stdout.contains(r#"message="2 errors; the first: "#),
        "{out}"
    );
    assert!(
        out.stdout.contains("[aepact::invalid_name]")
            && out.stdout.contains("[aepact::malformed_id]"),
        "{out}"
    );
}

/// SARIF artifact URIs are percent-encoded and relative to `%SRCROOT%`.
#[test]
fn sarif_uris_are_percent_encoded_with_a_base() {
    let env = TestEnv::new().with_file(
        "plans/black friday #1.yaml",
        plan_with("latest", "1").replace("name: floats", "name: Bad Name"),
    );
    let out = env.run([
        "validate",
        "--format",
        "sarif",
        "plans/black friday #1.yaml",
    ]);
    let sarif = out.json();
    let run = &sarif["runs"][0];
    let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "plans/black%20friday%20%231.yaml", "{out}");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
}

/// `--timeout 1h30m` was refused.
#[test]
fn compound_durations_are_accepted() {
    for line in [
        "aepact status --wait --timeout 1h30m plans/",
        "aepact apply --lock-timeout 1m30s plans/",
    ] {
        aepact::cli::Cli::try_parse_from(line.split(' '))
            .unwrap_or_else(|e| panic!("`{line}`: {e}"));
    }
    let out = TestEnv::new().run(["status", "--timeout", "30m1h", "x.yaml"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("from hours down to milliseconds"),
        "{out}"
    );
}

/// `aepact man` has EXIT STATUS and ENVIRONMENT sections, and the latter names every variable
/// aepact reads (tests-only ones aside).
#[test]
fn man_page_has_exit_status_and_environment() {
    let env = TestEnv::new();
    let man = env.run(["man"]).stdout;
    let exit = man
        .find(".SH \"EXIT STATUS\"")
        .expect("EXIT STATUS section");
    let environment = man.find(".SH ENVIRONMENT").expect("ENVIRONMENT section");
    assert!(exit < environment && environment < man.find(".SH VERSION").unwrap());
    for code in ["0", "1", "2", "75"] {
        assert!(
            man[exit..environment].contains(&format!("\\fB{code}\\fR")),
            "{code}"
        );
    }
    let section = &man[environment..];
    let mut names = std::collections::BTreeSet::new();
    collect_env_names(&repo_root().join("src"), &mut names);
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        assert!(
            section.contains(&format!("\\fB{}\\fR", name.replace('-', "\\-"))),
            "the manual's ENVIRONMENT section does not list `{name}`"
        );
    }
    let out = env.run(["man", "--out-dir", "man"]);
    assert_eq!(out.status, 0, "{out}");
    let plan_page = std::fs::read_to_string(env.path().join("man/aepact-plan.1")).unwrap();
    assert!(plan_page.contains(".SH \"EXIT STATUS\""));
}

/// Every `"AEP_…"` / `"AEPACT_…"` string and `env::var("…")` name in the source, except the
/// test-only `AEPACT_TEST_*`.
fn collect_env_names(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_env_names(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let end = rest.find('"').unwrap_or(0);
            let word = &rest[..end];
            let is_name = !word.is_empty()
                && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                && (word.starts_with("AEP_") || word.starts_with("AEPACT_"))
                && !word.starts_with("AEPACT_TEST_")
                && word != "AEPACT_UPDATE_GOLDEN";
            let read_by_env =
                text[..i].ends_with("env::var(") || text[..i].ends_with("env::var_os(");
            if is_name || (read_by_env && !word.is_empty() && !word.starts_with("AEPACT_TEST_")) {
                out.insert(word.to_owned());
            }
        }
    }
}

/// The same for `plan`: a file name (or a name from the platform) cannot reach the terminal raw.
#[test]
fn control_characters_are_escaped_in_plan_output() {
    let online = crate::apply::Online::new();
    let example = std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap();
    let name = "plans/esc\u{1b}[2J\u{7}.yaml";
    online.env.write(name, example);
    for format in ["human", "github"] {
        let out = online.run(&["plan", "--format", format, name]);
        assert_eq!(out.status, 0, "{out}");
        assert!(!out.stdout.contains(['\u{1b}', '\u{7}']), "{format}: {out}");
        assert!(
            out.stdout.contains(r"esc\u{1b}[2J\u{7}.yaml"),
            "{format}: {out}"
        );
    }
}

/// An empty flag variable is unset, as every other variable of aepact is, not "the flag given
/// without its value"; a wrong one names the variable too.
#[test]
fn empty_flag_variables_are_unset() {
    let env = TestEnv::new()
        .with_file("plans/flash-sale.yaml", fixture_example())
        .with_env("AEPACT_CONCURRENCY", "")
        .with_env("AEP_ADHOC_API_VERSION", "");
    let out = env.run(["plan", "--emulator", "plans/flash-sale.yaml"]);
    assert_eq!(out.status, 0, "{out}");
    let env = env.with_env("AEPACT_CONCURRENCY", "0");
    let out = env.run(["plan", "--emulator", "plans/flash-sale.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("AEPACT_CONCURRENCY"), "{out}");
}

fn fixture_example() -> String {
    std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap()
}
