//! `aepact lock verify` (issue 5, item 6), and damaged lockfiles: a hand-edited, truncated or
//! merge-conflicted lockfile gives a clear error naming the place, `apply` and `status` refuse
//! it, and nothing ever rewrites it.

use serde_json::{Value, json};

use crate::common::{Output, TestEnv, repo_root};
use crate::emulator::Api;

const PLAN: &str = "plans/flash-sale.yaml";
const LOCK: &str = "plans/flash-sale.lock.json";

/// The flash-sale example applied once against a fresh emulator (runs finish at once).
struct Applied {
    api: Api,
    env: TestEnv,
}

impl Applied {
    fn new() -> Self {
        let online = crate::apply::Online::new();
        let applied = Self {
            api: online.api,
            env: online.env,
        };
        let out = applied.run(&["apply", "--auto-approve", PLAN]);
        assert_eq!(out.status, 0, "{out}");
        applied
    }

    fn run(&self, args: &[&str]) -> Output {
        self.env.run(args)
    }

    fn lock_text(&self) -> String {
        std::fs::read_to_string(self.env.path().join(LOCK)).unwrap()
    }

    fn write_lock(&self, text: &str) {
        std::fs::write(self.env.path().join(LOCK), text).unwrap();
    }

    fn posts(&self) -> usize {
        let log = self.api.admin("GET", "requests?route=adhocrun", None);
        log.as_array()
            .or_else(|| log["requests"].as_array())
            .map_or(0, Vec::len)
    }

