//! The command examples in `README.md` and `docs/*.md` are tests (issue 14): trycmd runs the
//! `$ aepact …` lines of every ```` ```console ```` block and compares what each prints (stdout
//! and stderr together) and its exit status with what the doc shows below it. Each doc runs in
//! its own scratch directory holding the files its examples name, with no credentials, HOME in
//! the scratch directory, and the platform only ever the emulator on 127.0.0.1. How examples are
//! written, marked as not run and refreshed (`TRYCMD=overwrite`): docs/architecture.md, "Docs are
//! tests".

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::repo_root;

/// A doc with runnable examples, and the scratch directory they run in.
struct Doc {
    /// The doc, from the repository root.
    path: &'static str,
    /// What the scratch directory holds: (path in it, where the file or directory comes from).
    files: &'static [(&'static str, Source)],
    /// Point `AEP_*` at an emulator the test starts: for examples written as a user with real
    /// credentials runs them (`aepact plan plans/`), which is what the emulator stands in for.
    online: bool,
    /// Stop every command of the doc after this long: for a server that runs until
    /// interrupted, shown with `? interrupted` below its command.
    timeout: Option<Duration>,
}

#[derive(Clone, Copy)]
enum Source {
    /// A file or directory of the repository.
    Repo(&'static str),
    /// The example lockfile of docs/lockfile.md (its ```` ```json ```` block), so that the
    /// `lock verify` example checks the very lockfile the doc shows.
    LockfileExample,
}

const DOCS: &[Doc] = &[
    Doc {
        path: "README.md",
        files: &[("examples", Source::Repo("examples"))],
        online: false,
        timeout: None,
    },
    Doc {
        path: "docs/ci.md",
        files: &[],
        online: false,
        timeout: None,
    },
    Doc {
        path: "docs/emulator.md",
        files: &[],
        online: false,
        timeout: Some(Duration::from_secs(3)),
    },
    Doc {
        path: "docs/lockfile.md",
        files: &[
            (
                "plans/flash-sale.yaml",
                Source::Repo("examples/flash-sale.yaml"),
            ),
            ("plans/flash-sale.lock.json", Source::LockfileExample),
        ],
        online: false,
        timeout: None,
    },
    Doc {
        path: "docs/policy.md",
        files: &[
            (
                "plans/flash-sale.yaml",
                Source::Repo("examples/flash-sale.yaml"),
            ),
            (
                "aepact.policy.yaml",
                Source::Repo("examples/policy/aepact.policy.yaml"),
            ),
            (
                "strict.yaml",
                Source::Repo("tests/fixtures/policies/strict.yaml"),
            ),
        ],
        online: false,
        timeout: None,
    },
    Doc {
        path: "docs/validate.md",
        files: &[
            (
                "plans/dup.yaml",
                Source::Repo("tests/fixtures/plans/duplicate_segment.yaml"),
            ),
            // Two valid plans that share no segment with it (no cross-plan warning).
            (
                "plans/weekly-digest.yaml",
                Source::Repo("examples/weekly-digest.yaml"),
            ),
            ("plans/winback.yaml", Source::Repo("examples/winback.yaml")),
        ],
        online: false,
        timeout: None,
    },
    Doc {
        path: "docs/workflow.md",
        files: &[(
            "plans/flash-sale.yaml",
            Source::Repo("examples/flash-sale.yaml"),
        )],
        online: true,
        timeout: None,
    },
];

#[test]
fn readme_examples() {
    run("README.md");
}

#[test]
fn ci_examples() {
    run("docs/ci.md");
}

#[test]
fn emulator_examples() {
    run("docs/emulator.md");
}

#[test]
fn lockfile_examples() {
    run("docs/lockfile.md");
}

#[test]
fn policy_examples() {
    run("docs/policy.md");
}

#[test]
fn validate_examples() {
    run("docs/validate.md");
}

#[test]
fn workflow_examples() {
    run("docs/workflow.md");
}

/// The variables aepact reads, set for every example so that none comes from the developer's
/// or CI's environment (trycmd cannot clear it): empty counts as unset, except for the two
/// clap reads, which refuse an empty value and get their defaults instead.
const NEUTRAL_ENV: &[(&str, &str)] = &[
    ("AEP_ORG_ID", ""),
    ("AEP_CLIENT_ID", ""),
    ("AEP_CLIENT_SECRET", ""),
    ("AEP_SCOPES", ""),
    ("AEP_ACCESS_TOKEN", ""),
    ("AEP_API_KEY", ""),
    ("AEP_SANDBOX", ""),
    ("AEP_PLATFORM_URL", ""),
    ("AEP_IMS_URL", ""),
    // Who applies (a run's `appliedBy`): never the developer's or CI's login.
    ("GITHUB_ACTOR", ""),
    ("GITLAB_USER_LOGIN", ""),
    ("USER", ""),
    ("AEP_ADHOC_API_VERSION", "1"),
    ("AEPACT_CONCURRENCY", "8"),
    ("AEPACT_POLICY", ""),
    ("AEPACT_HTTP_TIMEOUT", ""),
    ("AEPACT_NOT_RECEIVED_AFTER_MS", ""),
    ("AEPACT_TEST_PAUSE_AFTER", ""),
    ("RUST_LOG", ""),
    // The HTTP client honours proxy variables: 127.0.0.1 is reached directly.
    ("HTTP_PROXY", ""),
    ("HTTPS_PROXY", ""),
    ("ALL_PROXY", ""),
    ("http_proxy", ""),
    ("https_proxy", ""),
    ("all_proxy", ""),
    ("NO_PROXY", "127.0.0.1,localhost"),
    ("no_proxy", "127.0.0.1,localhost"),
    ("NO_COLOR", "1"),
    ("COLUMNS", "100"),
];

/// Runs the examples of the doc at `path` (one of [`DOCS`]) in a fresh scratch directory.
///
/// trycmd reads a doc's scratch directory from `<doc>.in/` beside it, so the doc is copied
/// next to one; with `TRYCMD=overwrite` the rewritten copy is written back to the doc.
#[allow(clippy::print_stderr)] // trycmd names the copy: say which doc it is
fn run(path: &str) {
    let doc = DOCS.iter().find(|d| d.path == path).unwrap();
    let root = repo_root();
    let scratch = tempfile::tempdir().unwrap();
    let name = Path::new(doc.path).file_name().unwrap();
    let copy = scratch.path().join(name);
    std::fs::copy(root.join(doc.path), &copy).unwrap();
    let dir = copy.with_extension("in");
    std::fs::create_dir(&dir).unwrap();
    for (to, from) in doc.files {
        let to = dir.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        match from {
            Source::Repo(from) => copy_all(&root.join(from), &to),
            Source::LockfileExample => std::fs::write(&to, lockfile_example()).unwrap(),
        }
    }

    let bin: PathBuf = std::env::var_os("AEPACT_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_aepact").into())
        .into();
    let cases = trycmd::TestCases::new();
    cases.case(&copy).register_bin("aepact", bin);
    let mut env: Vec<(String, String)> = NEUTRAL_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // Whatever else of ours the environment holds (a variable added after this list).
    for (key, _) in std::env::vars() {
        if (key.starts_with("AEP_") || key.starts_with("AEPACT_")) && !has(&env, &key) {
            env.push((key, String::new()));
        }
    }
    env.push(("HOME".to_owned(), dir.display().to_string()));
    let emulator = doc.online.then(|| {
        aepact::emulator::EmulatorBuilder::new()
            .run_duration(Duration::ZERO)
            .start()
            .unwrap()
    });
    if let Some(emulator) = &emulator {
        for (key, value) in [
            ("AEP_PLATFORM_URL", emulator.platform_url()),
            ("AEP_IMS_URL", emulator.ims_url()),
            ("AEP_ORG_ID", crate::emulator::ORG),
            ("AEP_CLIENT_ID", crate::emulator::CLIENT_ID),
            ("AEP_CLIENT_SECRET", crate::emulator::SECRET),
        ] {
            env.retain(|(k, _)| k != key);
            env.push((key.to_owned(), value.to_owned()));
        }
        cases
            .insert_var("[SERVER]", emulator.platform_url().to_owned())
            .unwrap();
    }
    for (key, value) in env {
        cases.env(key, value);
    }
    if let Some(timeout) = doc.timeout {
        cases.timeout(timeout);
    }
    eprintln!(
        "{}: its examples run in {} (line numbers are the doc's)",
        doc.path,
        dir.display()
    );
    cases.run();
    if std::env::var_os("TRYCMD").is_some_and(|m| m == "overwrite") {
        let rewritten = std::fs::read(&copy).unwrap();
        if rewritten != std::fs::read(root.join(doc.path)).unwrap() {
            std::fs::write(root.join(doc.path), rewritten).unwrap();
        }
    }
}

