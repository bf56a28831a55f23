//! The lockfile (issue 4): golden format, byte-stable round trips, atomic saves, the plan lock,
//! clear errors for damaged files, and append-only history.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use aepact::lockfile::{
    ExportsRecord, JobError, JobRef, JobStatus, Ledger, LockGuard, Lockfile, LockfileError,
    NewOrder, NewRun, OrderMetrics, OrderRef, OrderStatus, OrderUpdate, Timestamp, file_digest,
    lockfile_path,
};
use aepact::plan::AdhocApiVersion;
use aepact::plan::model::Exports;
use serde_json::json;

use crate::common::repo_root;

const DEST: &str = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const SEG_A: &str = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
const SEG_B: &str = "6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8";
const SEG_C: &str = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5";
const ORG: &str = "5555467B5D8013E50A494220@AdobeOrg";

/// 2026-11-29T18:00:00.000Z plus `secs`.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_ms(1_795_975_200_000 + secs * 1000).unwrap()
}

fn status_url(run: &str) -> String {
    format!("https://platform.adobe.io/data/foundation/flowservice/runs/{run}")
}

fn request(segments: &[&str], exports: Option<&str>) -> serde_json::Value {
    let mut body = json!({ "activationInfo": { DEST: segments } });
    if let Some(id) = exports {
        body["exportIds"] = json!([id]);
    }
    body
}

fn new_run(run: u64, digest: &str, start: i64, requests: Vec<serde_json::Value>) -> NewRun {
    NewRun {
        run,
        intent_digest: digest.to_owned(),
        applied_at: at(start),
        applied_by: None,
        endpoint: "https://platform.adobe.io".to_owned(),
        org: ORG.to_owned(),
        sandbox: "prod".to_owned(),
        api_version: AdhocApiVersion::V1,
        exports: ExportsRecord::new(&Exports::Latest, vec!["11037".to_owned()]),
        requests: requests
            .into_iter()
            .map(|r| serde_json::from_value(r).unwrap())
            .collect(),
        override_: None,
    }
}

fn order(segment: &str, run: &str) -> NewOrder {
    NewOrder {
        segment: segment.to_owned(),
        order: DEST.to_owned(),
        status_url: status_url(run),
    }
}

/// Writes `lock` to `path` as aepact writes files (atomically). The shipped binary saves
/// lockfiles only through a [`Ledger`]; these tests write them directly.
fn save(lock: &Lockfile, path: &Path) {
    aepact::fsx::write_atomic(path, lock.to_json().as_bytes()).unwrap();
}

fn job(lock: &mut Lockfile, run: usize, job: usize) -> (u64, &mut aepact::lockfile::JobRecord) {
    lock.job_mut(JobRef { run, job }).unwrap()
}

