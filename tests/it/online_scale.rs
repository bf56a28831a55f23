//! Issue 13: the online passes grow with dataflows and sandboxes, not with orders. A seeded
//! world of a few dataflows with many orders in flight; the emulator's request log says what
//! each pass asked for. `scripts/bench-online.sh` is the same at the issue's size, timed.

use std::collections::BTreeMap;
use std::time::Duration;

use aepact::emulator::{Emulator, EmulatorBuilder};
use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::emulator::admin;

const ORG: &str = "0123456789ABCDEF01234567@AdobeOrg";
const FLOWS: usize = 3;
const SEGMENTS: usize = 40;

fn segment(flow: usize, n: usize) -> String {
    format!("{flow:08x}-0000-4000-8000-{n:012x}")
}

fn flow(n: usize) -> String {
    format!("{n:08x}-1111-4111-8111-000000000000")
}

/// `FLOWS` destination dataflows of `SEGMENTS` segments each in `prod`; runs last an hour, so
/// every order stays in flight.
fn world(dir: &std::path::Path) -> Emulator {
    let mut seed = format!(
        "org: {ORG}\nclients:\n  - {{ id: scale-client, secret: scale-secret }}\n\
         sandboxes:\n  prod:\n    segments:\n"
    );
    for f in 0..FLOWS {
        for s in 0..SEGMENTS {
            seed += &format!(
                "      - {{ id: {}, name: Segment {f}-{s} }}\n",
                segment(f, s)
            );
        }
    }
    seed += "    dataflows:\n";
    for f in 0..FLOWS {
        seed += &format!(
            "      - id: {}\n        name: Destination {f}\n        segments:\n",
            flow(f)
        );
        for s in 0..SEGMENTS {
            seed += &format!("          - {{ id: {} }}\n", segment(f, s));
        }
    }
    seed += "    exportJobs:\n      - { id: 7, status: SUCCEEDED, hoursAgo: 2 }\n";
    let path = dir.join("seed.yaml");
    std::fs::write(&path, seed).unwrap();
    EmulatorBuilder::new()
        .seed_file(&path)
        .unwrap()
        .run_duration(Duration::from_secs(3600))
        .start()
        .unwrap()
}

/// `count` plans of 4 segments each, round robin over the dataflows, no segment in two plans.
fn plans(env: &TestEnv, count: usize) {
    for p in 0..count {
        let (f, first) = (p % FLOWS, (p / FLOWS) * 4);
        let segments: String = (first..first + 4)
            .map(|s| format!("      - {}\n", segment(f, s)))
            .collect();
        env.write(
            &format!("plans/scale-{p:03}.yaml"),
            format!(
                "apiVersion: aepact/v1\nname: scale-{p:03}\nsandbox: prod\nexports: latest\n\
                 destinations:\n  - id: {}\n    segments:\n{segments}run: 1\n",
                flow(f)
            ),
        );
    }
}

/// A fresh world with `count` plans written and this fault set (the directory keeps the seed).
fn world_with(count: usize, fault: Value) -> (tempfile::TempDir, Emulator, TestEnv) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = world(dir.path());
    let env = env_for(&emulator);
    plans(&env, count);
    admin(&emulator, "POST", "faults", Some(fault));
    (dir, emulator, env)
}

fn env_for(emulator: &Emulator) -> TestEnv {
    TestEnv::new()
        .with_emulator_urls(emulator)
        .with_env("AEP_ORG_ID", ORG)
        .with_env("AEP_CLIENT_ID", "scale-client")
        .with_env("AEP_CLIENT_SECRET", "scale-secret")
}

