//! The shell installer and the GitHub Action's scripts, run for real: `install.sh` against a
//! fake release in a local directory (`file://`), `action/install.sh` falling back to a build,
//! and `action/run.sh` planning against the emulator (with a stand-in `gh` that records the
//! comment) and applying with the lockfiles pushed to a local bare repository. Nothing leaves
//! the machine. The tests say so and pass when bash, git, jq or curl is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aepact::emulator::EmulatorBuilder;

use crate::common::repo_root;
use crate::emulator::{Api, CLIENT_ID, ORG, SECRET};

/// Whether every tool is on PATH; prints a notice naming the missing ones (visible in the test
/// output, as `.ci/run` gives for its optional linters).
#[allow(clippy::print_stderr)]
fn have(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        eprintln!("NOTICE: skipped: {} not installed", missing.join(", "));
    }
    missing.is_empty()
}

/// A fake release of `aepact-TARGET.tar.gz` whose `aepact` prints `fake aepact`; returns the
/// directory, as a `file://` URL.
fn fake_release(dir: &Path, target: &str) -> String {
    let top = dir.join(format!("aepact-{target}"));
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(top.join("aepact"), "#!/bin/sh\necho fake aepact \"$@\"\n").unwrap();
    let script = format!(
        "chmod +x aepact-{target}/aepact && tar -czf aepact-{target}.tar.gz aepact-{target} && sha256sum aepact-{target}.tar.gz > aepact-{target}.tar.gz.sha256"
    );
    let ok = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(ok.success());
    format!("file://{}", dir.display())
}

fn install_sh(release_url: &str, to: &Path, extra: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg(repo_root().join("install.sh"))
        .args([
            "--version",
            "0.1.0",
            "--target",
            "x86_64-unknown-linux-musl",
            "--to",
        ])
        .arg(to)
        .args(extra)
        .env("AEPACT_RELEASE_URL", release_url)
        .output()
        .unwrap()
}

