//! Every code aepact prints, in one registry: the plan diagnostics (`plan::Code`), the
//! operational errors (`aepact::lockfile::*`, `aepact::api::*`, ...), and the reasons a plan is
//! refused (`run_in_flight`, ...). Codes are public API: scripts match on them, docs list them.
//! A test checks that they are unique across families, that every `code(aepact::…)` in the
//! source is registered here (and nothing here is stale), and snapshots the list.

/// Which part of aepact a code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// A problem in a plan file, reported by `validate` (and before every online command).
    Plan,
    /// Why `plan` and `apply` refuse a plan (`verdict.reasons[].code`).
    Refusal,
    /// An error that stops a command (printed as a diagnostic on stderr).
    Error,
    /// The kind of a problem `lock verify` reports (`lockfiles[].problems[].kind`); a kind that
    /// mirrors an error is named as its `aepact::lockfile::` code.
    Verify,
}

/// One registered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub code: &'static str,
    pub family: Family,
    pub meaning: &'static str,
}

/// The operational errors: every `#[diagnostic(code(...))]` outside the plan checks.
pub const ERRORS: &[(&str, &str)] = &[
    ("aepact::output", "standard output could not be written"),
    (
        "aepact::write_file",
        "a file aepact was asked to write could not be written",
    ),
    (
        "aepact::io",
        "a file, directory or the terminal aepact reads or makes for itself failed",
    ),
    (
        "aepact::saved_plan",
        "a saved plan cannot be read, or is of another format",
    ),
    (
        "aepact::setting",
        "an `AEPACT_*` setting has a value that cannot work",
    ),
    (
        "aepact::log_path",
        "a path given to `aepact log` does not exist",
    ),
    (
        "aepact::stdin_plan",
        "a plan read from standard input cannot be applied",
    ),
    ("aepact::lockfile::read", "a lockfile could not be read"),
    ("aepact::lockfile::syntax", "a lockfile is not valid JSON"),
    (
        "aepact::lockfile::merge_conflict",
        "a lockfile has git merge-conflict markers",
    ),
    (
        "aepact::lockfile::invalid",
        "a lockfile does not match the format",
    ),
    (
        "aepact::lockfile::version",
        "a lockfile has a `lockfileVersion` this aepact does not read",
    ),
    (
        "aepact::lockfile::inconsistent",
        "a lockfile's jobs contradict their fields",
    ),
    (
        "aepact::lockfile::wrong_plan",
        "a lockfile records another plan",
    ),
    (
        "aepact::lockfile::other_org",
        "a lockfile records runs for another organisation",
    ),
    (
        "aepact::lockfile::other_endpoint",
        "a lockfile records runs sent to another platform",
    ),
    (
        "aepact::lockfile::digest_mismatch",
        "a run's intent digest is not that of what it records",
    ),
    ("aepact::lockfile::write", "a lockfile could not be written"),
    ("aepact::lockfile::lock", "a plan could not be locked"),
    (
        "aepact::lockfile::busy",
        "another aepact held a plan's lock past `--lock-timeout`",
    ),
    (
        "aepact::lockfile::changed",
        "a lockfile changed on disk while aepact held its plan's lock",
    ),
    (
        "aepact::lockfile::transition",
        "a job state change the state machine forbids (a bug)",
    ),
    (
        "aepact::lockfile::no_entry",
        "a run, job or order that is not there (a bug)",
    ),
    (
        "aepact::api::credentials_missing",
        "the `AEP_*` credentials are missing",
    ),
    (
        "aepact::api::invalid_url",
        "`AEP_PLATFORM_URL` or `AEP_IMS_URL` is not an http(s) URL",
    ),
    (
        "aepact::api::url_credentials",
        "an endpoint URL carries user info, a query or a fragment",
    ),
    ("aepact::api::client", "the HTTP client could not be set up"),
    ("aepact::api::token", "IMS refused the token request"),
    ("aepact::api::http", "the platform refused a request"),
    (
        "aepact::api::transport",
        "the platform or IMS could not be reached",
    ),
    (
        "aepact::api::certificate",
        "the server's TLS certificate is not trusted (not retried)",
    ),
    (
        "aepact::api::decode",
        "the platform's answer could not be read",
    ),
    (
        "aepact::api::listing_too_long",
        "a listing of runs or flows goes on past the pages aepact reads",
    ),
    (
        "aepact::api::foreign_status_url",
        "a status URL is not on the configured platform",
    ),
    (
        "aepact::emulator::bind",
        "the emulator could not listen on 127.0.0.1",
    ),
    (
        "aepact::emulator::seed",
        "an emulator seed file is not valid",
    ),
    (
        "aepact::emulator::state_read",
        "the emulator's state file could not be read",
    ),
    (
        "aepact::emulator::state_invalid",
        "the emulator's state file is not valid",
    ),
    (
        "aepact::emulator::state_write",
        "the emulator's state file could not be written",
    ),
    (
        "aepact::emulator::runtime",
        "the async runtime could not start",
    ),
];

/// Every registered code: plan diagnostics, refusal reasons, operational errors, then the kinds
/// of `lock verify`'s problems.
pub fn all() -> Vec<Entry> {
    let plan = crate::plan::Code::ALL.iter().map(|c| Entry {
        code: c.as_str(),
        family: Family::Plan,
        meaning: c.description(),
    });
    let refusals = crate::planner::decide::codes::ALL
        .iter()
        .map(|&code| Entry {
            code,
            family: Family::Refusal,
            meaning: crate::planner::decide::codes::meaning(code),
        });
    let errors = ERRORS.iter().map(|&(code, meaning)| Entry {
        code,
        family: Family::Error,
        meaning,
    });
    let verify = crate::lockfile::verify::ProblemKind::ALL
        .iter()
        .map(|kind| Entry {
            code: kind.as_str(),
            family: Family::Verify,
            meaning: kind.meaning(),
        });
    plan.chain(refusals).chain(errors).chain(verify).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    #[test]
    fn codes_are_unique_across_families() {
        let mut seen = BTreeSet::new();
        for entry in all() {
            assert!(
                seen.insert(entry.code),
                "`{}` is registered twice",
                entry.code
            );
            assert!(!entry.meaning.is_empty(), "`{}` has no meaning", entry.code);
        }
    }

    /// Every `code(aepact::…)` of the source is in [`ERRORS`], and every entry of it is used.
    #[test]
    fn every_error_code_in_the_source_is_registered() {
        fn walk(dir: &Path, found: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("codes.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (i, _) in text.match_indices("code(aepact::") {
                        let rest = &text[i + 5..];
                        let end = rest.find(')').unwrap();
                        found.insert(rest[..end].to_owned());
                    }
                }
            }
        }
        let mut found = BTreeSet::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        let registered: BTreeSet<String> = ERRORS.iter().map(|(c, _)| (*c).to_owned()).collect();
        let missing: Vec<_> = found.difference(&registered).collect();
        let stale: Vec<_> = registered.difference(&found).collect();
        assert!(missing.is_empty(), "not in codes::ERRORS: {missing:?}");
        assert!(
            stale.is_empty(),
            "in codes::ERRORS but not in the source: {stale:?}"
        );
    }

    #[test]
    fn code_registry_is_stable() {
        let list: String = all()
            .iter()
            .map(|e| format!("{:?} {}: {}\n", e.family, e.code, e.meaning))
            .collect();
        insta::assert_snapshot!(list);
    }
}