/// The requests since the log was last cleared, by route, and the log cleared.
fn requests(emulator: &Emulator) -> BTreeMap<String, usize> {
    let log = admin(emulator, "GET", "requests", None);
    let mut counts = BTreeMap::new();
    for entry in log["requests"].as_array().unwrap() {
        assert_eq!(entry["status"], 200, "{entry}");
        *counts
            .entry(entry["route"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    admin(emulator, "DELETE", "requests", None);
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect()
}

/// 30 plans, 120 orders in flight on 3 dataflows: `status` asks 1 token and one runs listing
/// per 50 orders (3), `plan` 1 token, 1 export listing, 1 flows listing and the runs of the
/// sandbox's dataflows, two pages of 100 — the same for 30 plans as for 3.
#[test]
fn status_and_plan_over_many_orders_on_few_dataflows_make_a_bounded_number_of_requests() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = world(dir.path());
    let env = env_for(&emulator);
    plans(&env, 30);
    let apply = env.run(["apply", "--auto-approve", "plans"]);
    assert_eq!(apply.status, 0, "{apply}");
    assert_eq!(requests(&emulator)["adhocrun"], 30);

    let status = env.run(["status", "plans"]);
    assert_eq!(status.status, 0, "{status}");
    assert!(
        status.stdout.contains("120 of 120 orders in flight"),
        "{status}"
    );
    assert_eq!(
        requests(&emulator),
        counts(&[("ims.token", 1), ("runs.list", 3)])
    );

    let plan = env.run(["plan", "--detailed-exitcode", "plans"]);
    assert_eq!(plan.status, 0, "already applied, nothing to do: {plan}");
    assert_eq!(
        requests(&emulator),
        counts(&[
            ("ims.token", 1),
            ("exportJobs.list", 1),
            ("flows.list", 1),
            ("runs.list", 2),
        ])
    );
}

/// The platform witness reads the runs listing to its end: with the lockfiles gone, every one of
/// the 30 plans is refused for the deliveries it finds, those on the listing's second page too.
#[test]
fn the_platform_witness_reads_every_page_of_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = world(dir.path());
    let env = env_for(&emulator);
    plans(&env, 30);
    let apply = env.run(["apply", "--auto-approve", "plans"]);
    assert_eq!(apply.status, 0, "{apply}");
    for p in 0..30 {
        std::fs::remove_file(env.path().join(format!("plans/scale-{p:03}.lock.json"))).unwrap();
    }
    admin(&emulator, "DELETE", "requests", None);
    let plan = env.run(["plan", "--format", "json", "plans"]);
    let doc = plan.json();
    let verdicts: Vec<&Value> = doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["verdict"]["action"])
        .collect();
    assert_eq!(verdicts.len(), 30, "{plan}");
    assert!(
        verdicts.iter().all(|v| *v == "refused"),
        "every plan has unrecorded deliveries: {verdicts:?}"
    );
    assert_eq!(requests(&emulator)["runs.list"], 2, "both pages");
}

/// A `Retry-After` on one listing holds back every request of the client, not only the
/// refused one: a request started while the client waits goes out after the pause.
#[test]
fn a_429_on_a_listing_slows_the_whole_client() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = world(dir.path());
    admin(
        &emulator,
        "POST",
        "faults",
        Some(json!({"route": "flows.list", "status": 429, "retryAfter": 1, "times": 1})),
    );
    let mut config = emulator.info().api_config();
    config.concurrency = 8;
    let client = aepact::api::Client::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let first = flow(0);
        let refused = {
            let client = client.clone();
            tokio::spawn(async move { client.list_flows("prod", &[first.as_str()]).await })
        };
        // Until the 429 has been answered and the client holds back.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while client.retry_pause().is_none() {
            assert!(std::time::Instant::now() < deadline, "no 429 seen");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let jobs = client.list_export_jobs("prod").await.unwrap();
        assert_eq!(jobs.len(), 1);
        let flows = refused.await.unwrap().unwrap();
        assert_eq!(flows.len(), 1, "the refused listing was retried");
    });
    let log = admin(&emulator, "GET", "requests", None);
    let entries = log["requests"].as_array().unwrap();
    let at = |route: &str, status: u64| -> i64 {
        entries
            .iter()
            .find(|e| e["route"] == route && e["status"] == status)
            .unwrap_or_else(|| panic!("no {route} answered {status}: {log}"))["at"]
            .as_i64()
            .unwrap()
    };
    let refused_at = at("flows.list", 429);
    // Lower bounds only: a slow machine makes the gaps longer, never shorter.
    assert!(
        at("exportJobs.list", 200) - refused_at >= 900,
        "the other request waited out the pause: {log}"
    );
    assert!(at("flows.list", 200) - refused_at >= 900, "{log}");
}