/// A lockfile with every job status and every kind of order status, built through the same
/// mutators `apply` and `status` use.
fn every_state() -> Lockfile {
    let mut lock = Lockfile::new("black-friday-flash-sale");

    // Run 1: two jobs (`--split`): one submitted and polled to the end, one rejected.
    let r = lock.append_run(new_run(
        1,
        "d1",
        0,
        vec![
            request(&[SEG_A, SEG_B], Some("11037")),
            request(&[SEG_C], Some("11037")),
        ],
    ));
    let (n, j) = job(&mut lock, r, 0);
    j.mark_sending(n, at(1)).unwrap();
    j.mark_submitted(
        n,
        vec![
            order(SEG_A, "88d6da63-dc97-460e-b781-fc795a7386d9"),
            order(SEG_B, "9830305a-985f-47d0-b030-5a985fd7d004"),
        ],
    )
    .unwrap();
    let (n, j) = job(&mut lock, r, 1);
    j.mark_sending(n, at(2)).unwrap();
    j.mark_rejected(
        n,
        JobError {
            http_status: Some(409),
            message: format!(
                "Run already going on for audience {SEG_C} for order {DEST} with run id 6becd765-a2ca-4a8f-8041-37fad0f4391a"
            ),
            body: Some(json!({
                "type": "https://ns.adobe.com/aep/errors/DEST-ADH-409",
                "title": "Conflict",
                "status": 409,
                "detail": "Run already going on ..."
            })),
        },
    )
    .unwrap();
    lock.order_mut(OrderRef {
        run: r,
        job: 0,
        order: 0,
    })
    .unwrap()
    .update(OrderUpdate {
        status: OrderStatus::from_platform("success"),
        run_id: None,
        created_at: Some(at(1)),
        started_at: Some(at(5)),
        finished_at: Some(at(65)),
        metrics: Some(OrderMetrics {
            input_records: Some(100),
            output_records: Some(99),
            failed_records: Some(1),
            input_files: Some(1),
            output_files: Some(1),
            input_bytes: Some(12_000),
            output_bytes: Some(11_880),
            segment: Some(aepact::lockfile::SegmentRecords {
                input_records: Some(100),
                output_records: Some(99),
                failed_records: Some(1),
            }),
        }),
        errors: vec![],
        checked_at: at(70),
    });
    lock.order_mut(OrderRef {
        run: r,
        job: 0,
        order: 1,
    })
    .unwrap()
    .update(OrderUpdate {
        status: OrderStatus::from_platform("Failed"),
        run_id: None,
        created_at: Some(at(1)),
        started_at: Some(at(5)),
        finished_at: Some(at(30)),
        metrics: Some(OrderMetrics::default()),
        errors: vec![json!({"code": "CONNECTOR-2001-500", "message": "SFTP login failed"})],
        checked_at: at(70),
    });

    // Run 2: API version 2 without exports; a lost response reconciled by `status`, then one
    // still unknown.
    let r = lock.append_run(NewRun {
        api_version: AdhocApiVersion::V2,
        exports: ExportsRecord::new(&Exports::Omitted, vec![]),
        sandbox: "dev".to_owned(),
        ..new_run(
            2,
            "d2",
            3600,
            vec![request(&[SEG_A], None), request(&[SEG_B], None)],
        )
    });
    let lost = JobError {
        http_status: None,
        message: "the connection closed after the request was sent".to_owned(),
        body: None,
    };
    let (n, j) = job(&mut lock, r, 0);
    j.mark_sending(n, at(3601)).unwrap();
    j.mark_unknown(n, lost.clone()).unwrap();
    j.reconcile_submitted(
        n,
        vec![order(SEG_A, "5f0e7c1a-2b3c-4d5e-8f9a-0b1c2d3e4f5a")],
        at(3700),
    )
    .unwrap();
    let (n, j) = job(&mut lock, r, 1);
    j.mark_sending(n, at(3602)).unwrap();
    j.mark_unknown(n, lost).unwrap();
    lock.order_mut(OrderRef {
        run: r,
        job: 0,
        order: 0,
    })
    .unwrap()
    .update(OrderUpdate {
        status: OrderStatus::from_platform("inProgress"),
        run_id: None,
        created_at: Some(at(3601)),
        started_at: Some(at(3605)),
        finished_at: None,
        metrics: None,
        errors: vec![],
        checked_at: at(3700),
    });

    // Run 3: the process stopped after recording the first send: one pending job that may have
    // been sent, one never sent. Plus a platform status this version does not know.
    let r = lock.append_run(new_run(
        3,
        "d3",
        7200,
        vec![
            request(&[SEG_A], Some("11040")),
            request(&[SEG_B], Some("11040")),
        ],
    ));
    let (n, j) = job(&mut lock, r, 0);
    j.mark_sending(n, at(7201)).unwrap();

    // An order with an unknown status, and one never polled, on a fourth (complete) run.
    let r = lock.append_run(new_run(
        4,
        "d4",
        10_800,
        vec![request(&[SEG_A, SEG_C], Some("11041"))],
    ));
    let (n, j) = job(&mut lock, r, 0);
    j.mark_sending(n, at(10_801)).unwrap();
    j.mark_submitted(
        n,
        vec![
            order(SEG_A, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
            order(SEG_C, "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"),
        ],
    )
    .unwrap();
    lock.order_mut(OrderRef {
        run: r,
        job: 0,
        order: 0,
    })
    .unwrap()
    .update(OrderUpdate {
        status: OrderStatus::from_platform("queued"),
        run_id: None,
        created_at: Some(at(10_801)),
        started_at: None,
        finished_at: None,
        metrics: None,
        errors: vec![],
        checked_at: at(10_900),
    });
    lock
}

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flash-sale.lock.json");
    (dir, path)
}

/// Renders an error the way the CLI does, without colour, for snapshots. Temp directories are
/// shown as `[TMP]` (snapshots use fixed relative paths, so wrapping does not depend on them).
fn render(err: &LockfileError, dir: &Path) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false)
            .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
            .with_break_words(false);
    let mut out = String::new();
    handler.render_report(&mut out, err).unwrap();
    out.replace(&dir.display().to_string(), "[TMP]")
}

#[test]
fn golden_lockfile_with_every_state() {
    insta::assert_snapshot!(every_state().to_json());
}

