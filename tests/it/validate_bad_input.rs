//! Bad input never panics: each case gets a clear diagnostic and exit status 1 (or is accepted,
//! where the input is fine YAML).

use crate::common::{TestEnv, fixture};

#[test]
fn empty_file() {
    let env = TestEnv::new().with_file("empty.yaml", "");
    insta::assert_snapshot!(env.run(["validate", "empty.yaml"]));
    let env = env.with_file("comments.yaml", "# only a comment\n\n");
    let out = env.run(["validate", "comments.yaml"]);
    assert_eq!(out.status, 1);
    assert!(out.stdout.contains("aepact::empty_file"), "{out}");
}

#[test]
fn non_utf8_bytes() {
    let mut bytes = fixture("valid/minimal.yaml").into_bytes();
    let at = bytes.iter().position(|&b| b == b'm').unwrap();
    bytes[at] = 0xE9; // Latin-1 "é"
    let env = TestEnv::new().with_file("latin1.yaml", bytes);
    insta::assert_snapshot!(env.run(["validate", "latin1.yaml"]));
}

#[test]
fn bom_and_crlf_are_accepted() {
    let text = fixture("valid/unicode.yaml").replace('\n', "\r\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.as_bytes());
    let env = TestEnv::new().with_file("windows.yaml", bytes);
    let out = env.run(["validate", "windows.yaml"]);
    assert_eq!(out.status, 0, "{out}");
}

#[test]
fn positions_stay_right_with_bom_and_crlf() {
    let text = fixture("duplicate_segment.yaml").replace('\n', "\r\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.as_bytes());
    let env = TestEnv::new().with_file("dup.yaml", bytes);
    let json = env.run(["validate", "--format", "json", "dup.yaml"]).json();
    let diag = &json["files"][0]["diagnostics"][0];
    assert_eq!(diag["code"], "aepact::duplicate_segment");
    assert_eq!(
        (diag["line"].as_u64(), diag["column"].as_u64()),
        (Some(10), Some(9))
    );
}

#[test]
fn billion_laughs_fails_fast() {
    let mut text = String::from(
        "apiVersion: aepact/v1\nname: lol\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        let refs = vec![format!("*l{p}"); 10].join(", ");
        text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    let env = TestEnv::new().with_file("lol.yaml", text);
    insta::assert_snapshot!(env.run(["validate", "lol.yaml"]));
}

#[test]
fn file_above_the_size_limit_is_refused() {
    // One byte over the limit.
    let mut text = fixture("valid/minimal.yaml");
    text.push('#');
    text.push_str(&"x".repeat(1024 * 1024 + 1 - text.len()));
    let env = TestEnv::new().with_file("big.yaml", text);
    insta::assert_snapshot!(env.run(["validate", "big.yaml"]));
}

#[test]
fn huge_file_is_refused_without_reading_it() {
    // A sparse 64 GiB file: reading it would take minutes and all memory; refusing takes a stat.
    let env = TestEnv::new();
    let path = env.write("huge.yaml", "");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let out = env.run(["validate", "huge.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("aepact::file_too_large"), "{out}");
}

#[test]
fn very_deep_nesting() {
    let mut text = String::from("apiVersion: aepact/v1\nname: deep\nexports: ");
    text.push_str(&"[".repeat(5_000));
    let env = TestEnv::new().with_file("flow.yaml", text);
    let out = env.run(["validate", "flow.yaml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("aepact::too_deep"), "{out}");

    let mut text = String::from("apiVersion: aepact/v1\nname: deep\nexports:\n");
    for depth in 1..100 {
        text.push_str(&"  ".repeat(depth));
        text.push_str("x:\n");
    }
    let env = env.with_file("block.yaml", text);
    insta::assert_snapshot!(env.run(["validate", "block.yaml"]));
}

#[test]
fn directory_with_no_plans() {
    let env = TestEnv::new().with_file("plans/README.md", "no plans here\n");
    insta::assert_snapshot!(env.run(["validate", "plans"]));
}

#[test]
fn path_that_does_not_exist() {
    let env = TestEnv::new().with_file("ok.yaml", fixture("valid/minimal.yaml"));
    insta::assert_snapshot!(env.run(["validate", "ok.yaml", "nope.yaml"]), @r"
    ----- stdout -----
    aepact::path_not_found

      × `nope.yaml` does not exist
      help: check the path; plans are `*.yaml` or `*.yml` files, or directories holding them

    error: 1 of 2 plan files invalid (1 error)
    [exit status: 1]
    ");
}

#[cfg(unix)]
#[test]
fn unreadable_files() {
    let env = TestEnv::new().with_file("plans/ok.yaml", fixture("valid/minimal.yaml"));
    // A dangling symlink, and a FIFO (reading it would block forever).
    std::os::unix::fs::symlink("gone.yaml", env.path().join("plans/dangling.yaml")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(env.path().join("plans/fifo.yaml"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = env.run(["validate", "plans"]);
    // The OS error text differs between systems; the code and the file do not.
    let json = env.run(["validate", "--format", "json", "plans"]).json();
    let codes: Vec<(&str, &str)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["diagnostics"][0]["code"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("plans/dangling.yaml", "aepact::unreadable"),
            ("plans/fifo.yaml", "aepact::unreadable"),
            ("plans/ok.yaml", "-"),
        ],
        "{out}"
    );
    insta::assert_snapshot!(env.run(["validate", "plans/fifo.yaml"]));
}

#[cfg(unix)]
#[test]
fn file_without_read_permission() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write("secret.yaml", fixture("valid/minimal.yaml"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = env.run(["validate", "secret.yaml"]);
    if std::fs::read(&path).is_ok() {
        // Running as root: permissions do not stop reads, so the plan is simply valid.
        assert_eq!(out.status, 0, "{out}");
    } else {
        assert_eq!(out.status, 1, "{out}");
        assert!(out.stdout.contains("aepact::unreadable"), "{out}");
        assert!(out.stdout.contains("cannot read `secret.yaml`"), "{out}");
    }
}

#[test]
fn wrong_types_do_not_panic() {
    for text in [
        "[]",
        "just a string",
        "42",
        "null",
        "apiVersion: [aepact/v1]\nname: {a: b}\ndestinations: 7\n",
        "apiVersion: aepact/v1\nname: x\nexports: latest\ndestinations:\n  - 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n",
        "apiVersion: aepact/v1\nname: x\nexports: latest\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    segments: [[a]]\n",
        "apiVersion: aepact/v1\nname: x\nexports: latest\ndestinations: [{id: 1, segments: [{id: true}]}]\nrun: 1.5\n",
        "? complex\n: key\n",
        "&a [*a]\n",
        "*undefined\n",
    ] {
        let env = TestEnv::new().with_file("plan.yaml", text);
        let out = env.run(["validate", "plan.yaml"]);
        assert_eq!(out.status, 1, "{text:?}:\n{out}");
        assert!(out.stderr.is_empty(), "{text:?}:\n{out}");
        assert!(out.stdout.contains("aepact::"), "{text:?}:\n{out}");
    }
}