    /// `apply` and `status` on the damaged lockfile now on disk: both refuse with exit 1 and an
    /// error containing `says`, send nothing, and leave the file byte for byte as it is.
    fn assert_refused(&self, says: &[&str]) {
        let before = std::fs::read(self.env.path().join(LOCK)).unwrap();
        let posts = self.posts();
        // Bump `run` so that apply would really send something if it accepted the lockfile.
        let plan = self.env.path().join(PLAN);
        let text = std::fs::read_to_string(&plan).unwrap();
        std::fs::write(&plan, text.replacen("run: 1", "run: 2", 1)).unwrap();
        for args in [
            &["apply", "--auto-approve", PLAN][..],
            &["status", PLAN][..],
            &["plan", PLAN][..],
        ] {
            let out = self.run(args);
            assert_eq!(out.status, 1, "{args:?}: {out}");
            for s in says {
                assert!(
                    squash(&out.stderr).contains(&squash(s)),
                    "{args:?} does not say {s:?}: {out}"
                );
            }
            assert_eq!(
                std::fs::read(self.env.path().join(LOCK)).unwrap(),
                before,
                "{args:?} changed the damaged lockfile"
            );
        }
        assert_eq!(self.posts(), posts, "nothing is sent on a damaged lockfile");
        std::fs::write(&plan, text).unwrap();
        // Nothing beside it either: no temp file, no conflict copy.
        let names: Vec<String> = std::fs::read_dir(self.env.path().join("plans"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}

/// Text without whitespace or miette's frame characters: the same message however the
/// terminal width wrapped it.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '│' | '×' | '·' | '─' | '╭' | '╰'))
        .collect()
}

#[test]
fn clean_lockfile_from_a_real_apply_passes() {
    let a = Applied::new();
    // After status polled it too.
    assert_eq!(a.run(&["status", PLAN]).status, 0);
    let before = a.lock_text();
    for target in [LOCK, PLAN, "plans", "."] {
        let out = a.run(&["lock", "verify", target]);
        assert_eq!(out.status, 0, "{target}: {out}");
        assert_eq!(out.stdout, "Checked 1 lockfile: no problems.\n", "{out}");
        assert_eq!(out.stderr, "");
    }
    let json = a.run(&["lock", "verify", "--format", "json", "."]).json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["lockfiles"][0]["path"], "./plans/flash-sale.lock.json");
    assert_eq!(json["lockfiles"][0]["planFile"], "./plans/flash-sale.yaml");
    assert_eq!(json["lockfiles"][0]["runs"], 1);
    assert_eq!(a.lock_text(), before, "verify never writes");
}

#[test]
fn no_lockfiles_and_missing_paths() {
    let env = TestEnv::new().with_file(PLAN, "name: x\n");
    let out = env.run(["lock", "verify", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("No lockfiles found"), "{out}");
    let out = env.run(["lock", "verify", "nowhere"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stdout,
        "nowhere: does not exist\nChecked 0 lockfiles: 1 problem in 1 path.\n"
    );
}

/// The problems verify prints, one per line, without the summary.
fn problem_lines(out: &Output) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| !l.starts_with("Checked "))
        .collect()
}

#[test]
fn hand_edited_lockfile_names_each_problem_at_its_pointer() {
    let a = Applied::new();
    let good = a.lock_text();
    // Break several things at once: verify lists them all.
    let mut lock: Value = serde_json::from_str(&good).unwrap();
    let job = &mut lock["runs"][0]["jobs"][0];
    job["status"] = "pending".into(); // a pending job with orders and a sentAt
    job["request"]["exportIds"] = serde_json::json!(["99999"]);
    job["orders"][1]["runId"] = "not-the-run".into();
    lock["runs"][0]["endpoint"] = "http://user:pw@127.0.0.1:1".into();
    lock["plan"] = "another-plan".into();
    let text = serde_json::to_string_pretty(&lock).unwrap() + "\n";
    a.write_lock(&text);

    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    let lines = problem_lines(&out);
    let expected = [
        "plans/flash-sale.lock.json: /runs/0/jobs/0/orders: a `pending` job has no orders; only `submitted` jobs do",
        "plans/flash-sale.lock.json: /runs/0/jobs/0/orders/1/runId: `runId` `not-the-run` is not the run",
        "plans/flash-sale.lock.json: /plan: records plan `another-plan`, but `plans/flash-sale.yaml` is plan `black-friday-flash-sale`",
        "plans/flash-sale.lock.json: /runs/0/endpoint: `endpoint` carries user info",
        "plans/flash-sale.lock.json: /runs/0/jobs/0/request/exportIds: `exportIds` are not the run's `exports.resolved`",
    ];
    assert_eq!(lines.len(), expected.len(), "{out}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.starts_with(want), "{line}\n  wanted {want}");
    }
    assert!(
        out.stdout
            .ends_with("Checked 1 lockfile: 5 problems in 1 path.\n"),
        "{out}"
    );
    let json = a.run(&["lock", "verify", "--format", "json", PLAN]).json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"], 5);
    let kinds: Vec<&str> = json["lockfiles"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    // Named as the error codes `apply` refuses with (`aepact::lockfile::inconsistent`, …).
    assert_eq!(
        kinds,
        [
            "inconsistent",
            "inconsistent",
            "wrong_plan",
            "endpoint",
            "request"
        ]
    );
    let first = &json["lockfiles"][0]["problems"][0];
    assert_eq!(first["pointer"], "/runs/0/jobs/0/orders");
    assert_eq!(first["line"], Value::Null);
    assert_eq!(a.lock_text(), text, "verify never writes");
}

#[test]
fn hand_edited_lockfile_is_refused_by_apply_and_status() {
    let a = Applied::new();
    let text = a
        .lock_text()
        .replacen("\"status\": \"submitted\"", "\"status\": \"pending\"", 1);
    a.write_lock(&text);
    a.assert_refused(&[
        "the lockfile `plans/flash-sale.lock.json` is inconsistent",
        "at `/runs/0/jobs/0/orders`: a `pending` job has no orders",
        "git checkout -- plans/flash-sale.lock.json",
    ]);
}

#[test]
fn truncated_lockfile_names_line_and_column() {
    let a = Applied::new();
    let good = a.lock_text();
    let cut = &good[..good.find("\"orders\"").unwrap() + 11];
    a.write_lock(cut);
    let (line, column) = (cut.lines().count(), cut.lines().last().unwrap().len());

    let out = a.run(&["lock", "verify", LOCK]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        problem_lines(&out),
        [format!(
            "plans/flash-sale.lock.json:{line}:{column}: not valid JSON: EOF while parsing a list (truncated or hand-edited? restore it from git)"
        )]
    );
    a.assert_refused(&[
        &format!(
            "the lockfile `plans/flash-sale.lock.json` is not valid JSON: EOF while parsing a list at line {line}, column {column}"
        ),
        "aepact never overwrites a lockfile it cannot read",
    ]);
}

/// Two branches each applied the plan (run 1 on one, run 2 on the other) and git merged them.
fn merge_conflicted(good: &str) -> (String, usize) {
    let start = good.find("    {\n      \"run\": 1,").unwrap();
    let end = good.rfind("\n  ]\n}").unwrap();
    let ours = &good[start..end];
    // Run 2 is another intent: its digest is that of the same pairs under run number 2.
    let key = "\"intentDigest\": \"sha256:";
    let at = ours.find(key).unwrap() + key.len();
    let digest = &ours[at..at + 64];
    let bumped = ours.replacen("\"run\": 1,", "\"run\": 2,", 1);
    let record: aepact::lockfile::RunRecord = serde_json::from_str(&bumped).unwrap();
    let theirs = bumped.replacen(&format!("sha256:{digest}"), &record.recorded_digest(), 1);
    let text = format!(
        "{}<<<<<<< HEAD\n{ours}\n=======\n{theirs}\n>>>>>>> feature/more-segments{}",
        &good[..start],
        &good[end..]
    );
    let line = good[..start].lines().count() + 1;
    (text, line)
}

#[test]
fn merge_conflicted_lockfile_says_to_keep_both_sides() {
    let a = Applied::new();
    let (text, line) = merge_conflicted(&a.lock_text());
    a.write_lock(&text);

    let out = a.run(&["lock", "verify", "plans"]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        problem_lines(&out),
        [format!(
            "plans/flash-sale.lock.json:{line}:1: unresolved merge conflict (`<<<<<<<`): resolve it keeping both sides' runs, oldest first, and remove the conflict markers"
        )]
    );
    a.assert_refused(&[
        &format!(
            "the lockfile `plans/flash-sale.lock.json` has an unresolved merge conflict: `<<<<<<<` at line {line}, column 1"
        ),
        "resolve the conflict keeping both sides' runs",
        "aepact lock verify",
    ]);

    // Resolved as the help says (both runs kept): verify passes again.
    let resolved = text
        .replace("<<<<<<< HEAD\n", "")
        .replace("\n=======\n", ",\n")
        .replace("\n>>>>>>> feature/more-segments", "");
    a.write_lock(&resolved);
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 0, "{out}");
}

#[test]
fn the_same_intent_activated_twice_is_reported() {
    let a = Applied::new();
    let good = a.lock_text();
    let start = good.find("    {\n      \"run\": 1,").unwrap();
    let end = good.rfind("\n  ]\n}").unwrap();
    let run = &good[start..end];
    // The same run appended twice, as a careless merge of two applies would leave it.
    let text = format!("{}{run},\n{run}{}", &good[..start], &good[end..]);
    a.write_lock(&text);
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        problem_lines(&out),
        [
            "plans/flash-sale.lock.json: /runs/1/intentDigest: run 1 of this intent requested segment `db8961e9-d52f-45bc-b3fb-76d0382a6851` to `0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f` again after `/runs/0` may already have activated it: it may have been activated twice"
        ]
    );
}

