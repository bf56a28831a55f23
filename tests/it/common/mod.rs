//! The test environment: a scratch directory, the `aepact` binary run with a clean environment,
//! and output shaped for snapshots (stdout, stderr and the exit status together).

#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory to run `aepact` in.
pub struct TestEnv {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parent directories) and returns the env for chaining.
    pub fn with_file(self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        self.write(name, contents);
        self
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Points every command at `emulator` as the platform, with its demo organisation and
    /// credentials (a variable set again later wins).
    pub fn with_emulator(self, emulator: &aepact::emulator::Emulator) -> Self {
        self.with_emulator_urls(emulator)
            .with_env("AEP_CLIENT_ID", crate::emulator::CLIENT_ID)
            .with_env("AEP_CLIENT_SECRET", crate::emulator::SECRET)
    }

    /// [`with_emulator`](Self::with_emulator) without the credentials: the URLs and the org.
    pub fn with_emulator_urls(self, emulator: &aepact::emulator::Emulator) -> Self {
        self.with_env("AEP_PLATFORM_URL", emulator.platform_url())
            .with_env("AEP_IMS_URL", emulator.ims_url())
            .with_env("AEP_ORG_ID", crate::emulator::ORG)
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The command, run in the scratch directory with only the variables a test sets.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        // `AEPACT_TEST_BIN` overrides cargo's binary: with a target directory shared between
        // worktrees, `target/debug/aepact` is whichever worktree built last.
        let bin = std::env::var_os("AEPACT_TEST_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_aepact").into());
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env("HOME", self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `aepact` with `args`.
    #[must_use]
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.command(args).output().unwrap();
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        }
    }
}

/// What a run printed and how it exited. `Display` shows all three, for snapshots.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Output {
    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The codes of the `file`-th file's diagnostics in a `validate --format json` report.
    pub fn codes(&self, file: usize) -> Vec<String> {
        let json = self.json();
        json["files"][file]["diagnostics"]
            .as_array()
            .unwrap_or_else(|| panic!("no file {file} in the report:\n{}", self.stdout))
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.stdout.is_empty() {
            writeln!(f, "----- stdout -----\n{}", self.stdout.trim_end())?;
        }
        if !self.stderr.is_empty() {
            writeln!(f, "----- stderr -----\n{}", self.stderr.trim_end())?;
        }
        write!(f, "[exit status: {}]", self.status)
    }
}

/// A fixture plan from `tests/fixtures/plans/`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The repository root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A minimal valid plan with the given name and segments under one destination.
pub fn plan(name: &str, segments: &[&str]) -> String {
    let mut text = format!(
        "apiVersion: aepact/v1\nname: {name}\nexports: latest\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    segments:\n"
    );
    for s in segments {
        text.push_str(&format!("      - {s}\n"));
    }
    text
}

/// The `n`-th of a family of well-formed segment IDs.
pub fn segment_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}
