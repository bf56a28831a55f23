//! Which policy governs a plan: `--policy FILE` when given, else the nearest
//! `aepact.policy.yaml` in the plan's directory or its parents, up to the repository root (the
//! directory holding `.git`). A plan from standard input looks from the current directory.
//!
//! The walk of `validate` meets thousands of plans in a few directories, so what each
//! directory leads to is remembered, and each policy file is read and checked once: a tree
//! without a policy costs a few `stat`s per directory, never a parse per file.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::model::{FILE_NAME, Policy};
use crate::plan::diags::{Code, Diagnostic};

/// How the policy of each plan is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PolicyChoice {
    /// No policy at all (the checks that only read plans, such as `lock verify`).
    #[default]
    Off,
    /// The nearest `aepact.policy.yaml` of each plan.
    Nearest,
    /// This file, for every plan (`--policy FILE`).
    File(PathBuf),
}

/// A policy file's problems: the file (absolute), as shown, and its diagnostics.
type Problems = (PathBuf, Arc<str>, Vec<Diagnostic>);

/// The policies of one invocation: found, read and checked once each.
#[derive(Debug)]
pub struct Policies {
    choice: PolicyChoice,
    /// Directory (absolute) -> the policy file it leads to, if any.
    dirs: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// A plan's directory, as given -> what [`Policies::for_plan`] answered for it: the
    /// thousands of plans of one directory cost one hash of its bytes each, not an absolute
    /// path (a `getcwd` when relative) and a component-wise hash.
    answered: Mutex<HashMap<OsString, Option<Arc<Policy>>>>,
    /// Policy file (absolute) -> the checked policy, or `None` when it has problems.
    loaded: Mutex<HashMap<PathBuf, Option<Arc<Policy>>>>,
    /// The problems of policy files that did not pass: by file (absolute), as shown, in the
    /// order found.
    problems: Mutex<Vec<Problems>>,
    /// Policy files (absolute) named on the command line, whose report is their own file's:
    /// [`Policies::problems`] leaves them out, so that none is reported twice.
    named: Mutex<Vec<PathBuf>>,
}

impl Policies {
    pub fn new(choice: PolicyChoice) -> Self {
        Self {
            choice,
            dirs: Mutex::default(),
            answered: Mutex::default(),
            loaded: Mutex::default(),
            problems: Mutex::default(),
            named: Mutex::default(),
        }
    }

    /// Whether any plan can have a policy.
    pub fn is_off(&self) -> bool {
        self.choice == PolicyChoice::Off
    }

    /// The policy governing the plan file at `plan` (as opened: relative or absolute, or
    /// `-` for standard input).
    ///
    /// Returns `None` when no policy applies, or when the policy has problems (reported by
    /// [`Policies::problems`], which fail the invocation).
    pub fn for_plan(&self, plan: &Path) -> Option<Arc<Policy>> {
        let dir = if plan.as_os_str() == crate::plan::read::STDIN {
            Path::new(".")
        } else {
            plan.parent().unwrap_or(Path::new("."))
        };
        self.for_plan_in(dir)
    }

    /// [`Policies::for_plan`] of a plan file in the directory `dir` (as opened; empty for the
    /// current directory), for a caller that knows it without taking the plan's path apart.
    pub fn for_plan_in(&self, dir: &Path) -> Option<Arc<Policy>> {
        let file = match &self.choice {
            PolicyChoice::Off => return None,
            PolicyChoice::File(file) => file.clone(),
            PolicyChoice::Nearest if dir.as_os_str().is_empty() => {
                return self.for_dir(Path::new("."));
            }
            PolicyChoice::Nearest => return self.for_dir(dir),
        };
        self.load(&file)
    }

    /// The nearest policy of the plans in `dir` (as given), found once per directory.
    fn for_dir(&self, dir: &Path) -> Option<Arc<Policy>> {
        let lock = || self.answered.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = lock().get(dir.as_os_str()) {
            return known.clone();
        }
        // Found and loaded outside the lock: another worker meeting the same directory at
        // once finds the same file, and `load` reads it once.
        let policy = self.nearest(dir).and_then(|file| self.load(&file));
        lock().insert(dir.as_os_str().to_owned(), policy.clone());
        policy
    }

