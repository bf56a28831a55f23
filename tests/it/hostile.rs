//! Hostile input through the real binary: each case ends with a clear diagnostic (or is
//! accepted, where that is right), exit status 0 or 1, nothing on stderr (no panic) and in
//! bounded time. The time bound is only a hang guard: a run still going after a generous
//! watchdog is killed and fails the test; nothing here asserts how fast a run is.
//!
//! `validate_bad_input.rs` has the everyday cases (billion laughs, `[[[[`, a 64 GiB sparse file,
//! FIFOs, dangling links); these are the nastier ones.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Output, TestEnv, fixture, segment_id};

/// Kills a run still going after this long: a hang, never a slow machine.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `aepact` with `args`, killing it after [`WATCHDOG`], and checks that it did not panic.
fn run(env: &TestEnv, args: &[&str]) -> Output {
    let mut child = env
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so a big report cannot block the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut s).unwrap();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "`aepact {}` still running after {WATCHDOG:?}: a hang",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        status: status.code().unwrap_or(-1),
    };
    assert!(
        !output.stderr.contains("panicked"),
        "`aepact {}` panicked:\n{}",
        args.join(" "),
        output.stderr
    );
    output
}

/// Runs `validate --format json` and returns each file's path and diagnostic codes.
fn validate_codes(env: &TestEnv, path: &str) -> (i32, Vec<(String, Vec<String>)>) {
    let out = run(env, &["validate", "--format", "json", path]);
    assert!(out.stderr.is_empty(), "{out}");
    let json = out.json();
    let files = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let codes = f["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["code"].as_str().unwrap().to_owned())
                .collect();
            (f["path"].as_str().unwrap().to_owned(), codes)
        })
        .collect();
    (out.status, files)
}

/// Asserts that validating `file` fails with `code` (and prints it in human output too).
fn assert_refused(env: &TestEnv, file: &str, code: &str) -> Output {
    let out = run(env, &["validate", file]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.is_empty(), "{out}");
    assert!(out.stdout.contains(code), "expected {code}:\n{out}");
    out
}

const HEAD: &str = "apiVersion: aepact/v1\nname: hostile\nexports: latest\n";

#[test]
fn alias_bombs_of_every_shape_hit_the_node_limit() {
    // Doubling: 2^40 nodes from 40 lines, through sequences.
    let mut seq = format!("{HEAD}b0: &b0 [x, x]\n");
    for i in 1..40 {
        seq.push_str(&format!("b{i}: &b{i} [*b{p}, *b{p}]\n", p = i - 1));
    }
    // The same through mappings, nested in the plan's own keys.
    let mut map = format!("{HEAD}m0: &m0 {{a: x, b: x}}\n");
    for i in 1..40 {
        map.push_str(&format!("m{i}: &m{i} {{a: *m{p}, b: *m{p}}}\n", p = i - 1));
    }
    // One wide anchor just under the limit, aliased again and again.
    let wide = format!(
        "{HEAD}w: &w [{}]\nagain: [{}]\n",
        vec!["x"; 60_000].join(", "),
        vec!["*w"; 1_000].join(", ")
    );
    let env = TestEnv::new()
        .with_file("seq.yaml", seq)
        .with_file("map.yaml", map)
        .with_file("wide.yaml", wide);
    for file in ["seq.yaml", "map.yaml", "wide.yaml"] {
        assert_refused(&env, file, "aepact::alias_limit");
    }
}

#[test]
fn deep_nesting_of_every_kind_is_refused() {
    let mut flow_maps = HEAD.to_owned();
    flow_maps.push_str("x: ");
    flow_maps.push_str(&"{a: ".repeat(100_000));
    let mut block_seq = format!("{HEAD}x:\n");
    for depth in 1..300 {
        block_seq.push_str(&"  ".repeat(depth));
        block_seq.push_str("-\n");
    }
    let mut nested_aliases = format!("{HEAD}d0: &d0 [x]\n");
    for i in 1..100 {
        nested_aliases.push_str(&format!("d{i}: &d{i} [*d{p}]\n", p = i - 1));
    }
    let env = TestEnv::new()
        .with_file("flow_maps.yaml", flow_maps)
        .with_file("block_seq.yaml", block_seq)
        .with_file("nested_aliases.yaml", nested_aliases);
    assert_refused(&env, "flow_maps.yaml", "aepact::too_deep");
    assert_refused(&env, "block_seq.yaml", "aepact::too_deep");
    // Aliases nest an anchor's value inside another: depth counts the expansion too, or the
    // tree would be deeper than the parser ever saw.
    assert_refused(&env, "nested_aliases.yaml", "aepact::too_deep");
}