fn has(env: &[(String, String)], key: &str) -> bool {
    env.iter().any(|(k, _)| k == key)
}

/// Copies a file, or a directory with everything below it.
fn copy_all(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_all(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

/// The ```` ```json ```` block of docs/lockfile.md that holds `"lockfileVersion"`.
fn lockfile_example() -> String {
    let text = std::fs::read_to_string(repo_root().join("docs/lockfile.md")).unwrap();
    blocks(&text)
        .into_iter()
        .find(|b| b.info == "json" && b.body.contains("\"lockfileVersion\""))
        .expect("docs/lockfile.md shows an example lockfile")
        .body
}

/// A fenced block of a markdown file.
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The info string: `console`, `console,ignore`, `json`, or empty.
    info: String,
    body: String,
}

/// The fenced blocks of `text` (fences of three or more backticks, not indented).
fn blocks(text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match &mut open {
            Some((fence, block)) => {
                if line.starts_with(fence.as_str()) && line.trim_end() == fence {
                    found.push(open.take().unwrap().1);
                } else {
                    block.body.push_str(line);
                    block.body.push('\n');
                }
            }
            None if ticks >= 3 => {
                let block = Block {
                    line: i + 1,
                    info: line[ticks..].trim().to_owned(),
                    body: String::new(),
                };
                open = Some((line[..ticks].to_owned(), block));
            }
            None => {}
        }
    }
    found
}