    /// The problems of the policy files that did not pass, by file: each file once.
    pub fn problems(&self) -> Vec<(Arc<str>, Vec<Diagnostic>)> {
        let named = self.named.lock().unwrap_or_else(PoisonError::into_inner);
        self.problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(key, ..)| !named.contains(key))
            .map(|(_, shown, diags)| (shown.clone(), diags.clone()))
            .collect()
    }

    /// Says that the policy file at `file` is reported as a file of its own (it was named on
    /// the command line), not again among [`Policies::problems`].
    pub fn reported_as_named(&self, file: &Path) {
        let key = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
        self.named
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(key);
    }

    /// The nearest policy file from `dir` up to the repository root.
    fn nearest(&self, dir: &Path) -> Option<PathBuf> {
        let start = std::path::absolute(dir).ok()?;
        let mut dirs = self.dirs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut visited = Vec::new();
        let mut at = Some(start.as_path());
        let found = loop {
            let Some(here) = at else { break None };
            if let Some(known) = dirs.get(here) {
                break known.clone();
            }
            visited.push(here.to_owned());
            let candidate = here.join(FILE_NAME);
            if candidate.is_file() {
                break Some(candidate);
            }
            if here.join(".git").exists() {
                break None;
            }
            at = here.parent();
        };
        for dir in visited {
            dirs.insert(dir, found.clone());
        }
        found
    }

    /// Reads and checks a policy file once; its problems are kept for the report.
    fn load(&self, file: &Path) -> Option<Arc<Policy>> {
        let key = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = loaded.get(&key) {
            return known.clone();
        }
        let display = display_of(file, &key);
        let result = if !file.exists() {
            Err(vec![
                Diagnostic::error(
                    Code::PathNotFound,
                    display.as_str(),
                    format!("policy file `{display}` does not exist"),
                )
                .with_help("check the path given to `--policy` (or `AEPACT_POLICY`)"),
            ])
        } else {
            Policy::load(file, &display)
        };
        let policy = match result {
            Ok(policy) => {
                let shown: &str = &display;
                tracing::info!("read the policy `{shown}`");
                Some(Arc::new(policy))
            }
            Err(diags) => {
                self.problems
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((key.clone(), display.into(), diags));
                None
            }
        };
        loaded.insert(key, policy.clone());
        policy
    }
}

/// A policy file as diagnostics name it: as given when relative, else relative to the current
/// directory when below it, else absolute.
fn display_of(given: &Path, absolute: &Path) -> String {
    if given.is_relative() && !given.starts_with("..") {
        return given
            .strip_prefix(".")
            .unwrap_or(given)
            .display()
            .to_string();
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| relative_to(absolute, &cwd))
        .unwrap_or_else(|| absolute.display().to_string())
}

/// `file` (absolute) as a path relative to the directory `from` (absolute): under it, or up
/// a few levels with `..` (a policy in a parent of the current directory, as the walk up to
/// the repository root finds it). `None` when they share nothing but the root, or more than
/// eight levels up: then the absolute path says more.
fn relative_to(file: &Path, from: &Path) -> Option<String> {
    let relative = crate::text::relative_path(from, file);
    let up = relative.split('/').take_while(|part| *part == "..").count();
    let depth = from
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count();
    (up < depth && up <= 8).then_some(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_of_a_directory_however_spelled_share_one_policy_read_once() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".git")).unwrap();
        std::fs::create_dir_all(root.path().join("plans/sub")).unwrap();
        std::fs::write(
            root.path().join(FILE_NAME),
            "apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    requireLabels: true\n",
        )
        .unwrap();
        let policies = Policies::new(PolicyChoice::Nearest);
        let plans = root.path().join("plans");
        let first = policies.for_plan(&plans.join("a.yaml")).expect("found");
        for plan in [
            plans.join("b.yaml"),
            plans.join("sub/c.yaml"),
            root.path().join("plans/./sub/../d.yaml"),
        ] {
            let again = policies.for_plan(&plan).expect("found");
            assert!(Arc::ptr_eq(&first, &again), "{}", plan.display());
        }
        assert_eq!(policies.loaded.lock().unwrap().len(), 1);
        assert!(policies.problems().is_empty());

        // Outside the repository (no `.git` above the temporary directory's own): none.
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join(".git")).unwrap();
        assert!(policies.for_plan(&outside.path().join("x.yaml")).is_none());
        assert!(policies.for_plan(&outside.path().join("y.yaml")).is_none());
    }

    #[test]
    fn a_policy_is_shown_relative_to_the_current_directory() {
        let rel = |file: &str, from: &str| relative_to(Path::new(file), Path::new(from));
        assert_eq!(
            rel("/r/repo/aepact.policy.yaml", "/r/repo").as_deref(),
            Some("aepact.policy.yaml")
        );
        assert_eq!(
            rel("/r/repo/aepact.policy.yaml", "/r/repo/plans/sub").as_deref(),
            Some("../../aepact.policy.yaml")
        );
        assert_eq!(
            rel("/r/repo/a/aepact.policy.yaml", "/r/repo/b").as_deref(),
            Some("../a/aepact.policy.yaml")
        );
        assert_eq!(rel("/etc/aepact.policy.yaml", "/home/me"), None);
    }
}