#[test]
fn load_then_save_is_byte_identical() {
    let (_dir, path) = scratch();
    let lock = every_state();
    save(&lock, &path);
    let first = fs::read(&path).unwrap();
    let loaded = Lockfile::load(&path).unwrap().unwrap();
    assert_eq!(loaded, lock);
    save(&loaded, &path);
    assert_eq!(fs::read(&path).unwrap(), first);
    let text = String::from_utf8(first).unwrap();
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    assert!(text.starts_with("{\n  \"lockfileVersion\": 3,\n  \"plan\": "));
}

/// Version 1 lockfiles (before `override` and `lost`) are read, and written back as version 2.
#[test]
fn version_1_lockfiles_are_read_and_upgraded_on_write() {
    let (_dir, path) = scratch();
    let lock = every_state();
    let v1 = lock
        .to_json()
        .replacen("\"lockfileVersion\": 3", "\"lockfileVersion\": 1", 1)
        .replace("      \"override\": null,\n", "")
        .replace("      \"appliedBy\": null,\n", "");
    assert!(!v1.contains("override") && !v1.contains("appliedBy"));
    fs::write(&path, &v1).unwrap();
    let loaded = Lockfile::load(&path).unwrap().unwrap();
    assert_eq!(loaded, lock);
    save(&loaded, &path);
    assert_eq!(fs::read_to_string(&path).unwrap(), lock.to_json());
}

/// Version 2 lockfiles (before `appliedBy` and the bytes and segment counts of `metrics`) are
/// read with those `null`, and written back as version 3 (issue 11).
#[test]
fn version_2_lockfiles_are_read_and_upgraded_on_write() {
    let (_dir, path) = scratch();
    let v2 = r#"{"lockfileVersion": 2, "plan": "p", "runs": [{"run": 1, "intentDigest": "sha256:0",
      "appliedAt": "2026-11-27T09:00:02.118Z", "endpoint": "https://platform.adobe.io",
      "org": "O@AdobeOrg", "sandbox": "prod", "apiVersion": 1,
      "exports": {"spec": "latest", "resolved": ["1"]}, "override": null, "jobs": [{"index": 0,
      "status": "submitted", "sentAt": "2026-11-27T09:00:02.431Z",
      "request": {"activationInfo": {"d": ["s"]}, "exportIds": ["1"]}, "error": null,
      "reconciledAt": null, "orders": [{"segment": "s", "order": "d",
      "statusUrl": "https://platform.adobe.io/data/foundation/flowservice/runs/r", "runId": "r",
      "status": "success", "createdAt": null, "startedAt": null, "finishedAt": null,
      "metrics": {"inputRecords": 5, "outputRecords": 4, "failedRecords": 1, "inputFiles": 1,
      "outputFiles": 1}, "errors": [], "checkedAt": null}]}]}]}"#;
    fs::write(&path, v2).unwrap();
    let loaded = Lockfile::load(&path).unwrap().unwrap();
    assert_eq!(loaded.lockfile_version, 3);
    assert_eq!(loaded.runs[0].applied_by, None);
    let metrics = loaded.runs[0].jobs[0].orders[0].metrics.unwrap();
    assert_eq!(
        (
            metrics.output_records,
            metrics.output_bytes,
            metrics.segment
        ),
        (Some(4), None, None)
    );
    save(&loaded, &path);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"lockfileVersion\": 3") && text.contains("\"appliedBy\": null"));
    assert!(text.contains("\"outputBytes\": null") && text.contains("\"segment\": null"));
}

#[test]
fn docs_example_is_a_valid_byte_stable_lockfile() {
    let docs = fs::read_to_string(repo_root().join("docs/lockfile.md")).unwrap();
    let start = docs
        .find("```json\n")
        .expect("docs/lockfile.md has a ```json example")
        + 8;
    let end = start + docs[start..].find("```\n").unwrap();
    let example = &docs[start..end];
    let lock = Lockfile::parse(example, Path::new("docs/lockfile.md")).unwrap();
    assert_eq!(
        lock.to_json(),
        example,
        "the example is not in the written form"
    );
}

#[test]
fn missing_lockfile_is_none() {
    let (_dir, path) = scratch();
    assert!(Lockfile::load(&path).unwrap().is_none());
}

#[test]
fn lockfile_sits_beside_the_plan() {
    assert_eq!(
        lockfile_path(Path::new("plans/flash-sale.yaml")),
        Path::new("plans/flash-sale.lock.json")
    );
    assert_eq!(
        lockfile_path(Path::new("plans/flash-sale.yml")),
        Path::new("plans/flash-sale.lock.json")
    );
}

