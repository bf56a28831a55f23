//! Property tests of the hostile-input entry points, in `cargo test` (the long-running fuzz
//! targets in `fuzz/` cover the same entry points; see `docs/fuzzing.md`).
//!
//! - Arbitrary bytes and YAML-ish text through plan loading (the path `validate` takes after
//!   reading a file) never panic, and give a plan or at least one error, every positioned
//!   diagnostic pointing inside the file.
//! - Arbitrary text through `Lockfile::parse` never panics.
//! - Generated valid plans always validate clean, and their intent digest does not change when
//!   destinations, segments and keys are reordered or labels are added.

use std::path::Path;
use std::sync::Arc;

use aepact::lockfile::Lockfile;
use aepact::plan::check::{FileReport, check_source};
use aepact::plan::read::source_from_bytes;
use aepact::plan::request::intent_digest;
use aepact::plan::{AdhocApiVersion, CheckOptions, Code, Diagnostic};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures are reported with their minimal input; no regression files in the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// Loads `bytes` as the plan file `p.yaml` and checks the outcome's invariants.
fn load(bytes: &[u8], options: &CheckOptions) -> FileReport {
    let report = match source_from_bytes("p.yaml", bytes.to_vec()) {
        Ok(source) => check_source(&source, Arc::from("p.yaml"), options, true).0,
        Err(diag) => {
            assert_eq!(diag.code, Code::NotUtf8);
            FileReport {
                path: Arc::from("p.yaml"),
                file: None,
                diagnostics: vec![diag],
                plan: None,
                plan_name: None,
                jobs: None,
                policy: false,
            }
        }
    };
    if report.plan.is_none() {
        assert!(report.errors() > 0, "no plan and no error: {report:?}");
    }
    for diag in &report.diagnostics {
        assert_position_valid(diag);
    }
    report
}

/// Every diagnostic about the file's content points inside it (only "empty file" has no place),
/// and renders without a panic.
fn assert_position_valid(diag: &Diagnostic) {
    let _ = aepact::output::human::diagnostic(diag, aepact::output::Style::plain());
    let Some(pos) = diag.position() else {
        assert_eq!(diag.code, Code::EmptyFile, "no position: {diag:?}");
        return;
    };
    let text = diag.source.as_ref().unwrap().text();
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        pos.line >= 1 && pos.line <= lines.len(),
        "{pos:?}: {diag:?}"
    );
    let width = lines[pos.line - 1].chars().count();
    assert!(
        pos.column >= 1 && pos.column <= width + 1,
        "{pos:?}: {diag:?}"
    );
    assert!(
        (pos.end_line, pos.end_column) >= (pos.line, pos.column),
        "{pos:?}: {diag:?}"
    );
    assert!(pos.end_line <= lines.len(), "{pos:?}: {diag:?}");
}

fn options() -> impl Strategy<Value = CheckOptions> {
    (
        any::<bool>(),
        proptest::option::of(1usize..4),
        any::<bool>(),
    )
        .prop_map(|(v2, max, split)| CheckOptions {
            api_version: if v2 {
                AdhocApiVersion::V2
            } else {
                AdhocApiVersion::V1
            },
            max_segments_per_job: max,
            split,
        })
}

/// Text built from the pieces YAML and plans are made of, so it gets past the scanner often.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("apiVersion: aepact/v1\n".to_owned()),
        Just("name: p\n".to_owned()),
        Just("exports: latest\n".to_owned()),
        Just("destinations:\n".to_owned()),
        Just("  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n".to_owned()),
        Just("    segments:\n".to_owned()),
        Just("      - db8961e9-d52f-45bc-b3fb-76d0382a6851\n".to_owned()),
        Just("run: 1\n".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("!!str ".to_owned()),
        Just("!x ".to_owned()),
        Just("? ".to_owned()),
        Just("---\n".to_owned()),
        Just("...\n".to_owned()),
        Just("%YAML 1.2\n".to_owned()),
        Just("\t".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("# c\n".to_owned()),
        Just("|\n  x\n".to_owned()),
        Just(">-\n".to_owned()),
        prop::sample::select(vec![
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            "- ",
            " ",
            "  ",
            "\n",
            "'",
            "\"",
            "\\",
            "~",
            "0x1F",
            "1e999",
            "-.inf",
            ".nan",
            "99999999999999999999",
            "é",
            "✓",
            "\u{0}",
            "\u{85}",
            "\u{2028}",
        ])
        .prop_map(str::to_owned),
        "[a-z0-9 -]{0,8}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        options in options(),
    ) {
        load(&bytes, &options);
    }

    #[test]
    fn yamlish_text_never_panics(text in yamlish(), options in options()) {
        load(text.as_bytes(), &options);
    }

    #[test]
    fn arbitrary_text_never_panics_the_lockfile_parser(text in any::<String>()) {
        let _ = Lockfile::parse(&text, Path::new("p.lock.json"));
    }

    #[test]
    fn jsonish_text_never_panics_the_lockfile_parser(text in jsonish()) {
        if let Err(err) = Lockfile::parse(&text, Path::new("p.lock.json")) {
            // Rendered as the CLI shows it: the snippet is cut at the error's span.
            let _ = format!("{:?}", miette::Report::new(err));
        }
    }
}

