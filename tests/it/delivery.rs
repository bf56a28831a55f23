//! Proof of delivery (issue 11 §4): `status` records each finished run's numbers and shows the
//! platform's errors of failed runs, plans' `expect` bounds mark orders `unexpected` (exit 1),
//! runs record who applied them, and `aepact log` prints the history from the lockfiles alone,
//! in every format.

use serde_json::Value;

use crate::apply::{LOCK, Online, PLAN};
use crate::common::TestEnv;
use crate::emulator::{ADDRESS, CATALOG, DIRECT_MAIL, EMAIL, GOLD, SILVER};

/// Applies the (edited) flash-sale plan and polls it once: the emulator's runs finish at once.
fn applied(o: &Online) {
    let out = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(out.status, 0, "{out}");
}

#[test]
fn status_records_bytes_and_segment_counts_and_who_applied() {
    let o = Online::new();
    let o = Online {
        env: o
            .env
            .with_env("USER", "ci-runner")
            .with_env("GITHUB_ACTOR", "octocat"),
        api: o.api,
    };
    applied(&o);
    let out = o.run(&["status", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    let lock = o.lockfile();
    assert_eq!(lock["lockfileVersion"], 3);
    assert_eq!(lock["runs"][0]["appliedBy"], "octocat");
    let order = &lock["runs"][0]["jobs"][0]["orders"][0];
    assert_eq!(order["segment"], GOLD);
    assert_eq!(order["status"], "success");
    let metrics = &order["metrics"];
    assert_eq!(metrics["outputRecords"], 48210);
    assert_eq!(metrics["outputBytes"], 48210 * 120);
    assert_eq!(metrics["segment"]["outputRecords"], 48210);
    assert!(order["startedAt"].is_string() && order["finishedAt"].is_string());
}

#[test]
fn a_run_records_no_actor_when_none_is_known() {
    let o = Online::new();
    applied(&o);
    assert_eq!(o.lockfile()["runs"][0]["appliedBy"], Value::Null);
    let o = Online::new();
    let o = Online {
        env: o
            .env
            .with_env("GITLAB_USER_LOGIN", "tanuki")
            .with_env("USER", "ci"),
        api: o.api,
    };
    applied(&o);
    assert_eq!(o.lockfile()["runs"][0]["appliedBy"], "tanuki");
}

#[test]
fn status_shows_the_platforms_errors_of_failed_and_partial_runs_by_default() {
    let o = Online::new();
    o.edit_plan(
        "      - db8961e9-d52f-45bc-b3fb-76d0382a6851   # bare ID is fine",
        &format!("      - {CATALOG}\n      - {ADDRESS}"),
    );
    applied(&o);
    let out = o.run(&["status", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout.contains(&format!(
            "  failed: segment `{CATALOG}` to `{DIRECT_MAIL}` (run 1): 0 records exported, 5120 failed\n    DEST-ADH-500: The destination rejected all 5120 records of segment {CATALOG}.\n"
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "  partialSuccess: segment `{ADDRESS}` to `{DIRECT_MAIL}` (run 1): 3969 records exported, 441 failed\n    DEST-ADH-207: The destination rejected 441 of 4410 records of segment {ADDRESS}.\n"
        )),
        "{out}"
    );
    let json = o.run(&["status", "--format", "json", PLAN]).json();
    let failed = &json["plans"][0]["failedOrders"];
    assert_eq!(failed.as_array().unwrap().len(), 2, "{json}");
    assert_eq!(failed[0]["errors"][0]["code"], "DEST-ADH-500");
}

#[test]
fn expectations_met_pass_and_broken_ones_mark_the_order_unexpected() {
    let o = Online::new();
    o.edit_plan(
        "        name: Loyalty gold\n",
        "        name: Loyalty gold\n        expect: {minRecords: 100000}\n",
    );
    o.edit_plan(
        "        name: Loyalty silver\n",
        "        name: Loyalty silver\n        expect: {minRecords: 1, maxRecords: 200000}\n",
    );
    o.edit_plan(
        "    name: Direct mail partner (S3)\n",
        "    name: Direct mail partner (S3)\n    expect: {maxRecords: 50000}\n",
    );
    applied(&o);
    let out = o.run(&["status", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout.contains(&format!(
            "  unexpected: segment `{GOLD}` to `{EMAIL}` (run 1): exported 48210 records, the plan expects at least 100000\n"
        )),
        "{out}"
    );
    assert_eq!(out.stdout.matches("unexpected: ").count(), 1, "{out}");
    assert!(
        out.stdout
            .contains("plans/flash-sale.yaml: 2 succeeded, 0 failed, 0 in flight, 1 unexpected\n"),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "Status: 1 of 3 orders unexpected (the numbers break the plan's `expect`).\n"
        ),
        "{out}"
    );
    let json = o.run(&["status", "--format", "json", PLAN]).json();
    assert_eq!(json["exitCode"], 1);
    assert_eq!(json["totals"]["unexpected"], 1);
    let unexpected = &json["plans"][0]["unexpectedOrders"][0];
    assert_eq!(unexpected["segment"], GOLD);
    assert_eq!(unexpected["exported"], 48210);
    assert_eq!(unexpected["minRecords"], 100000);

    // `expect` is not part of the intent: loosening it sends nothing and status passes.
    o.edit_plan(
        "expect: {minRecords: 100000}",
        "expect: {minRecords: 48210}",
    );
    let posts = o.posts();
    let again = o.run(&["apply", "--auto-approve", PLAN]);
    assert_eq!(again.status, 0, "{again}");
    assert_eq!(o.posts(), posts, "{again}");
    let out = o.run(&["status", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stdout.contains("Status: all 3 orders succeeded."),
        "{out}"
    );
}

#[test]
fn a_destination_expectation_compares_the_records_of_all_its_runs() {
    let o = Online::new();
    o.edit_plan(
        "    name: Email vendor (SFTP)\n",
        "    name: Email vendor (SFTP)\n    expect: {minRecords: 10, maxRecords: 100000}\n",
    );
    applied(&o);
    let out = o.run(&["status", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    // 48210 (gold) + 120544 (silver), two runs of the email dataflow.
    assert!(
        out.stdout.contains(&format!(
            "  unexpected: destination `{EMAIL}` (run 1): exported 168754 records in all, the plan expects at most 100000\n"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("1 succeeded, 0 failed, 0 in flight, 2 unexpected"),
        "{out}"
    );
}

/// `aepact log` with no `AEP_*` variable at all, so it cannot reach a platform.
fn log(o: &Online, args: &[&str]) -> crate::common::Output {
    let mut cmd = o.env.command(["log"].iter().chain(args));
    for key in [
        "AEP_PLATFORM_URL",
        "AEP_IMS_URL",
        "AEP_ORG_ID",
        "AEP_CLIENT_ID",
        "AEP_CLIENT_SECRET",
    ] {
        cmd.env_remove(key);
    }
    let out = cmd.output().unwrap();
    crate::common::Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

#[test]
fn log_prints_the_history_in_every_format() {
    let o = Online::new();
    let o = Online {
        env: o.env.with_env("GITHUB_ACTOR", "Doe, \"J\" | ops"),
        api: o.api,
    };
    applied(&o);
    assert_eq!(o.run(&["status", PLAN]).status, 0);

    let human = log(&o, &["plans/"]);
    assert_eq!(human.status, 0, "{human}");
    assert!(
        human
            .stdout
            .contains("  black-friday-flash-sale run 1  prod on http://127.0.0.1:"),
        "{human}"
    );
    assert!(human.stdout.contains(" by Doe, \"J\" | ops\n"), "{human}");
    assert!(
        human.stdout.contains(&format!(
            "  success               48210 records  segment {GOLD} to {EMAIL}\n"
        )),
        "{human}"
    );
    assert!(
        human.stdout.ends_with("3 entries from 1 lockfile.\n"),
        "{human}"
    );

    let json: Value = serde_json::from_str(&log(&o, &["--format", "json"]).stdout).unwrap();
    assert_eq!(json["aepactLogVersion"], 1);
    assert_eq!(json["lockfiles"], serde_json::json!([LOCK]));
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["segment"], SILVER);
    assert_eq!(entries[1]["records"], 120544);
    assert_eq!(entries[1]["appliedBy"], "Doe, \"J\" | ops");
    assert_eq!(entries[1]["outcome"], "success");
    assert_eq!(entries[1]["plan"], "black-friday-flash-sale");

    let csv = log(&o, &["--format", "csv", PLAN]).stdout;
    let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert_eq!(
        rows[0],
        "at,plan,lockfile,run,endpoint,org,sandbox,appliedBy,destination,segment,outcome,records,failedRecords,runId,finishedAt"
    );
    assert!(
        rows[1].contains(&format!(
            ",prod,\"Doe, \"\"J\"\" | ops\",{EMAIL},{GOLD},success,48210,0,"
        )),
        "{csv}"
    );

    let markdown = log(&o, &["--format", "markdown"]).stdout;
    let lines: Vec<&str> = markdown.lines().collect();
    assert_eq!(lines.len(), 5, "{markdown}");
    assert_eq!(
        lines[0],
        "| when | plan | run | sandbox | by | destination | segment | outcome | records |"
    );
    assert!(
        lines[4].ends_with(&format!(
            "| black-friday-flash-sale | 1 | prod | Doe, \"J\" \\| ops | {DIRECT_MAIL} | {GOLD} | success | 48210 |"
        )),
        "{markdown}"
    );

    // Filters.
    let only = |args: &[&str]| {
        let out = log(&o, &[&["--format", "json"], args].concat());
        assert_eq!(out.status, 0, "{out}");
        serde_json::from_str::<Value>(&out.stdout).unwrap()["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(only(&["--segment", SILVER]), 1);
    assert_eq!(only(&["--segment", &GOLD.to_uppercase()]), 2);
    assert_eq!(only(&["--destination", DIRECT_MAIL]), 1);
    assert_eq!(only(&["--destination", EMAIL, "--segment", GOLD]), 1);
    assert_eq!(only(&["--since", "1d"]), 3);
    assert_eq!(only(&["--since", "2099-01-01"]), 0);
    let none = log(&o, &["--since", "2099-01-01T00:00:00Z"]);
    assert_eq!(
        none.stdout, "No activations recorded in 1 lockfile.\n",
        "{none}"
    );
    let bad = log(&o, &["--since", "yesterday"]);
    assert_eq!(bad.status, 1, "{bad}");
    assert!(bad.stderr.contains("`yesterday` is not a time"), "{bad}");
}

#[test]
fn log_needs_no_credentials_and_no_platform() {
    let o = Online::new();
    applied(&o);
    let requests = || {
        let log = o.api.admin("GET", "requests", None);
        log.as_array()
            .or_else(|| log["requests"].as_array())
            .map_or(0, Vec::len)
    };
    let before = requests();
    let out = log(&o, &[]);
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stdout.ends_with("3 entries from 1 lockfile.\n"),
        "{out}"
    );
    assert_eq!(requests(), before, "log made a platform call");
    let missing = log(&o, &["nowhere/"]);
    assert_eq!(missing.status, 1, "{missing}");
    assert!(missing.stderr.contains("aepact::log_path"), "{missing}");
    assert!(
        missing.stderr.contains("`nowhere/` does not exist"),
        "{missing}"
    );
}

#[test]
fn log_reads_the_emulators_lockfiles_only_when_asked() {
    let env = TestEnv::new().with_file(
        "plans/flash-sale.yaml",
        std::fs::read_to_string(crate::common::repo_root().join("examples/flash-sale.yaml"))
            .unwrap(),
    );
    let out = env.run(["apply", "--emulator", "--auto-approve", "plans/"]);
    assert_eq!(out.status, 0, "{out}");
    let committed = env.run(["log"]);
    assert_eq!(
        committed.stdout, "No activations recorded in 0 lockfiles.\n",
        "{committed}"
    );
    for args in [
        vec!["log", "--emulator"],
        vec!["log", "--emulator", "plans/flash-sale.yaml"],
        vec!["log", "--emulator", "plans"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status, 0, "{out}");
        assert!(
            out.stdout
                .contains("black-friday-flash-sale run 1  prod on emulator\n"),
            "{args:?}: {out}"
        );
        assert!(
            out.stdout.ends_with("3 entries from 1 lockfile.\n"),
            "{args:?}: {out}"
        );
    }
}