/// The adhocrun entries of the request log so far.
fn posts(emulator: &Emulator) -> Vec<Value> {
    let log = admin(emulator, "GET", "requests?route=adhocrun", None);
    log["requests"].as_array().unwrap().clone()
}

/// Independent plans (distinct segments, each its own lockfile) are sent side by side: while
/// the first POST is held by the emulator, the others arrive, and every plan is recorded.
#[test]
fn independent_plans_are_sent_side_by_side() {
    let (_dir, emulator, env) = world_with(
        4,
        json!({"route": "adhocrun", "latencyMs": 8000, "times": 1}),
    );
    let child = env
        .command(["apply", "--auto-approve", "plans"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(7);
    let side_by_side = loop {
        let posts = posts(&emulator);
        let held = posts
            .iter()
            .any(|p| !p["fault"].is_null() && p["status"].is_null());
        if posts.len() == 4 && held {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        side_by_side,
        "the other plans' POSTs arrived while the first was held: {:?}",
        posts(&emulator)
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for p in 0..4 {
        let lockfile: Value = serde_json::from_slice(
            &std::fs::read(env.path().join(format!("plans/scale-{p:03}.lock.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            lockfile["runs"][0]["jobs"][0]["status"], "submitted",
            "{lockfile}"
        );
    }
    // Reported in plan order, whatever order they finished in.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let at: Vec<usize> = (0..4)
        .map(|p| stdout.find(&format!("applied `scale-{p:03}`")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{stdout}");
}

/// `--concurrency 1` sends the plans one after the other, and no plan is started after one did
/// not go through.
#[test]
fn with_concurrency_one_plans_go_one_after_the_other_and_stop_at_a_failure() {
    let (_dir, emulator, env) = world_with(
        3,
        json!({"route": "adhocrun", "latencyMs": 1500, "times": 1}),
    );
    let out = env.run(["apply", "--auto-approve", "--concurrency", "1", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    let posts = posts(&emulator);
    assert_eq!(posts.len(), 3);
    let at = |i: usize| posts[i]["at"].as_i64().unwrap();
    assert!(
        at(1) - at(0) >= 1500,
        "the second waited for the first: {posts:?}"
    );

    // A refused POST: the plans after it are not started (a fresh world: the runs above are
    // still in flight and would refuse the same plans).
    let (_dir, emulator, env) =
        world_with(3, json!({"route": "adhocrun", "status": 400, "times": 1}));
    let out = env.run(["apply", "--auto-approve", "--concurrency", "1", "plans"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(self::posts(&emulator).len(), 1, "{out}");
    assert!(!env.path().join("plans/scale-001.lock.json").exists());
}

/// A listing that never ends (a server whose every page has a next one) is an error after 100
/// pages, never taken in part: the witness would decide from runs it had not all seen.
#[test]
fn a_listing_past_the_pages_the_client_reads_is_an_error_not_a_part() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let page = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = format!(
                r#"{{"items": [{{"id": "run-{page}", "flowId": "{}"}}], "_links": {{"next": {{"href": "/data/foundation/flowservice/runs?continuationToken=t{page}"}}}}}}"#,
                flow(0)
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let url = format!("http://{addr}");
    let config = aepact::api::ApiConfig::new(
        ORG,
        aepact::api::Credentials::AccessToken {
            access_token: aepact::api::Secret::new("test-token".to_owned()),
            api_key: "test-key".to_owned(),
        },
    )
    .with_urls(&url, &url);
    let client = aepact::api::Client::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = flow(0);
    let err = runtime
        .block_on(client.list_runs_of("prod", &[first.as_str()], 0))
        .unwrap_err();
    assert!(
        matches!(
            err,
            aepact::api::ApiError::ListingTooLong { pages: 100, .. }
        ),
        "{err:?}"
    );
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 100);
    let shown = format!("{:?}", miette::Report::new(err));
    assert!(shown.contains("listing_too_long"), "{shown}");
}