/// Text made of a real lockfile's tokens, shuffled and cut: mostly near-JSON.
fn jsonish() -> impl Strategy<Value = String> {
    let golden = include_str!("../../fuzz/seeds/parse_lockfile/golden.json");
    let tokens: Vec<&'static str> = golden.split_inclusive([',', '\n', ':']).collect();
    proptest::collection::vec(prop::sample::select(tokens), 0..60).prop_map(|t| t.concat())
}

/// A segment or destination ID: a lowercase UUID.
fn uuid() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|n| {
        let h = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    })
}

#[derive(Debug, Clone)]
struct GenPlan {
    name: String,
    sandbox: Option<String>,
    exports: Option<Vec<u64>>,
    run: u64,
    /// Destination ID -> its segments (distinct, at most 20 in all, so valid under API v1).
    destinations: Vec<(String, Vec<String>)>,
}

fn gen_plan() -> impl Strategy<Value = GenPlan> {
    let segments = proptest::collection::btree_set(uuid(), 1..8);
    (
        "[a-z0-9][a-z0-9-]{0,20}",
        proptest::option::of("[a-z][a-z0-9-]{0,10}"),
        proptest::option::of(proptest::collection::btree_set(1u64..1_000_000, 1..4)),
        1u64..1000,
        proptest::collection::btree_map(uuid(), segments, 1..4),
    )
        .prop_map(|(name, sandbox, exports, run, destinations)| {
            // Draw each destination's segments from one pool of 20, so some are shared.
            let pool: Vec<String> = destinations.values().flatten().take(20).cloned().collect();
            let destinations = destinations
                .into_iter()
                .enumerate()
                .map(|(i, (dest, segs))| {
                    let mut segs: Vec<String> =
                        segs.into_iter().filter(|s| pool.contains(s)).collect();
                    if segs.is_empty() {
                        segs.push(pool[i % pool.len()].clone());
                    }
                    (dest, segs)
                })
                .collect();
            GenPlan {
                name,
                sandbox,
                exports: exports.map(|e| e.into_iter().collect()),
                run,
                destinations,
            }
        })
}

impl GenPlan {
    /// The plan as YAML: keys in `order` (a permutation of 0..6), destinations and segments in
    /// the order given, with `name:` labels when `labels` is set.
    fn render(&self, order: &[usize], labels: bool) -> String {
        let mut parts = Vec::new();
        for &key in order {
            match key {
                0 => parts.push("apiVersion: aepact/v1\n".to_owned()),
                1 => parts.push(format!("name: '{}'\n", self.name)),
                2 => {
                    if let Some(s) = &self.sandbox {
                        parts.push(format!("sandbox: \"{s}\"\n"));
                    }
                }
                3 => parts.push(match &self.exports {
                    None => "exports: latest\n".to_owned(),
                    Some(ids) => format!(
                        "exports: [{}]\n",
                        ids.iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
                4 => {
                    let mut text = "destinations:\n".to_owned();
                    for (dest, segs) in &self.destinations {
                        text.push_str(&format!("  - id: {dest}\n"));
                        if labels {
                            text.push_str("    name: \"Label: ✓\"\n");
                        }
                        text.push_str("    segments:\n");
                        for s in segs {
                            if labels {
                                text.push_str(&format!("      - id: '{s}'\n        name: x\n"));
                            } else {
                                text.push_str(&format!("      - {s}\n"));
                            }
                        }
                    }
                    parts.push(text);
                }
                _ => parts.push(format!("run: {}\n", self.run)),
            }
        }
        parts.concat()
    }

    fn reordered(&self, seed: u64) -> GenPlan {
        let mut plan = self.clone();
        let mut rng = seed;
        let mut next = move |n: usize| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) as usize % n.max(1)
        };
        let n = plan.destinations.len();
        for i in (1..n).rev() {
            plan.destinations.swap(i, next(i + 1));
        }
        for (_, segs) in &mut plan.destinations {
            for i in (1..segs.len()).rev() {
                segs.swap(i, next(i + 1));
            }
        }
        if let Some(ids) = &mut plan.exports {
            ids.reverse();
        }
        plan
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn generated_plans_validate_clean_and_their_intent_is_order_free(
        plan in gen_plan(),
        order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        seed in any::<u64>(),
        v2 in any::<bool>(),
    ) {
        let options = CheckOptions {
            api_version: if v2 { AdhocApiVersion::V2 } else { AdhocApiVersion::V1 },
            ..CheckOptions::default()
        };
        let version = options.api_version;
        let check = |text: String| {
            let report = load(text.as_bytes(), &options);
            assert!(report.diagnostics.is_empty(), "{text}\n{:?}", report.diagnostics);
            let plan = report.plan.expect("a valid plan is kept");
            intent_digest(&plan, "prod", version)
        };
        let digest = check(plan.render(&[0, 1, 2, 3, 4, 5], false));
        prop_assert_eq!(&digest, &check(plan.render(&order, false)));
        prop_assert_eq!(&digest, &check(plan.reordered(seed).render(&order, true)));
        let mut bumped = plan.clone();
        bumped.run += 1;
        prop_assert_ne!(&digest, &check(bumped.render(&order, false)));
    }
}