/// Another `lockfileVersion` is placed at its line and column, as docs/lockfile.md says of every
/// format error (issue 14, point 14: it was a JSON pointer), and keeps its pointer in JSON.
#[test]
fn non_utf8_and_unknown_version_are_reported() {
    let a = Applied::new();
    let good = a.lock_text();
    a.write_lock(&good.replacen("\"lockfileVersion\": 3", "\"lockfileVersion\": 7", 1));
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(
        problem_lines(&out),
        [
            "plans/flash-sale.lock.json:2:3: `lockfileVersion` is 7; this aepact reads versions 1 to 3"
        ]
    );
    let json = a.run(&["lock", "verify", "--format", "json", PLAN]).json();
    let problem = &json["lockfiles"][0]["problems"][0];
    assert_eq!(
        (
            &problem["kind"],
            &problem["pointer"],
            &problem["line"],
            &problem["column"]
        ),
        (
            &json!("version"),
            &json!("/lockfileVersion"),
            &json!(2),
            &json!(3)
        ),
        "{problem:#}"
    );
    // A byte that is not UTF-8 inside the plan's name (line 3): never replaced and saved.
    let mut bytes = good.into_bytes();
    let at = bytes.windows(6).position(|w| w == b"friday").unwrap();
    bytes[at] = 0xff;
    std::fs::write(a.env.path().join(LOCK), &bytes).unwrap();
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        problem_lines(&out),
        [
            "plans/flash-sale.lock.json:3:18: not valid JSON: bytes that are not UTF-8 (truncated or hand-edited? restore it from git)"
        ]
    );
    a.assert_refused(&[
        "the lockfile `plans/flash-sale.lock.json` is not valid JSON: bytes that are not UTF-8 at line 3, column 18",
    ]);
}

/// A lockfile that records another plan (a copy from another plan, a renamed plan) is not
/// polled into, planned against or applied over.
#[test]
fn lockfile_of_another_plan_is_refused() {
    let a = Applied::new();
    let text = a.lock_text().replacen(
        "\"plan\": \"black-friday-flash-sale\"",
        "\"plan\": \"spring-sale\"",
        1,
    );
    a.write_lock(&text);
    a.assert_refused(&[
        "the lockfile `plans/flash-sale.lock.json` records plan `spring-sale`, not `black-friday-flash-sale`",
    ]);
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stdout.contains(": /plan: records plan `spring-sale`"),
        "{out}"
    );
}

#[test]
fn the_documented_example_passes() {
    let docs = std::fs::read_to_string(repo_root().join("docs/lockfile.md")).unwrap();
    let start = docs.find("```json\n").unwrap() + 8;
    let end = start + docs[start..].find("```\n").unwrap();
    let env = TestEnv::new().with_file("plans/black-friday.lock.json", &docs[start..end]);
    let out = env.run(["lock", "verify", "plans"]);
    assert_eq!(out.status, 0, "{out}");
    assert_eq!(out.stdout, "Checked 1 lockfile: no problems.\n");
}

/// A request of another shape than an ad-hoc body does not match the format: `invalid`, at its
/// line and column (the body is typed from plan to lockfile).
#[test]
fn a_request_of_another_shape_is_invalid_at_its_place() {
    let a = Applied::new();
    let good = a.lock_text();
    a.write_lock(&good.replacen("\"activationInfo\": {", "\"activationInfo\": {\"x\": 1,", 1));
    let out = a.run(&["lock", "verify", PLAN]);
    assert_eq!(out.status, 1, "{out}");
    let lines = problem_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("plans/flash-sale.lock.json:")
            && lines[0].contains("does not match the lockfile format"),
        "{out}"
    );
    let json = a.run(&["lock", "verify", "--format", "json", PLAN]).json();
    assert_eq!(json["lockfiles"][0]["problems"][0]["kind"], "invalid");
    assert!(
        json["lockfiles"][0]["problems"][0]["line"]
            .as_u64()
            .unwrap()
            > 1
    );
}
