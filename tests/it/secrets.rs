//! Secrets (issue 5, item 4): with canary credentials, every command at its highest verbosity
//! (`-vvv` and `RUST_LOG=trace`), in runs that succeed and runs that fail at authentication
//! and at the POST, never shows a canary on stdout or stderr, nor writes one to a lockfile, a
//! saved plan or the emulator's state file.

use std::path::Path;
use std::time::Duration;

use aepact::emulator::{Emulator, EmulatorBuilder, Seed};
use serde_json::{Value, json};

use crate::common::{Output, TestEnv, repo_root};
use crate::emulator::{CLIENT_ID, ORG};

const PLAN: &str = "plans/flash-sale.yaml";
const LOCK: &str = "plans/flash-sale.lock.json";

/// The client secret the emulator's world really has.
const SECRET: &str = "canary-secret-7f3a91c4-never-print";
/// A wrong client secret (IMS answers 400 `invalid_client`).
const WRONG_SECRET: &str = "canary-wrong-secret-4b2e88d0-never-print";
/// A made-up access token (the gateway answers 401).
const BOGUS_TOKEN: &str = "canary-bogus-token-9d1c5e77-never-print";

/// `text` without whitespace and miette's frame characters.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '│' | '×' | '·' | '─' | '╭' | '╰'))
        .collect()
}

/// Whether a run printed `text`, however miette wrapped it.
fn says(out: &Output, text: &str) -> bool {
    squash(&format!("{}{}", out.stdout, out.stderr)).contains(&squash(text))
}

/// Whether a run printed `canary`, even split over lines: miette wraps long messages (at
/// hyphens too) behind a `│ ` frame, so the text is also searched without whitespace and frame
/// characters.
fn leaks(out: &Output, canary: &str) -> bool {
    let printed = format!("{}{}", out.stdout, out.stderr);
    printed.contains(canary) || squash(&printed).contains(&squash(canary))
}

/// Everything a run printed, kept to check at the end; and the checks on each run.
struct Runs {
    canaries: Vec<String>,
    outputs: Vec<(String, Output)>,
}

impl Runs {
    /// Runs `aepact -vvv ARGS`; `expect` is its exit status, or `None` for any failure.
    fn run(&mut self, env: &TestEnv, args: &[&str], expect: Option<i32>) -> &Output {
        let mut full = vec!["-vvv"];
        full.extend_from_slice(args);
        let out = env.run(&full);
        match expect {
            Some(status) => assert_eq!(out.status, status, "{args:?}: {out}"),
            None => assert_ne!(out.status, 0, "{args:?}: {out}"),
        }
        self.outputs.push((args.join(" "), out));
        &self.outputs.last().unwrap().1
    }

    fn assert_clean(&self) {
        for (args, out) in &self.outputs {
            for canary in &self.canaries {
                assert!(!leaks(out, canary), "`{args}` printed a canary:\n{out}");
            }
        }
    }
}

/// Every file below `dir` (state files, lockfiles, saved plans, temp files) is free of canaries.
fn assert_no_canary_in_files(dir: &Path, canaries: &[String], files_seen: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            assert_no_canary_in_files(&path, canaries, files_seen);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for canary in canaries {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} holds a canary",
                path.display()
            );
        }
        files_seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
}

fn admin(emulator: &Emulator, path: &str, body: Value) {
    let method = if body.is_null() { "DELETE" } else { "POST" };
    crate::emulator::admin(emulator, method, path, (!body.is_null()).then_some(body));
}

/// An access token the emulator issued to the canary client: itself a canary.
fn issued_token(emulator: &Emulator) -> String {
    crate::emulator::token_with(emulator, CLIENT_ID, SECRET)
}

fn bump_run(env: &TestEnv, to: u64) {
    let path = env.path().join(PLAN);
    let text = std::fs::read_to_string(&path).unwrap();
    let from = text
        .lines()
        .find(|l| l.starts_with("run: "))
        .unwrap()
        .to_owned();
    std::fs::write(&path, text.replacen(&from, &format!("run: {to}"), 1)).unwrap();
}