#[test]
fn appending_runs_never_rewrites_earlier_ones() {
    let mut lock = Lockfile::new("p");
    lock.append_run(new_run(1, "d1", 0, vec![request(&[SEG_A], Some("1"))]));
    let (n, j) = job(&mut lock, 0, 0);
    j.mark_sending(n, at(1)).unwrap();
    j.mark_submitted(n, vec![order(SEG_A, "r1")]).unwrap();
    let before = lock.to_json();
    let run1_end = before.strip_suffix("\n  ]\n}\n").unwrap();

    let r = lock.append_run(new_run(2, "d2", 60, vec![request(&[SEG_A], Some("2"))]));
    let (n, j) = job(&mut lock, r, 0);
    j.mark_sending(n, at(61)).unwrap();
    j.mark_unknown(
        n,
        JobError {
            http_status: None,
            message: "lost".into(),
            body: None,
        },
    )
    .unwrap();
    let after = lock.to_json();
    assert!(
        after.starts_with(&format!("{run1_end},\n    {{\n      \"run\": 2,")),
        "run 1's bytes changed:\n{after}"
    );
}

#[test]
fn save_leaves_no_temp_files_and_replaces_a_read_only_target() {
    let (dir, path) = scratch();
    let lock = every_state();
    fs::write(&path, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    }
    for _ in 0..3 {
        save(&lock, &path);
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), lock.to_json());
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["flash-sale.lock.json"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o444, "the file's permissions are kept");
    }
}

#[test]
fn failed_save_leaves_nothing_behind() {
    let (dir, _) = scratch();
    let path = dir.path().join("no-such-dir/x.lock.json");
    let err =
        aepact::fsx::write_atomic(&path, Lockfile::new("p").to_json().as_bytes()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err:?}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

    // Through a ledger, the one way aepact saves a lockfile: the error names the lockfile.
    let plan = plan_file(dir.path());
    let lock = dir.path().join("sub/x.lock.json");
    let mut ledger = Ledger::open_at(&plan, lock, "flash-sale", Duration::ZERO).unwrap();
    fs::write(
        dir.path().join("sub"),
        "a file where the directory should be",
    )
    .unwrap();
    let err = ledger.save().unwrap_err();
    assert!(matches!(err, LockfileError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("cannot write the lockfile `"),
        "{err}"
    );
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["flash-sale.yaml", "sub"]);
}

#[test]
fn stray_temp_file_from_a_crash_is_ignored() {
    let (dir, path) = scratch();
    let stray = dir.path().join(".flash-sale.lock.json.tmp.1.0");
    fs::write(&stray, "{ half a lockf").unwrap();
    // Strays named as this process's next temp files (a crashed process with our PID).
    let pid = std::process::id();
    let ours: Vec<PathBuf> = (0..200)
        .map(|n| {
            dir.path()
                .join(format!(".flash-sale.lock.json.tmp.{pid}.{n}"))
        })
        .filter(|p| !p.exists())
        .collect();
    for p in &ours[..5] {
        fs::write(p, "stray").unwrap();
    }
    assert!(Lockfile::load(&path).unwrap().is_none());
    save(&every_state(), &path);
    assert_eq!(Lockfile::load(&path).unwrap().unwrap(), every_state());
    assert_eq!(fs::read_to_string(&stray).unwrap(), "{ half a lockf");
    for p in &ours[..5] {
        assert_eq!(
            fs::read_to_string(p).unwrap(),
            "stray",
            "a stray was reused"
        );
    }
}

/// A reader never sees a half-written lockfile, however its reads and the writes interleave.
#[test]
fn readers_see_only_whole_lockfiles_during_saves() {
    let (_dir, path) = scratch();
    let small = Lockfile::new("p");
    let big = every_state();
    save(&small, &path);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        let (small, big) = (small.clone(), big.clone());
        thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let lock = Lockfile::load(&path).unwrap().unwrap();
                assert!(lock == small || lock == big);
                reads += 1;
            }
            reads
        })
    };
    for i in 0..100 {
        save(if i % 2 == 0 { &big } else { &small }, &path);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
}