/// A plan whose `description` is one scalar making the file exactly `len` bytes.
fn plan_with_description(len: usize) -> String {
    let mut text = fixture("valid/minimal.yaml");
    text.push_str("description: ");
    let room = len - text.len() - 1;
    text.push_str(&"x".repeat(room));
    text.push('\n');
    assert_eq!(text.len(), len);
    text
}

#[test]
fn huge_single_scalar_just_under_and_over_the_size_limit() {
    let limit = 1024 * 1024;
    let env = TestEnv::new()
        .with_file("under.yaml", plan_with_description(limit))
        .with_file("over.yaml", plan_with_description(limit + 1));
    let out = run(&env, &["validate", "under.yaml"]);
    assert_eq!(out.status, 0, "a 1 MiB plan is within the limit: {out}");
    let out = assert_refused(&env, "over.yaml", "aepact::file_too_large");
    assert!(out.stdout.contains("1048577 bytes"), "{out}");

    // A 1 MiB name, key and segment ID: each refused with a readable message, never a panic.
    let long = "y".repeat(limit - 200);
    for (file, text, code) in [
        (
            "name.yaml",
            format!("apiVersion: aepact/v1\nname: {long}\n"),
            "aepact::",
        ),
        // YAML caps implicit keys at 1,024 characters: a syntax error, at the key.
        (
            "key.yaml",
            format!("{HEAD}{long}: 1\n"),
            "aepact::yaml_syntax",
        ),
        (
            "quoted_key.yaml",
            format!("{HEAD}? {long}\n: 1\n"),
            "aepact::unknown_key",
        ),
        (
            "segment.yaml",
            format!(
                "{HEAD}destinations:\n  - id: {}\n    segments: [{long}]\n",
                segment_id(1)
            ),
            "aepact::malformed_id",
        ),
    ] {
        let env = TestEnv::new().with_file(file, text);
        let out = assert_refused(&env, file, code);
        // Shown without a snippet when the label is too wide to draw (miette panicked here),
        // and the value is not echoed whole: the output is a few KiB, not megabytes.
        assert!(
            out.stdout.len() < 20_000,
            "{} bytes of output",
            out.stdout.len()
        );
        assert!(
            out.stdout.contains(&format!("{file}:")),
            "{}",
            &out.stdout[..2000.min(out.stdout.len())]
        );
    }
}

#[test]
fn a_100_mb_file_is_refused_from_its_size_alone() {
    // Written for real (not sparse), among good plans in a walked directory.
    let env = TestEnv::new().with_file("plans/a.yaml", fixture("valid/minimal.yaml"));
    let chunk = vec![b'#'; 1 << 20];
    let mut file = std::fs::File::create(env.path().join("plans/big.yaml")).unwrap();
    for _ in 0..100 {
        std::io::Write::write_all(&mut file, &chunk).unwrap();
    }
    drop(file);
    let (status, files) = validate_codes(&env, "plans");
    assert_eq!(status, 1);
    assert_eq!(
        files,
        [
            ("plans/a.yaml".to_owned(), vec![]),
            (
                "plans/big.yaml".to_owned(),
                vec!["aepact::file_too_large".to_owned()]
            ),
        ]
    );
    let out = assert_refused(&env, "plans/big.yaml", "aepact::file_too_large");
    // The size in the message is the file's, as stat gave it: the file was not read.
    assert!(out.stdout.contains("104857600 bytes"), "{out}");
}

#[test]
fn many_problems_in_one_file_are_reported_in_bounded_time() {
    // ~40,000 duplicate keys and ~40,000 unknown keys: each a diagnostic with a snippet. (Before
    // the fix, positions and snippets were found by scanning from the start of the file for
    // each diagnostic: 20,000 took minutes.)
    let mut dups = HEAD.to_owned();
    let mut unknown = HEAD.to_owned();
    let mut i = 0;
    while dups.len() < 200_000 {
        dups.push_str("k: 1\n");
        unknown.push_str(&format!("k{i}: 1\n"));
        i += 1;
    }
    let env = TestEnv::new()
        .with_file("dups.yaml", dups)
        .with_file("unknown.yaml", unknown);
    for (file, code) in [
        ("dups.yaml", "aepact::duplicate_key"),
        ("unknown.yaml", "aepact::unknown_key"),
    ] {
        for format in ["human", "json", "github"] {
            let out = run(&env, &["validate", "--format", format, file]);
            assert_eq!(out.status, 1, "{file} {format}");
            assert!(out.stderr.is_empty(), "{file} {format}: {}", out.stderr);
            let code = if format == "github" {
                code.replace("::", "%3A%3A")
            } else {
                code.to_owned()
            };
            assert!(out.stdout.contains(&code), "{file} {format}");
        }
    }
}