#[test]
fn canaries_never_reach_output_lockfiles_saved_plans_or_emulator_state() {
    let state_dir = tempfile::tempdir().unwrap();
    let mut seed = Seed::demo();
    seed.clients[0].secret = SECRET.to_owned();
    let emulator = EmulatorBuilder::new()
        .seed(seed)
        .state_file(state_dir.path().join("emulator-state.json"))
        .run_duration(Duration::ZERO)
        .start()
        .unwrap();
    let token = issued_token(&emulator);
    let example = std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap();
    let base = |dir_env: TestEnv| {
        dir_env
            .with_emulator_urls(&emulator)
            .with_env("RUST_LOG", "trace")
    };
    let oauth = base(TestEnv::new().with_file(PLAN, &example))
        .with_env("AEP_CLIENT_ID", CLIENT_ID)
        .with_env("AEP_CLIENT_SECRET", SECRET);
    let mut runs = Runs {
        canaries: vec![
            SECRET.to_owned(),
            WRONG_SECRET.to_owned(),
            BOGUS_TOKEN.to_owned(),
            token.clone(),
        ],
        outputs: Vec::new(),
    };

    const OK: Option<i32> = Some(0);
    const FAILS: Option<i32> = Some(1);
    const REFUSED: Option<i32> = None;

    // Client secret: the whole loop, succeeding.
    runs.run(&oauth, &["validate", PLAN], OK);
    runs.run(&oauth, &["plan", PLAN], OK);
    let args = ["plan", "--format", "json", "--out", "plan.json", PLAN];
    // Logs go to stderr only: stdout is still one JSON document.
    let json = runs.run(&oauth, &args, OK).json();
    assert_eq!(json["aepactPlanVersion"], 3);
    let applied = runs.run(&oauth, &["apply", "--auto-approve", "plan.json"], OK);
    // The logs are really there, down to the HTTP stack's own events.
    assert!(
        applied.stderr.contains("IMS access token issued"),
        "{applied}"
    );
    assert!(applied.stderr.contains("status=200"), "{applied}");
    assert!(applied.stderr.contains("TRACE"), "{applied}");
    runs.run(&oauth, &["status", PLAN], OK);
    runs.run(&oauth, &["lock", "verify", PLAN], OK);
    runs.run(&oauth, &["lock", "verify", "--format", "json", "."], OK);

    // Failing at the POST: a 500 (rejected), then a dropped connection (unknown).
    bump_run(&oauth, 2);
    let fault = json!({"route": "adhocrun", "status": 500, "times": 1});
    admin(&emulator, "faults", fault);
    runs.run(&oauth, &["apply", "--auto-approve", PLAN], FAILS);
    bump_run(&oauth, 3);
    admin(
        &emulator,
        "faults",
        json!({"route": "adhocrun", "drop": true, "times": 1}),
    );
    runs.run(&oauth, &["apply", "--auto-approve", PLAN], FAILS);
    runs.run(&oauth, &["lock", "verify", PLAN], OK);

    // Failing at authentication, with a job in doubt for `status` to settle: IMS answers 401,
    // then a wrong secret (IMS answers 400), then a token the gateway refuses (401).
    let wrong = base(TestEnv::new())
        .with_env("AEP_CLIENT_ID", CLIENT_ID)
        .with_env("AEP_CLIENT_SECRET", WRONG_SECRET);
    let bogus = base(TestEnv::new())
        .with_env("AEP_ACCESS_TOKEN", BOGUS_TOKEN)
        .with_env("AEP_API_KEY", CLIENT_ID);
    for env in [&wrong, &bogus] {
        for file in [PLAN, LOCK] {
            env.write(file, std::fs::read(oauth.path().join(file)).unwrap());
        }
    }
    admin(
        &emulator,
        "faults",
        json!({"route": "ims.token", "status": 401}),
    );
    runs.run(&oauth, &["plan", PLAN], REFUSED);
    runs.run(&oauth, &["apply", "--auto-approve", PLAN], REFUSED);
    runs.run(&oauth, &["status", PLAN], FAILS);
    admin(&emulator, "faults", Value::Null);
    let out = runs.run(&wrong, &["status", PLAN], FAILS);
    assert!(says(out, "IMS refused the token request"), "{out}");
    runs.run(&wrong, &["plan", "--out", "plan.json", PLAN], REFUSED);
    runs.run(&wrong, &["apply", "--auto-approve", PLAN], REFUSED);
    let out = runs.run(&bogus, &["status", PLAN], FAILS);
    assert!(says(out, "HTTP 401"), "{out}");
    runs.run(&bogus, &["plan", PLAN], REFUSED);
    runs.run(&bogus, &["apply", "--auto-approve", PLAN], REFUSED);
    // Settled with the right secret.
    runs.run(&oauth, &["status", PLAN], OK);

    // An access token (`AEP_ACCESS_TOKEN`): the loop succeeding, then a 401 at the POST.
    let issued = base(TestEnv::new().with_file(PLAN, &example))
        .with_env("AEP_ACCESS_TOKEN", &token)
        .with_env("AEP_API_KEY", CLIENT_ID);
    // A second copy of the plan (a scratch directory of its own): sent past the first copy's
    // recent runs, which its lockfile does not record, on purpose.
    bump_run(&issued, 4);
    let past = "--allow-unrecorded-runs";
    runs.run(&issued, &["plan", past, "--out", "plan.json", PLAN], OK);
    runs.run(&issued, &["apply", "--auto-approve", past, PLAN], OK);
    runs.run(&issued, &["status", PLAN], OK);
    runs.run(&issued, &["lock", "verify", "plans"], OK);
    bump_run(&issued, 5);
    admin(
        &emulator,
        "faults",
        json!({"route": "adhocrun", "status": 401, "times": 1}),
    );
    runs.run(&issued, &["apply", "--auto-approve", PLAN], FAILS);

    runs.assert_clean();
    drop(emulator);
    let mut files = Vec::new();
    for dir in [
        state_dir.path(),
        oauth.path(),
        wrong.path(),
        issued.path(),
        bogus.path(),
    ] {
        assert_no_canary_in_files(dir, &runs.canaries, &mut files);
    }
    // Not vacuous: the files that could leak were written.
    for name in ["emulator-state.json", "flash-sale.lock.json", "plan.json"] {
        assert!(files.iter().any(|f| f == name), "{name} missing: {files:?}");
    }
}