#[test]
fn second_lock_times_out_with_a_clear_error_and_succeeds_after_drop() {
    let (dir, _) = scratch();
    let plan = dir.path().join("flash-sale.yaml");
    fs::write(&plan, "name: flash-sale\n").unwrap();
    let guard = LockGuard::acquire(&plan, Duration::ZERO).unwrap();
    assert_eq!(guard.path(), plan);

    let other = {
        let plan = plan.clone();
        thread::spawn(move || {
            LockGuard::acquire(&plan, Duration::from_millis(150)).map_err(Box::new)
        })
    };
    let started = Instant::now();
    let err = *other.join().unwrap().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(matches!(err, LockfileError::LockTimeout { .. }), "{err:?}");
    let text = err
        .to_string()
        .replace(&dir.path().display().to_string(), "[TMP]")
        .replace(|c: char| c.is_ascii_digit(), "N");
    insta::assert_snapshot!(text, @"another `aepact apply` or `aepact status` is working on `[TMP]/flash-sale.yaml`: its lock was still held after NNNms");
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("`--lock-timeout`"), "{help}");

    // Saving the lockfile (a rename beside the plan) does not disturb the lock.
    save(&every_state(), &lockfile_path(&plan));
    assert!(LockGuard::acquire(&plan, Duration::ZERO).is_err());

    drop(guard);
    let again = thread::spawn(move || LockGuard::acquire(&plan, Duration::ZERO).is_ok());
    assert!(again.join().unwrap(), "the lock was not released on drop");
}

#[test]
fn waiting_lock_is_granted_when_the_holder_releases() {
    let (dir, _) = scratch();
    let plan = dir.path().join("flash-sale.yaml");
    fs::write(&plan, "name: flash-sale\n").unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let (tx, rx) = mpsc::channel();
    let holder = {
        let (plan, barrier) = (plan.clone(), Arc::clone(&barrier));
        thread::spawn(move || {
            let guard = LockGuard::acquire(&plan, Duration::ZERO).unwrap();
            barrier.wait();
            thread::sleep(Duration::from_millis(200));
            tx.send(Instant::now()).unwrap();
            drop(guard);
        })
    };
    barrier.wait();
    let guard = LockGuard::acquire(&plan, Duration::from_secs(10)).unwrap();
    let released = rx.recv().unwrap();
    assert!(
        Instant::now() >= released,
        "granted before the holder let go"
    );
    holder.join().unwrap();
    drop(guard);
}

