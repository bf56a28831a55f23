//! The documentation lists every diagnostic code.

use crate::common::repo_root;

#[test]
fn docs_list_every_diagnostic_code() {
    let docs = std::fs::read_to_string(repo_root().join("docs/validate.md")).unwrap();
    for code in aepact::plan::Code::ALL {
        assert!(
            docs.contains(&format!("| `{}` |", code.as_str())),
            "docs/validate.md does not describe `{code}`"
        );
    }
}

/// Every reason a plan can be refused for is in the table of docs/workflow.md.
#[test]
fn docs_list_every_refusal_reason() {
    let docs = std::fs::read_to_string(repo_root().join("docs/workflow.md")).unwrap();
    for code in aepact::planner::decide::codes::ALL {
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "docs/workflow.md does not describe refusal `{code}`"
        );
    }
}

/// The JSON documents of `apply` and `status` in docs/workflow.md have the keys the binary
/// prints.
#[test]
fn docs_show_the_json_documents_of_apply_and_status() {
    let docs = std::fs::read_to_string(repo_root().join("docs/workflow.md")).unwrap();
    let example = |marker: &str| -> serde_json::Value {
        let at = docs
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} example"));
        let start = docs[..at].rfind("```json\n").unwrap() + 8;
        let end = start + docs[start..].find("```\n").unwrap();
        serde_json::from_str(&docs[start..end]).unwrap()
    };
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let o = crate::apply::Online::new();
    let apply = o
        .run(&[
            "apply",
            "--auto-approve",
            "--format",
            "json",
            crate::apply::PLAN,
        ])
        .json();
    let status = o
        .run(&["status", "--format", "json", crate::apply::PLAN])
        .json();
    let documented = example("\"aepactApplyVersion\"");
    assert_eq!(keys(&documented), keys(&apply));
    assert_eq!(keys(&documented["results"][0]), keys(&apply["results"][0]));
    let documented = example("\"aepactStatusVersion\"");
    assert_eq!(keys(&documented), keys(&status));
    assert_eq!(keys(&documented["plans"][0]), keys(&status["plans"][0]));
    assert_eq!(documented["totals"], status["totals"]);
}

/// Every kind of problem `lock verify` reports is in a table of docs/lockfile.md.
#[test]
fn docs_list_every_lock_verify_kind() {
    let docs = std::fs::read_to_string(repo_root().join("docs/lockfile.md")).unwrap();
    for kind in aepact::lockfile::verify::ProblemKind::ALL {
        assert!(
            docs.contains(&format!("| `{}` |", kind.as_str())),
            "docs/lockfile.md does not describe `lock verify` kind `{}`",
            kind.as_str()
        );
    }
}

/// Every file and directory docs/architecture.md names exists.
#[test]
fn architecture_names_files_that_exist() {
    let docs = std::fs::read_to_string(repo_root().join("docs/architecture.md")).unwrap();
    let mut named = 0;
    for (i, _) in docs.match_indices("`src/") {
        let rest = &docs[i + 1..];
        let path = &rest[..rest.find('`').unwrap()];
        assert!(
            repo_root().join(path).exists(),
            "docs/architecture.md names `{path}`, which does not exist"
        );
        named += 1;
    }
    // Files named by their bare name in a directory's row: check those too.
    for row in docs
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("`src/"))
    {
        let dir = row.split('`').nth(1).unwrap();
        for name in row.split('(').skip(1).filter_map(|p| p.split('`').nth(1)) {
            if name.ends_with(".rs") && !name.starts_with("src/") {
                assert!(
                    repo_root().join(dir).join(name).exists(),
                    "docs/architecture.md names `{dir}{name}`, which does not exist"
                );
                named += 1;
            }
        }
    }
    assert!(named > 20, "only {named} paths found");
}