/// A password or token put in `AEP_PLATFORM_URL` or `AEP_IMS_URL` is refused before any
/// request, and the error shows the URL without it (it used to be printed with every error
/// naming the URL).
#[test]
fn credentials_in_endpoint_urls_are_refused_and_never_printed() {
    let canary = "canary-url-password-2c7d-never-print";
    let example = std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap();
    for (name, url, shown) in [
        (
            "AEP_PLATFORM_URL",
            format!("http://svc:{canary}@127.0.0.1:9/"),
            "http://***@127.0.0.1:9/",
        ),
        (
            "AEP_IMS_URL",
            format!("http://127.0.0.1:9/?access_token={canary}"),
            "http://127.0.0.1:9/",
        ),
        ("AEP_PLATFORM_URL", format!("htp:/svc:{canary}@"), "***@"),
    ] {
        let env = TestEnv::new()
            .with_file(PLAN, &example)
            .with_env("AEP_ORG_ID", ORG)
            .with_env("AEP_CLIENT_ID", CLIENT_ID)
            .with_env("AEP_CLIENT_SECRET", SECRET)
            .with_env(name, &url)
            .with_env("RUST_LOG", "trace");
        for args in [
            &["-vvv", "plan", PLAN][..],
            &["-vvv", "apply", "--auto-approve", PLAN][..],
        ] {
            let out = env.run(args);
            assert_eq!(out.status, 1, "{out}");
            assert!(!leaks(&out, canary), "{out}");
            assert!(says(&out, name), "{out}");
            assert!(says(&out, shown), "{shown}: {out}");
        }
    }
}

/// A stand-in server on 127.0.0.1 that answers every request with `respond(request head)` as
/// `(status, content type, body)`. For replies the emulator cannot make: a token response cut
/// short, error pages that echo the request's headers.
fn fake_server(respond: fn(&str) -> (u16, &'static str, String)) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, kind, body) = respond(&head);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// The `Authorization` header's value in a request head.
fn authorization(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// A token IMS issued may come back in an error body (a proxy's page echoing the request's
/// headers) or in a token response cut short: neither is ever printed. Both used to be: only
/// the configured secret was scrubbed, and a token response that did not parse was quoted.
#[test]
fn issued_tokens_in_server_replies_are_never_printed() {
    const ISSUED: &str = "canary-issued-token-5a0f-never-print";
    let env = |url: &str| {
        TestEnv::new()
            .with_file(
                PLAN,
                std::fs::read_to_string(repo_root().join("examples/flash-sale.yaml")).unwrap(),
            )
            .with_env("AEP_PLATFORM_URL", url)
            .with_env("AEP_IMS_URL", url)
            .with_env("AEP_ORG_ID", ORG)
            .with_env("AEP_CLIENT_ID", CLIENT_ID)
            .with_env("AEP_CLIENT_SECRET", SECRET)
            .with_env("RUST_LOG", "trace")
    };
    let check = |out: &Output, text: &str, exit: i32| {
        assert_eq!(out.status, exit, "{out}");
        for canary in [ISSUED, SECRET] {
            assert!(!leaks(out, canary), "{out}");
        }
        assert!(says(out, text), "{text}: {out}");
    };

    // A token response cut short.
    let url = fake_server(|_| {
        (
            200,
            "application/json",
            format!("{{\"access_token\": \"{ISSUED}"),
        )
    });
    let out = env(&url).run(["-vvv", "plan", PLAN]);
    check(&out, "the body is not shown", 1);

    // Error pages quoting the request's Authorization header: JSON and HTML.
    let url = fake_server(|head| {
        if head.starts_with("POST /ims/token/v3") {
            let token = format!("{{\"access_token\": \"{ISSUED}\", \"expires_in\": 86399}}");
            return (200, "application/json", token);
        }
        let echo = authorization(head);
        (
            500,
            "application/json",
            format!("{{\"message\": \"upstream failed for `{echo}`\"}}"),
        )
    });
    let out = env(&url).run(["-vvv", "plan", PLAN]);
    // A 500 clears by itself (75).
    check(&out, "upstream failed for `Bearer ***`", 75);
    let url = fake_server(|head| {
        if head.starts_with("POST /ims/token/v3") {
            let token = format!("{{\"access_token\": \"{ISSUED}\", \"expires_in\": 86399}}");
            return (200, "application/json", token);
        }
        let echo = authorization(head);
        (
            403,
            "text/html",
            format!("<html><pre>Authorization: {echo}</pre></html>"),
        )
    });
    let out = env(&url).run(["-vvv", "status", PLAN]);
    // No lockfile yet: status has nothing to poll. Plan reaches the server.
    assert_eq!(out.status, 0, "{out}");
    let out = env(&url).run(["-vvv", "plan", PLAN]);
    check(&out, "Authorization: Bearer ***", 1);
}