#[test]
fn installer_checks_the_checksum_before_installing() {
    if !have(&["curl", "tar", "sha256sum"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let release = tmp.path().join("release");
    let url = fake_release(&release, "x86_64-unknown-linux-musl");
    let bin = tmp.path().join("bin");

    let out = install_sh(&url, &bin, &[]);
    assert!(out.status.success(), "{out:?}");
    let installed = Command::new(bin.join("aepact")).arg("x").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&installed.stdout),
        "fake aepact x\n"
    );

    // A tampered archive is refused, and nothing is installed.
    let sum = release.join("aepact-x86_64-unknown-linux-musl.tar.gz.sha256");
    std::fs::write(
        &sum,
        format!(
            "{}  aepact-x86_64-unknown-linux-musl.tar.gz\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let other = tmp.path().join("other");
    let out = install_sh(&url, &other, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{out:?}"
    );
    assert!(!other.join("aepact").exists());

    // No archive for this target: exit 3, so that callers build from source instead.
    let out = install_sh(&url, &other, &["--target", "aarch64-unknown-linux-musl"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = install_sh(&url, &other, &["--version", "one"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// The step files GitHub gives an action (`$GITHUB_OUTPUT`, ...), in a scratch directory.
struct Runner {
    dir: tempfile::TempDir,
    /// `gh` and `aepact` stand-ins and links, first on PATH.
    bin: PathBuf,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let aepact = std::env::var_os("AEPACT_TEST_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_aepact")));
        std::os::unix::fs::symlink(aepact, bin.join("aepact")).unwrap();
        // `gh api` stand-in: logs each call with its stdin; lists one earlier comment when
        // `gh-comments` says so.
        let gh = format!(
            "#!/bin/sh\nlog={log}\necho \"gh $*\" >> \"$log\"\ncase \"$*\" in\n  *--paginate*) cat {dir}/gh-comments 2>/dev/null ;;\n  *--input*) cat >> \"$log\"; echo >> \"$log\" ;;\nesac\n",
            log = dir.path().join("gh.log").display(),
            dir = dir.path().display(),
        );
        std::fs::write(bin.join("gh"), gh).unwrap();
        Command::new("chmod")
            .arg("+x")
            .arg(bin.join("gh"))
            .status()
            .unwrap();
        for file in ["output", "path", "event.json", "gh.log"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        Self { dir, bin }
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    /// `bash SCRIPT` in `cwd` as a composite action's step runs it.
    fn step(&self, script: &str, cwd: &Path, env: &[(&str, &str)]) -> std::process::Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join(script))
            .current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("GITHUB_ACTION_PATH", repo_root())
            .env("GITHUB_OUTPUT", self.dir.path().join("output"))
            .env("GITHUB_PATH", self.dir.path().join("path"))
            .env("GITHUB_EVENT_PATH", self.dir.path().join("event.json"))
            .env("GITHUB_REPOSITORY", "acme/plans")
            .env("GITHUB_SERVER_URL", "https://github.invalid")
            .env("GITHUB_RUN_ID", "1")
            .env("RUNNER_TEMP", self.dir.path())
            .env("AEPACT_GITHUB_TOKEN", "test-token");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn show(out: &std::process::Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn action_installs_the_release_or_falls_back_to_a_build() {
    if !have(&["bash", "curl", "tar", "sha256sum"]) {
        return;
    }
    let runner = Runner::new();
    let release = runner.dir.path().join("release");
    let url = fake_release(&release, "x86_64-unknown-linux-musl");
    let cwd = runner.dir.path();
    if std::env::consts::ARCH == "x86_64" && std::env::consts::OS == "linux" {
        let out = runner.step(
            "action/install.sh",
            cwd,
            &[
                ("AEPACT_RELEASE_URL", &url),
                ("ACTION_REPOSITORY", "acme/aepact"),
            ],
        );
        assert!(out.status.success(), "{}", show(&out));
        let output = runner.file("output");
        assert!(output.contains("build=false\n"), "{output}");
        let bin = runner.file("path");
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            bin.trim_end().ends_with(&format!("aepact-{version}/bin")),
            "{bin}"
        );
        assert!(Path::new(bin.trim_end()).join("aepact").is_file());
    }

    // No release for this version: `auto` builds, `release` fails.
    let missing = format!("file://{}/nothing", runner.dir.path().display());
    let env = [
        ("AEPACT_RELEASE_URL", missing.as_str()),
        ("ACTION_REPOSITORY", "acme/aepact"),
    ];
    let out = runner.step("action/install.sh", cwd, &env);
    assert!(out.status.success(), "{}", show(&out));
    let output = runner.file("output");
    let version = env!("CARGO_PKG_VERSION");
    assert!(output.contains("build=true\n"), "{output}");
    assert!(
        output.contains(&format!("root={}/aepact-{version}\n", cwd.display())),
        "{output}"
    );
    let key = output
        .lines()
        .find_map(|l| l.strip_prefix("cache-key="))
        .unwrap();
    assert!(
        key.starts_with(&format!("aepact-os-arch-{version}-")) && key.len() > 70,
        "{key}"
    );
    let out = runner.step(
        "action/install.sh",
        cwd,
        &[env[0], env[1], ("INPUT_INSTALL", "release")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

/// The emulator and the flash-sale example, with the environment that points aepact at it.
fn online() -> (Api, tempfile::TempDir, Vec<(String, String)>) {
    let api = Api::with(EmulatorBuilder::new().run_duration(Duration::ZERO));
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("plans")).unwrap();
    std::fs::copy(
        repo_root().join("examples/flash-sale.yaml"),
        work.path().join("plans/flash-sale.yaml"),
    )
    .unwrap();
    let env = vec![
        (
            "AEP_PLATFORM_URL".to_owned(),
            api.emulator.platform_url().to_owned(),
        ),
        ("AEP_IMS_URL".to_owned(), api.emulator.ims_url().to_owned()),
        ("AEP_ORG_ID".to_owned(), ORG.to_owned()),
        ("AEP_CLIENT_ID".to_owned(), CLIENT_ID.to_owned()),
        ("AEP_CLIENT_SECRET".to_owned(), SECRET.to_owned()),
    ];
    (api, work, env)
}

fn with<'a>(base: &'a [(String, String)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(more.iter().copied())
        .collect()
}

#[test]
fn action_plan_posts_one_comment_and_sets_the_summary_outputs() {
    if !have(&["bash", "jq"]) {
        return;
    }
    let (_api, work, env) = online();
    let runner = Runner::new();
    std::fs::write(
        runner.dir.path().join("event.json"),
        r#"{"pull_request": {"number": 7}}"#,
    )
    .unwrap();
    // `validate`, with extra arguments passed on.
    let out = runner.step(
        "action/run.sh",
        work.path(),
        &[
            ("INPUT_COMMAND", "validate"),
            ("INPUT_ARGS", "--api-version 2"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert!(runner.file("output").contains("exit-code=0\n"));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("+ aepact validate --format github --api-version 2 plans/"),
        "{}",
        show(&out)
    );
    std::fs::write(runner.dir.path().join("output"), "").unwrap();

    let step = with(
        &env,
        &[("INPUT_COMMAND", "plan"), ("INPUT_PATHS", "plans/")],
    );
    let out = runner.step("action/run.sh", work.path(), &step);
    assert!(
        out.status.success(),
        "exit 2 (something to apply) passes: {}",
        show(&out)
    );
    let output = runner.file("output");
    for line in [
        "exit-code=2",
        "to-apply=1",
        "already-applied=0",
        "refused=0",
        "saved-plan=aepact-plan.json",
    ] {
        assert!(output.lines().any(|l| l == line), "{line} in\n{output}");
    }
    assert!(work.path().join("aepact-plan.json").is_file());
    let log = runner.file("gh.log");
    assert!(
        log.contains("gh api --paginate repos/acme/plans/issues/7/comments"),
        "{log}"
    );
    assert!(
        log.contains("--method POST repos/acme/plans/issues/7/comments"),
        "{log}"
    );
    let body: serde_json::Value =
        serde_json::from_str(log.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert!(
        body["body"]
            .as_str()
            .unwrap()
            .starts_with("<!-- aepact:plan -->\n"),
        "{body}"
    );

    // The second push updates that comment instead of adding one.
    std::fs::write(runner.dir.path().join("gh-comments"), "4242\n").unwrap();
    std::fs::write(runner.dir.path().join("gh.log"), "").unwrap();
    let out = runner.step("action/run.sh", work.path(), &step);
    assert!(out.status.success(), "{}", show(&out));
    let log = runner.file("gh.log");
    assert!(
        log.contains("--method PATCH repos/acme/plans/issues/comments/4242"),
        "{log}"
    );
    assert!(!log.contains("--method POST"), "{log}");

    // When aepact prints nothing (no credentials), the comment still says what happened.
    std::fs::write(runner.dir.path().join("gh-comments"), "").unwrap();
    std::fs::write(runner.dir.path().join("gh.log"), "").unwrap();
    let out = runner.step("action/run.sh", work.path(), &[("INPUT_COMMAND", "plan")]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let log = runner.file("gh.log");
    assert!(
        log.contains(r"**aepact plan failed** (exit status 1)"),
        "{log}"
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", show(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue 9: the lockfile is pushed right after `apply`, before `status --wait`, retrying after
/// `git pull --rebase` when the branch moved; then again after status.
#[test]
fn action_apply_pushes_the_lockfiles_before_and_after_status() {
    if !have(&["bash", "git"]) {
        return;
    }
    let (_api, work, env) = online();
    let runner = Runner::new();
    let origin = runner.dir.path().join("origin.git");
    let seed = runner.dir.path().join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(
        runner.dir.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            origin.to_str().unwrap(),
        ],
    );
    // The workspace: a clone of origin holding the plan.
    let ws = work.path();
    git(ws, &["init", "--quiet", "--initial-branch=main"]);
    git(ws, &["add", "plans"]);
    git(ws, &["commit", "--quiet", "-m", "plan"]);
    git(ws, &["remote", "add", "origin", origin.to_str().unwrap()]);
    git(ws, &["push", "--quiet", "origin", "main"]);
    // Someone else pushes meanwhile: the first push is refused and must pull first.
    git(&seed, &["clone", "--quiet", origin.to_str().unwrap(), "."]);
    std::fs::write(seed.join("README"), "other\n").unwrap();
    git(&seed, &["add", "README"]);
    git(&seed, &["commit", "--quiet", "-m", "someone else"]);
    git(&seed, &["push", "--quiet", "origin", "main"]);

    let step = with(
        &env,
        &[
            ("INPUT_COMMAND", "apply"),
            ("INPUT_PATHS", "plans/"),
            ("INPUT_COMMIT_LOCKFILES", "true"),
            ("INPUT_WAIT", "true"),
            ("INPUT_TIMEOUT", "1m"),
            ("GITHUB_REF_NAME", "main"),
        ],
    );
    let out = runner.step("action/run.sh", ws, &step);
    assert!(out.status.success(), "{}", show(&out));
    let output = runner.file("output");
    assert!(
        output.contains("exit-code=0\n") && output.contains("status-exit-code=0\n"),
        "{output}"
    );
    let log = {
        git(&seed, &["fetch", "--quiet", "origin"]);
        git(&seed, &["log", "--format=%s", "origin/main"])
    };
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "aepact: record activation outcomes",
            "aepact: record activations",
            "someone else",
            "plan"
        ],
        "{}",
        show(&out)
    );
    let first = git(&seed, &["show", "origin/main~1:plans/flash-sale.lock.json"]);
    assert!(first.contains("submitted"), "{first}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Push 1 of 5 refused"),
        "{}",
        show(&out)
    );
}
