//! The one integration-test binary: every file in `tests/it/` is a module here (a test below
//! fails if one is left out), so the crate links once.

// Helpers are `pub` for the modules of this one binary; nothing here is public API.
#![allow(unreachable_pub)]

mod action;
mod api;
mod apply;
mod apply_wait;
mod binary;
mod common;
mod delivery;
mod discovery;
mod doc_claims;
mod docs;
mod docs_examples;
mod emulator;
mod emulator_cli;
mod emulator_runs;
mod emulator_seed_request;
mod exactly_once;
mod examples;
mod gitops;
mod help;
mod hostile;
mod layout;
mod lock_verify;
mod lockfile;
mod names;
mod network;
mod online_scale;
mod policy;
mod pr_comment;
mod properties;
mod reliability_concurrency;
mod reliability_crash;
mod reliability_faults;
mod reliability_rig;
mod reports;
mod rough_edges;
mod schema;
mod secrets;
mod validate;
mod validate_bad_input;

#[test]
fn every_test_file_is_a_module() {
    let main = include_str!("main.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "main"
        {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/it/{name} is not declared in tests/it/main.rs"
            );
        }
    }
}
