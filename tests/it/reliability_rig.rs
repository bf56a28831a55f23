//! The rig the reliability tests share: an in-process emulator, a scratch directory with plans
//! pointed at it, and readers for the emulator's request log and the lockfiles, so every test
//! can compare what the platform accepted with what aepact recorded.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aepact::emulator::EmulatorBuilder;
use serde_json::{Value, json};

use crate::common::{Output, TestEnv, plan};
use crate::emulator::Api;

pub const GOLD: &str = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
pub const SILVER: &str = "6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8";
pub const LAPSED: &str = "7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a";

/// Three segments of the email dataflow: with `--split --max-segments-per-job 1`, three jobs.
pub const TRIO: &str = "plans/trio.yaml";
pub const TRIO_LOCK: &str = "plans/trio.lock.json";
pub const SPLIT: [&str; 4] = ["--auto-approve", "--split", "--max-segments-per-job", "1"];

/// Longest a test waits for the emulator or a child process to reach a point (a hang guard,
/// never a timed assertion).
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Rig {
    pub api: Api,
    pub env: TestEnv,
}

impl Rig {
    /// The demo world with runs that finish at once, and the three-segment plan.
    pub fn new() -> Self {
        Self::with(Duration::ZERO)
    }

    pub fn with(run_duration: Duration) -> Self {
        let api = Api::with(EmulatorBuilder::new().run_duration(run_duration));
        let env = TestEnv::new()
            .with_file(TRIO, plan("trio", &[GOLD, SILVER, LAPSED]))
            .with_emulator(&api.emulator);
        Self { api, env }
    }

    /// `aepact ARGS` with extra environment variables.
    pub fn command(&self, vars: &[(&str, &str)], args: &[&str]) -> Command {
        let mut cmd = self.env.command(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&[], args)
    }

    /// Runs to the end and checks it did not panic.
    pub fn run_with(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let out = self.command(vars, args).output().unwrap();
        let out = Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        };
        assert!(
            out.status != 101 && !out.stderr.contains("panicked"),
            "aepact {args:?} panicked:\n{out}"
        );
        out
    }

    /// `status` that settles a job in doubt at once when the platform shows no run for it
    /// (instead of after two minutes). Call it only once the emulator has answered every POST
    /// ([`Rig::settle_emulator`]).
    pub fn status(&self, plans: &[&str]) -> Output {
        let mut args = vec!["status"];
        args.extend(plans);
        self.run_with(&[("AEPACT_NOT_RECEIVED_AFTER_MS", "0")], &args)
    }

    pub fn fault(&self, fault: Value) {
        let reply = self.api.admin("POST", "faults", Some(fault));
        assert!(reply.get("error").is_none(), "{reply}");
    }

    pub fn clear_faults(&self) {
        self.api.admin("DELETE", "faults", None);
    }

    pub fn advance_clock(&self, ms: u64) {
        self.api
            .admin("POST", "clock", Some(json!({ "advanceMs": ms })));
    }

    /// The ad-hoc POSTs the emulator received, oldest first.
    pub fn posts(&self) -> Vec<Value> {
        let log = self.api.admin("GET", "requests?route=adhocrun", None);
        log["requests"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until the emulator has finished handling every POST it received (a latency
    /// fault holds one after its client is gone).
    pub fn settle_emulator(&self) {
        let start = Instant::now();
        while self.posts().iter().any(|p| !answered(p)) {
            assert!(start.elapsed() < PATIENCE, "the emulator never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many times the emulator accepted (started runs for) each request body.
    pub fn accepted(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for post in self.posts().iter().filter(|p| accepted(p)) {
            *counts.entry(post["body"].to_string()).or_default() += 1;
        }
        counts
    }

    /// The lockfile, read by aepact's own parser (so it must be valid) and as JSON.
    pub fn lockfile(&self, lock: &str) -> Option<Value> {
        let path = self.env.path().join(lock);
        let text = std::fs::read_to_string(&path).ok()?;
        if let Err(e) = aepact::lockfile::Lockfile::parse(&text, Path::new(lock)) {
            panic!("{lock} does not parse: {e:?}\n{text}");
        }
        Some(serde_json::from_str(&text).unwrap())
    }

    /// Every job of a lockfile, in order.
    pub fn jobs(&self, lock: &str) -> Vec<Value> {
        self.lockfile(lock)
            .map(|l| {
                l["runs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|r| r["jobs"].as_array().unwrap().clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The invariants that must hold at any instant: no body accepted twice; every accepted
    /// body recorded by a job that says it was (or may have been) submitted, never by one that
    /// says it was not sent or not received.
    pub fn check_nothing_lost_or_doubled(&self, lock: &str) {
        let accepted = self.accepted();
        for (body, n) in &accepted {
            assert_eq!(*n, 1, "the emulator accepted this job {n} times: {body}");
        }
        let jobs = self.jobs(lock);
        for body in accepted.keys() {
            let recorded: Vec<&Value> = jobs
                .iter()
                .filter(|j| j["request"].to_string().as_str() == body.as_str())
                .collect();
            assert!(
                recorded.iter().any(|j| may_be_submitted(j)),
                "an accepted job is missing from the lockfile or recorded as not sent: {body}\n{jobs:#?}"
            );
        }
    }

    /// After `status`: every job is final, and `submitted` exactly when the emulator accepted
    /// it.
    pub fn check_settled_truthfully(&self, lock: &str) {
        let accepted = self.accepted();
        let jobs = self.jobs(lock);
        let mut submitted: HashMap<String, usize> = HashMap::new();
        for job in &jobs {
            let status = job["status"].as_str().unwrap();
            assert!(
                status == "submitted" || status == "rejected",
                "status left a job {status}: {job:#}"
            );
            if status == "submitted" {
                *submitted.entry(job["request"].to_string()).or_default() += 1;
            }
        }
        assert_eq!(
            submitted, accepted,
            "the lockfile's submitted jobs are not the emulator's accepted ones"
        );
    }
}

/// The emulator has answered (or dropped) this request.
fn answered(post: &Value) -> bool {
    !post["status"].is_null() || post["fault"]["drop"] == true
}

/// The emulator started runs for this request: it answered 200 (whatever reached the client),
/// or handled it and dropped the connection.
pub fn accepted(post: &Value) -> bool {
    post["status"] == 200 || (post["fault"]["drop"] == true && post["fault"]["status"].is_null())
}

/// A job that says it was, or may have been, submitted.
fn may_be_submitted(job: &Value) -> bool {
    match job["status"].as_str() {
        Some("submitted" | "unknown") => true,
        Some("pending") => !job["sentAt"].is_null(),
        _ => false,
    }
}

/// Starts `cmd` and waits until it writes a line containing `marker` on stderr.
pub fn spawn_until(mut cmd: Command, marker: &str) -> Child {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut seen = String::new();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(marker) => break,
            Some(Ok(line)) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            _ => {
                let status = child.wait().unwrap();
                panic!("the child ended ({status}) before `{marker}`:\n{seen}");
            }
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

/// Polls until `ready` holds (a hang guard, not a timed assertion).
pub fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGKILL, and reap.
pub fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}