#[cfg(unix)]
#[test]
fn directory_symlink_loops_are_not_followed() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new().with_file("plans/a/plan.yaml", fixture("valid/minimal.yaml"));
    // a/b -> .. (back to plans/), a/c.yaml -> . (a directory link named like a plan), and a
    // link to the walked directory itself.
    symlink("..", env.path().join("plans/a/b")).unwrap();
    symlink(".", env.path().join("plans/a/c.yaml")).unwrap();
    symlink(env.path().join("plans"), env.path().join("plans/self")).unwrap();
    let (status, files) = validate_codes(&env, "plans");
    assert_eq!(status, 0, "{files:?}");
    assert_eq!(files, [("plans/a/plan.yaml".to_owned(), vec![])]);
    // Named on the command line, a link to a directory is walked (once, not around the loop).
    let (status, files) = validate_codes(&env, "plans/a/b");
    assert_eq!(status, 0, "{files:?}");
    assert_eq!(files, [("plans/a/b/a/plan.yaml".to_owned(), vec![])]);
}

#[cfg(unix)]
#[test]
fn symlinks_to_files_are_followed() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new()
        .with_file("shared/base.yaml", fixture("valid/minimal.yaml"))
        .with_file(
            "plans/own.yaml",
            crate::common::plan("own", &[&segment_id(9)]),
        );
    symlink("../shared/base.yaml", env.path().join("plans/linked.yaml")).unwrap();
    // A link to a file that is not a plan by name is still not a plan.
    symlink("../shared/base.yaml", env.path().join("plans/notes.txt")).unwrap();
    let (status, files) = validate_codes(&env, "plans");
    assert_eq!(status, 0, "{files:?}");
    assert_eq!(
        files,
        [
            ("plans/linked.yaml".to_owned(), vec![]),
            ("plans/own.yaml".to_owned(), vec![]),
        ]
    );
    // A link to a file that is too big is refused like the file.
    let big = env.write("shared/big.yaml", "");
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    symlink("../shared/big.yaml", env.path().join("plans/big.yaml")).unwrap();
    let (status, files) = validate_codes(&env, "plans");
    assert_eq!(status, 1);
    assert_eq!(
        files[0],
        (
            "plans/big.yaml".to_owned(),
            vec!["aepact::file_too_large".to_owned()]
        )
    );
}

#[cfg(unix)]
#[test]
fn unreadable_directory_inside_a_walked_directory() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new()
        .with_file("plans/ok.yaml", fixture("valid/minimal.yaml"))
        .with_file(
            "plans/locked/hidden.yaml",
            crate::common::plan("hidden", &[&segment_id(3)]),
        );
    let locked = env.path().join("plans/locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read_dir(&locked).is_ok();
    let (status, files) = validate_codes(&env, "plans");
    // Let the temp dir be removed.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable {
        // Running as root: permissions do not stop reads, so both plans are simply checked.
        assert_eq!(status, 0, "{files:?}");
        assert_eq!(files.len(), 2, "{files:?}");
    } else {
        assert_eq!(status, 1, "{files:?}");
        assert_eq!(
            files,
            [
                (
                    "plans/locked".to_owned(),
                    vec!["aepact::unreadable".to_owned()]
                ),
                ("plans/ok.yaml".to_owned(), vec![]),
            ]
        );
    }
}

#[test]
fn deep_directory_trees_are_walked_without_overflow() {
    // 1,000 nested directories (a path of 2,000+ characters) with a plan at the bottom.
    let env = TestEnv::new();
    let deep: String = std::iter::repeat_n("d/", 1_000).collect();
    env.write(
        &format!("plans/{deep}plan.yaml"),
        fixture("valid/minimal.yaml"),
    );
    let (status, files) = validate_codes(&env, "plans");
    assert_eq!(status, 0, "{files:?}");
    assert_eq!(files.len(), 1);
    assert!(Path::new(&files[0].0).ends_with("plan.yaml"));
}
