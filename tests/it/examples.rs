//! Every plan in `examples/` and `tests/fixtures/plans/valid/` is valid: by `aepact validate`,
//! and by a plain JSON-schema check against the committed schema (what editors use).

use std::path::Path;

use aepact::plan::SourceFile;
use aepact::plan::load;

use crate::common::{TestEnv, repo_root};

fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn examples_carry_the_schema_modeline() {
    let files = yaml_files(&repo_root().join("examples"));
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/plan.schema.json\n"),
            "{} does not start with the schema modeline",
            file.display()
        );
    }
}

#[test]
fn examples_and_valid_fixtures_pass_validate() {
    let env = TestEnv::new();
    let root = repo_root();
    // The plans at the top of `examples/` (below it, `ci/` holds pipeline files).
    let mut args: Vec<std::ffi::OsString> = vec!["validate".into()];
    args.extend(
        yaml_files(&root.join("examples"))
            .into_iter()
            .map(Into::into),
    );
    args.push(root.join("tests/fixtures/plans/valid").into());
    let out = env.run(args);
    assert_eq!(out.status, 0, "{out}");
    assert!(out.stdout.contains("plan files valid"), "{out}");
}

#[test]
fn examples_and_valid_fixtures_match_the_committed_schema() {
    let root = repo_root();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schemas/plan.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut files = yaml_files(&root.join("examples"));
    files.extend(yaml_files(&root.join("tests/fixtures/plans/valid")));
    for file in files {
        let source = SourceFile::new(
            file.display().to_string(),
            std::fs::read_to_string(&file).unwrap(),
        );
        let doc = load::parse(&source).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc.value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}