/// The docs whose examples the tests read: the README and every page of `docs/`.
fn docs() -> Vec<String> {
    let mut docs = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(repo_root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    docs.sort();
    docs
}

/// Every command example is a ```` ```console ```` block that trycmd either runs (its
/// commands are `aepact`, and the doc is in [`DOCS`]) or skips with a reason: a
/// ```` ```console,ignore ```` block whose first line is `# not run by the tests: …`. A
/// ```` ```sh ```` block or a bare ```` ``` ```` fence would hide commands from the tests (trycmd
/// would read a bare fence as commands), and a command of another program would be skipped
/// silently.
#[test]
fn every_command_example_is_run_or_says_why_not() {
    let mut problems = Vec::new();
    for doc in docs() {
        let text = std::fs::read_to_string(repo_root().join(&doc)).unwrap();
        let mut runs = false;
        for block in blocks(&text) {
            let at = format!("{doc}:{}", block.line);
            let mut info = block.info.split(',');
            let lang = info.next().unwrap_or_default();
            let ignored = info.any(|a| a == "ignore");
            match lang {
                "" => problems.push(format!(
                    "{at}: a fence without a language; trycmd reads it as commands: write ```text"
                )),
                "sh" | "bash" | "shell" | "zsh" => problems.push(format!(
                    "{at}: commands go in a ```console block (run by the tests) or a \
                     ```console,ignore block that says why not"
                )),
                "console" | "trycmd" if ignored => {
                    let says_why = block.body.starts_with("# not run by the tests: ");
                    if !says_why {
                        problems.push(format!(
                            "{at}: an ignored example starts with `# not run by the tests: <why>`"
                        ));
                    }
                }
                "console" | "trycmd" => {
                    runs = true;
                    for command in block.body.lines().filter_map(|l| l.strip_prefix("$ ")) {
                        let program = command
                            .split_whitespace()
                            .find(|w| !w.contains('='))
                            .unwrap_or_default();
                        if program != "aepact" {
                            problems.push(format!(
                                "{at}: `{command}` would be skipped: the tests run `aepact` \
                                 only; mark the block ```console,ignore"
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        let listed = DOCS.iter().any(|d| d.path == doc);
        if listed && !include_str!("docs_examples.rs").contains(&format!("run(\"{doc}\");")) {
            problems.push(format!("{doc}: in DOCS but no test calls `run(\"{doc}\")`"));
        }
        if runs && !listed {
            problems.push(format!(
                "{doc}: has runnable examples but no entry in DOCS (tests/it/docs_examples.rs)"
            ));
        }
        if listed && !runs {
            problems.push(format!("{doc}: listed in DOCS but runs no example"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
