//! The committed schema matches the types, and `aepact schema` prints it.

use aepact::plan::schema::{SCHEMA_PATH, generate_text};

use crate::common::{TestEnv, repo_root};

#[test]
fn committed_schema_is_fresh() {
    let path = repo_root().join(SCHEMA_PATH);
    let expected = generate_text();
    if std::env::var_os("AEPACT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{SCHEMA_PATH} is stale: the plan types changed. Refresh it with\n\n    \
         AEPACT_UPDATE_GOLDEN=1 cargo test --test it schema\n\n(or `cargo run -- schema > {SCHEMA_PATH}`) and commit the result."
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = TestEnv::new().run(["schema"]);
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, generate_text());
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["apiVersion", "name", "destinations"])
    );
}

/// The committed schema, parsed.
fn committed() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(repo_root().join(SCHEMA_PATH)).unwrap()).unwrap()
}

/// Every plan that must be valid: the examples and the valid fixtures, as JSON trees.
fn valid_plans() -> Vec<(String, serde_json::Value)> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["examples", "tests/fixtures/plans/valid"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.display().to_string();
            let source = aepact::plan::SourceFile::new(
                name.clone(),
                std::fs::read_to_string(&path).unwrap(),
            );
            (name, aepact::plan::load::parse(&source).unwrap().value)
        })
        .collect()
}

/// The `format` values draft 2020-12 defines (validation vocabulary, section 7.3).
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

fn formats(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "format"
                    && let Some(f) = child.as_str()
                {
                    out.push((at.to_owned(), f.to_owned()));
                }
                formats(child, &format!("{at}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                formats(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Strict validators (ajv) refuse a schema with a `format` they do not know, such as the
/// `uint64` schemars writes for unsigned integers (issue 12).
#[test]
fn schema_uses_only_standard_formats() {
    let mut found = Vec::new();
    formats(&committed(), "", &mut found);
    for (at, format) in found {
        assert!(
            STANDARD_FORMATS.contains(&format.as_str()),
            "{at}: `format: {format}` is not a draft 2020-12 format"
        );
    }
}

/// Compiles the committed schema under every draft 2020-12 option jsonschema has (format
/// validation on and off, unknown formats refused or ignored, either regex engine), checks it
/// against the 2020-12 meta-schema, and validates every valid plan with each validator.
#[test]
fn schema_compiles_under_every_jsonschema_option() {
    use jsonschema::{Draft, PatternOptions};

    let schema = committed();
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("not a valid draft 2020-12 schema: {e}"));
    let plans = valid_plans();
    assert!(plans.len() >= 4, "{}", plans.len());
    for validate_formats in [true, false] {
        for ignore_unknown_formats in [true, false] {
            for fancy in [true, false] {
                let options = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .should_validate_formats(validate_formats)
                    .should_ignore_unknown_formats(ignore_unknown_formats);
                let options = if fancy {
                    options.with_pattern_options(PatternOptions::fancy_regex())
                } else {
                    options.with_pattern_options(PatternOptions::regex())
                };
                let label = format!(
                    "validate_formats={validate_formats} ignore_unknown_formats={ignore_unknown_formats} fancy_regex={fancy}"
                );
                let validator = options
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{label}: the schema does not compile: {e}"));
                for (name, plan) in &plans {
                    let errors: Vec<String> =
                        validator.iter_errors(plan).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{label}: {name}: {errors:?}");
                }
            }
        }
    }
}

/// boon, an independent implementation, compiles it with format assertions on and accepts the
/// same plans.
#[test]
fn schema_compiles_with_boon() {
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    compiler.enable_format_assertions();
    compiler.enable_content_assertions();
    let url = "file:///plan.schema.json";
    compiler.add_resource(url, committed()).unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(url, &mut schemas)
        .unwrap_or_else(|e| panic!("boon refuses the schema: {e:#}"));
    for (name, plan) in valid_plans() {
        if let Err(e) = schemas.validate(&plan, index) {
            panic!("{name}: {e}");
        }
    }
}