/// Exactly one of many concurrent acquirers gets the lock at a time.
#[test]
fn concurrent_lockers_are_mutually_exclusive() {
    let (dir, _) = scratch();
    let plan = dir.path().join("flash-sale.yaml");
    fs::write(&plan, "x").unwrap();
    let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (plan, inside) = (plan.clone(), Arc::clone(&inside));
            thread::spawn(move || {
                for _ in 0..5 {
                    let _guard = LockGuard::acquire(&plan, Duration::from_secs(30)).unwrap();
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(now, 0, "two holders at once");
                    thread::sleep(Duration::from_millis(5));
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn locking_a_missing_plan_says_so() {
    let (dir, _) = scratch();
    let err = LockGuard::acquire(&dir.path().join("gone.yaml"), Duration::ZERO).unwrap_err();
    assert!(matches!(err, LockfileError::Lock { .. }), "{err:?}");
    assert!(render(&err, dir.path()).contains("cannot lock the plan `[TMP]/gone.yaml`"));
}

/// Loads `text` from a file, checks the file is left as it was, and returns the error that the
/// same text parsed under the fixed name `plans/flash-sale.lock.json` gives (so snapshots do
/// not depend on the temp directory's name).
fn load_err(text: &str) -> (tempfile::TempDir, LockfileError) {
    let (dir, path) = scratch();
    fs::write(&path, text).unwrap();
    let err = Lockfile::load(&path).unwrap_err();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text,
        "the file was changed"
    );
    let fixed = Lockfile::parse(text, Path::new("plans/flash-sale.lock.json")).unwrap_err();
    assert_eq!(
        fixed.to_string(),
        err.to_string()
            .replace(&path.display().to_string(), "plans/flash-sale.lock.json")
    );
    (dir, fixed)
}

#[test]
fn truncated_lockfile_reports_line_and_column() {
    let text = every_state().to_json();
    let cut = &text[..text.find("\"orders\"").unwrap() + 11];
    let (dir, err) = load_err(cut);
    let LockfileError::Syntax { line, column, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*line, *column),
        (cut.lines().count(), cut.lines().last().unwrap().len())
    );
    insta::assert_snapshot!(render(&err, dir.path()));
}

#[test]
fn misspelt_key_reports_line_and_column() {
    let text = every_state()
        .to_json()
        .replacen("\"statusUrl\"", "\"statsUrl\"", 1);
    let (dir, err) = load_err(&text);
    let LockfileError::Invalid { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    let expected_line = text.lines().position(|l| l.contains("statsUrl")).unwrap() + 1;
    assert_eq!(*line, expected_line);
    assert!(message.contains("unknown field `statsUrl`"), "{message}");
    insta::assert_snapshot!(render(&err, dir.path()));
}

#[test]
fn wrong_types_and_missing_fields_are_invalid() {
    let good = every_state().to_json();
    for (from, to, says) in [
        (
            "\"status\": \"submitted\"",
            "\"status\": \"sent\"",
            "unknown variant `sent`",
        ),
        ("\"apiVersion\": 2", "\"apiVersion\": 3", "must be 1 or 2"),
        (
            "\"appliedAt\": \"2026-11-29T18:00:00.000Z\"",
            "\"appliedAt\": \"yesterday\"",
            "RFC 3339",
        ),
        ("\"run\": 1,\n", "", "missing field `run`"),
    ] {
        assert!(good.contains(from), "{from}");
        let (_dir, err) = load_err(&good.replacen(from, to, 1));
        let LockfileError::Invalid { message, line, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(message.contains(says), "{message}");
        assert!(*line > 0);
    }
}

#[test]
fn unknown_lockfile_version_is_refused() {
    let text =
        every_state()
            .to_json()
            .replacen("\"lockfileVersion\": 3", "\"lockfileVersion\": 4", 1);
    let (dir, err) = load_err(&text);
    insta::assert_snapshot!(render(&err, dir.path()));
    let (_dir, err) = load_err("{\"lockfileVersion\": \"1\", \"plan\": \"p\", \"runs\": []}\n");
    assert!(
        matches!(&err, LockfileError::UnsupportedVersion { found, .. } if found == "\"1\""),
        "{err:?}"
    );
}

#[test]
fn empty_and_non_object_files_are_errors() {
    let (_dir, err) = load_err("");
    assert!(matches!(err, LockfileError::Syntax { .. }), "{err:?}");
    let (_dir, err) = load_err("[]\n");
    assert!(matches!(err, LockfileError::Invalid { .. }), "{err:?}");
    let (_dir, err) = load_err("{\"plan\": \"p\", \"runs\": []}\n");
    assert!(
        matches!(&err, LockfileError::Invalid { message, .. } if message.contains("lockfileVersion")),
        "{err:?}"
    );
}

#[test]
fn job_index_out_of_place_is_inconsistent() {
    let text = every_state()
        .to_json()
        .replacen("\"index\": 1", "\"index\": 0", 1);
    let (_dir, err) = load_err(&text);
    assert!(matches!(err, LockfileError::Inconsistent { .. }), "{err:?}");
}

#[test]
fn unreadable_lockfile_is_a_read_error() {
    let (dir, _) = scratch();
    let err = Lockfile::load(dir.path()).unwrap_err();
    assert!(matches!(err, LockfileError::Read { .. }), "{err:?}");
}

#[test]
fn queries_find_applied_runs_jobs_in_doubt_and_orders_in_flight() {
    let lock = every_state();
    // Run 1 has a rejected job, run 2 an unknown one, run 3 pending ones: only run 4 counts.
    assert!(lock.already_applied("d1").is_none());
    assert!(lock.already_applied("d2").is_none());
    assert!(lock.already_applied("d3").is_none());
    assert_eq!(lock.already_applied("d4").map(|r| r.run), Some(4));
    assert!(lock.already_applied("nope").is_none());
    assert_eq!(
        lock.latest_run_for("d2").map(|(i, r)| (i, r.run)),
        Some((1, 2))
    );

    let jr = |run, job| JobRef { run, job };
    assert_eq!(lock.unsettled_jobs(), [jr(1, 1), jr(2, 0), jr(2, 1)]);
    assert_eq!(lock.jobs_in_doubt(), [jr(1, 1), jr(2, 0)]);
    assert_eq!(lock.job(jr(2, 1)).unwrap().status, JobStatus::Pending);
    assert!(lock.job(jr(9, 0)).is_none());

    let or = |run, job, order| OrderRef { run, job, order };
    assert_eq!(
        lock.non_final_orders(),
        [or(1, 0, 0), or(3, 0, 0), or(3, 0, 1)]
    );
    assert_eq!(
        lock.order(or(3, 0, 0)).unwrap().status,
        OrderStatus::Other("queued".into())
    );
    assert_eq!(
        lock.order(or(3, 0, 1)).unwrap().status,
        OrderStatus::NotChecked
    );

    assert_eq!(lock.last_applied_run().map(|r| r.run), Some(4));
    let mut only_rejected = Lockfile::new("p");
    only_rejected.append_run(new_run(1, "d", 0, vec![request(&[SEG_A], Some("1"))]));
    assert!(
        only_rejected.last_applied_run().is_none(),
        "nothing was sent"
    );
    let (n, j) = job(&mut only_rejected, 0, 0);
    j.mark_sending(n, at(1)).unwrap();
    assert_eq!(
        only_rejected.last_applied_run().map(|r| r.jobs.len()),
        Some(1),
        "a send in doubt may have applied"
    );
}

#[test]
fn maybe_activated_pairs_cover_jobs_in_doubt() {
    let lock = every_state();
    let pairs = |digest| {
        lock.maybe_activated_pairs(digest)
            .into_iter()
            .map(|(d, s)| format!("{}/{}", &d[..4], &s[..4]))
            .collect::<Vec<_>>()
    };
    // Run 1: job 0 submitted (A, B), job 1 rejected (C): C may be sent again.
    assert_eq!(pairs("d1"), ["0b7c/6a1f", "0b7c/db89"]);
    // Run 2: job 0 reconciled (A), job 1 unknown (B): both may have been activated.
    assert_eq!(pairs("d2"), ["0b7c/6a1f", "0b7c/db89"]);
    // Run 3: job 0 pending and sent (A); job 1 never sent.
    assert_eq!(pairs("d3"), ["0b7c/db89"]);
    assert!(pairs("nope").is_empty());
}

#[test]
fn mutators_name_missing_entries() {
    let mut lock = every_state();
    assert!(matches!(
        lock.job_mut(JobRef { run: 0, job: 7 }),
        Err(LockfileError::NoEntry { .. })
    ));
    assert!(matches!(
        lock.order_mut(OrderRef {
            run: 0,
            job: 0,
            order: 7
        }),
        Err(LockfileError::NoEntry { .. })
    ));
}

#[test]
fn endpoint_credentials_never_reach_the_lockfile() {
    let mut lock = Lockfile::new("p");
    lock.append_run(NewRun {
        endpoint: "https://svc:canary-secret-123@platform.adobe.io/?access_token=canary-secret-123"
            .to_owned(),
        ..new_run(1, "d", 0, vec![])
    });
    let text = lock.to_json();
    assert!(!text.contains("canary-secret-123"), "{text}");
    assert!(text.contains("\"endpoint\": \"https://platform.adobe.io\""));
}

#[test]
fn lockfile_for_another_plan_is_refused() {
    let lock = Lockfile::new("flash-sale");
    lock.check_plan("flash-sale", Path::new("x")).unwrap();
    let err = lock
        .check_plan("black-friday", Path::new("plans/x.lock.json"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the lockfile `plans/x.lock.json` records plan `flash-sale`, not `black-friday`"
    );
}

fn plan_file(dir: &Path) -> PathBuf {
    let plan = dir.join("flash-sale.yaml");
    fs::write(&plan, "name: flash-sale\n").unwrap();
    plan
}

#[test]
fn ledger_reads_changes_and_saves_the_lockfile_beside_the_plan() {
    let (dir, _) = scratch();
    let plan = plan_file(dir.path());
    let mut ledger = Ledger::open(&plan, "flash-sale", Duration::ZERO).unwrap();
    assert_eq!(ledger.path(), dir.path().join("flash-sale.lock.json"));
    assert!(ledger.lockfile().runs.is_empty() && ledger.disk_digest().is_none());
    // The plan is locked while the ledger lives.
    assert!(LockGuard::acquire(&plan, Duration::ZERO).is_err());

    let r =
        ledger
            .lockfile_mut()
            .append_run(new_run(1, "d", 0, vec![request(&[SEG_A], Some("1"))]));
    ledger.save().unwrap();
    let (n, j) = ledger
        .lockfile_mut()
        .job_mut(JobRef { run: r, job: 0 })
        .unwrap();
    j.mark_sending(n, at(1)).unwrap();
    ledger.save().unwrap();
    let digest = file_digest(ledger.path()).unwrap();
    assert_eq!(ledger.disk_digest(), Some(digest.as_str()));
    let saved = ledger.lockfile().clone();
    drop(ledger);

    let ledger = Ledger::open(&plan, "flash-sale", Duration::ZERO).unwrap();
    assert_eq!(ledger.lockfile(), &saved);
    assert_eq!(ledger.disk_digest(), Some(digest.as_str()));
    drop(ledger);
    let err = Ledger::open(&plan, "other-plan", Duration::ZERO).unwrap_err();
    assert!(matches!(err, LockfileError::WrongPlan { .. }), "{err:?}");
}

/// A lockfile written behind the ledger's back (say by an apply that locked a replaced plan
/// file) is neither overwritten nor allowed to swallow this ledger's record.
#[test]
fn ledger_refuses_to_overwrite_a_lockfile_changed_behind_its_back() {
    let (dir, _) = scratch();
    let plan = plan_file(dir.path());
    let mut ledger = Ledger::open(&plan, "flash-sale", Duration::ZERO).unwrap();
    ledger
        .lockfile_mut()
        .append_run(new_run(1, "ours", 0, vec![request(&[SEG_A], Some("1"))]));
    let mut theirs = Lockfile::new("flash-sale");
    theirs.append_run(new_run(1, "theirs", 0, vec![request(&[SEG_B], Some("1"))]));
    save(&theirs, ledger.path());

    let err = ledger.save().unwrap_err();
    let LockfileError::ChangedOnDisk { ours, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(fs::read_to_string(ledger.path()).unwrap(), theirs.to_json());
    let ours = Lockfile::load(Path::new(ours)).unwrap().unwrap();
    assert_eq!(&ours, ledger.lockfile());
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("merge the runs"), "{help}");

    // A lockfile deleted behind its back is a change too.
    let (dir, _) = scratch();
    let plan = plan_file(dir.path());
    save(&Lockfile::new("flash-sale"), &lockfile_path(&plan));
    let mut ledger = Ledger::open(&plan, "flash-sale", Duration::ZERO).unwrap();
    fs::remove_file(ledger.path()).unwrap();
    assert!(matches!(
        ledger.save(),
        Err(LockfileError::ChangedOnDisk { .. })
    ));
    assert!(!ledger.path().exists());
}

/// Two applies racing on one plan: each appends its run under the lock, and both runs are kept.
#[test]
fn concurrent_ledgers_never_lose_a_run() {
    let (dir, _) = scratch();
    let plan = plan_file(dir.path());
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            let (plan, barrier) = (plan.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for k in 0..3u64 {
                    let mut ledger =
                        Ledger::open(&plan, "flash-sale", Duration::from_secs(30)).unwrap();
                    let digest = format!("t{i}-{k}");
                    assert!(ledger.lockfile().latest_run_for(&digest).is_none());
                    ledger.lockfile_mut().append_run(new_run(
                        i * 10 + k,
                        &digest,
                        0,
                        vec![request(&[SEG_A], Some("1"))],
                    ));
                    ledger.save().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let lock = Lockfile::load(&lockfile_path(&plan)).unwrap().unwrap();
    let mut runs: Vec<u64> = lock.runs.iter().map(|r| r.run).collect();
    runs.sort_unstable();
    assert_eq!(runs, [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
}

/// Set, it makes the test below the holder of the plan's lock it names: the test runs itself
/// again as a child process with it set.
const HOLD_LOCK: &str = "AEPACT_TEST_HOLD_LOCK";

/// A lock taken in another process keeps this one out, and a holder killed without unlocking
/// (a crash, `kill -9`) leaves no stale lock.
///
/// The test is both ends: it starts this test binary again, running only this test with
/// `AEPACT_TEST_HOLD_LOCK` naming a plan; that child takes the plan's lock, says so on stdout
/// and sleeps until it is killed. (A separate helper test would pass, doing nothing, whenever
/// the variable is unset.)
#[test]
fn lock_is_held_across_processes_and_released_when_the_holder_dies() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    if let Some(plan) = std::env::var_os(HOLD_LOCK) {
        hold_lock_until_killed(Path::new(&plan));
    }
    let (dir, _) = scratch();
    let plan = plan_file(dir.path());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "lockfile::lock_is_held_across_processes_and_released_when_the_holder_dies",
            "--exact",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(HOLD_LOCK, &plan)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let locked = lines.any(|l| l.map(|l| l.trim_end().ends_with("locked")).unwrap_or(false));
    if !locked {
        let _ = child.kill();
        panic!("the holder process did not take the lock");
    }

    let err = LockGuard::acquire(&plan, Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, LockfileError::LockTimeout { .. }), "{err:?}");

    // A holder that dies without unlocking (a crash, kill -9) leaves no stale lock.
    child.kill().unwrap();
    child.wait().unwrap();
    LockGuard::acquire(&plan, Duration::from_secs(10)).unwrap();
}

/// The child's side of the test above: takes the lock, says `locked` on stdout and sleeps (at
/// most 60 s) until killed.
fn hold_lock_until_killed(plan: &Path) -> ! {
    let _guard = LockGuard::acquire(plan, Duration::from_secs(10)).unwrap();
    let mut stdout = std::io::stdout();
    std::io::Write::write_all(&mut stdout, b"locked\n").unwrap();
    std::io::Write::flush(&mut stdout).unwrap();
    thread::sleep(Duration::from_secs(60));
    panic!("the holder was not killed within 60 s");
}
