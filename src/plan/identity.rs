//! One identity per plan: a plan is its canonical file (symlinks resolved) and its `name`.
//!
//! Exactly-once activation hangs on the lockfile beside each plan, so the path that names a plan
//! must not change which records it sees (issue 9, case 4). Discovery dedupes files by their
//! canonical path ([`canonical`]); this module also refuses two different files that would keep
//! their records in one lockfile ([`shared_lockfiles`]), such as `a.yaml` and `a.yml`.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diags::{Code, Diagnostic};
use super::guardrails::bytes_key as text_key;
use super::source::SourceFile;
use crate::lockfile::{lockfile_path, lockfile_stem};

/// The canonical form of `path` (absolute, symlinks resolved).
///
/// Returns `path` as given when it cannot be resolved (a dangling link, a missing parent
/// permission), so that reading it reports what is wrong.
pub fn canonical(path: &Path) -> Arc<Path> {
    std::fs::canonicalize(path).map_or_else(|_| Arc::from(path), |p| Arc::from(p.into_boxed_path()))
}

/// A plan file as the lockfile check sees it: the path shown to users, and its canonical file
/// (built on request for a file found in a walked directory, see `discover.rs`).
#[derive(Debug, Clone)]
pub struct PlanFile<'a> {
    pub display: Cow<'a, str>,
    pub file: Cow<'a, Path>,
}

/// Finds different plan files that map to the same lockfile (`a.yaml` and `a.yml`, or `a` and
/// `a.yaml`): their records would overwrite each other's.
///
/// `file(i)` is the `i`-th of `count` checked paths, `None` when it is no plan file; the files
/// are distinct canonical files. `name(i)` is the name of that canonical file, without building
/// it (`file` is asked only for the few files whose names' keys meet). `load` reads a file's
/// source again, to point at its `name`.
/// Returns one error per file involved, with the index of the file it belongs to.
pub fn shared_lockfiles<'a>(
    count: usize,
    name: &dyn Fn(usize) -> Option<&'a OsStr>,
    file: &dyn Fn(usize) -> Option<PlanFile<'a>>,
    load: &dyn Fn(usize) -> Option<SourceFile>,
) -> Vec<(usize, Diagnostic)> {
    // 8 bytes per file, sorted, rather than a map of 10,000 lockfile paths; the few files
    // whose keys meet are compared by their real lockfile paths. The key is of what
    // `lockfile_path` keeps of the file's name before `.lock.json` (the stem of a `.yaml` or
    // `.yml` file, else the whole name): equal lockfile paths have equal names, so equal keys,
    // and a name is keyed without building a path or a lockfile name. The key's top bits sit
    // above the file's index, in one number, in a list of room for every file at once (issue
    // 13: the list was the last peak of a 100,000-plan run).
    let plan_bits = (usize::BITS - count.leading_zeros()).clamp(1, 32);
    let mut keys: Vec<u64> = Vec::with_capacity(count);
    keys.extend((0..count).filter_map(|i| {
        let key = text_key(lockfile_stem(name(i)?).as_encoded_bytes());
        Some((key >> plan_bits) << plan_bits | i as u64)
    }));
    keys.sort_unstable();
    let mut out = Vec::new();
    for run in keys
        .chunk_by(|a, b| a >> plan_bits == b >> plan_bits)
        .filter(|run| run.len() > 1)
    {
        let mut groups: Vec<(PathBuf, Vec<(usize, PlanFile<'a>)>)> = Vec::new();
        for &packed in run {
            let i = (packed & ((1u64 << plan_bits) - 1)) as usize;
            let Some(f) = file(i) else { continue };
            let lock = lockfile_path(&f.file);
            match groups.iter_mut().find(|(l, _)| *l == lock) {
                Some((_, members)) => members.push((i, f)),
                None => groups.push((lock, vec![(i, f)])),
            }
        }
        for (_, members) in groups.iter().filter(|(_, m)| m.len() > 1) {
            for (i, f) in members {
                let i = *i;
                let others: Vec<String> = members
                    .iter()
                    .filter(|(o, _)| *o != i)
                    .map(|(_, o)| format!("`{}`", o.display))
                    .collect();
                out.push((i, shared_lockfile(load(i), &f.display, &others)));
            }
        }
    }
    out
}

/// The error for one file of a clash, naming the `others`.
fn shared_lockfile(source: Option<SourceFile>, display: &str, others: &[String]) -> Diagnostic {
    let lock = lockfile_path(Path::new(display));
    let message = format!(
        "plan file `{display}` would share its lockfile `{}` with {}",
        lock.display(),
        others.join(" and ")
    );
    at_name(source, display, message)
        .with_label_text(format!("records go to `{}`", lock.display()))
        .with_help(
            "rename or remove one of the files: each plan keeps its records in the \
             lockfile beside it, so plans sharing one would overwrite each other's",
        )
}

/// A shared-lockfile error at the plan's `name` (or its first line), or about the file as a
/// whole when it cannot be parsed again.
fn at_name(source: Option<SourceFile>, display: &str, message: String) -> Diagnostic {
    let doc = source
        .as_ref()
        .and_then(|s| super::load::parse(s).ok().map(|doc| (s, doc)));
    match doc {
        Some((source, doc)) => {
            let pointer = if doc.spans.key("/name").is_some() {
                "/name"
            } else {
                ""
            };
            let diag = Diagnostic::at(
                Code::SharedLockfile,
                source,
                doc.spans.node(pointer),
                message,
            );
            if pointer.is_empty() {
                diag
            } else {
                diag.with_pointer(pointer)
            }
        }
        None => Diagnostic::error(Code::SharedLockfile, display, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the check over plan files named by their display paths (as their canonical ones).
    fn check(
        displays: &[&str],
        load: &dyn Fn(usize) -> Option<SourceFile>,
    ) -> Vec<(usize, Diagnostic)> {
        let file = |i: usize| {
            displays.get(i).map(|d| PlanFile {
                display: Cow::Borrowed(*d),
                file: Cow::Borrowed(Path::new(d)),
            })
        };
        let name = |i: usize| displays.get(i).and_then(|d| Path::new(d).file_name());
        shared_lockfiles(displays.len(), &name, &file, load)
    }

    /// The message of the diagnostic for file `i`.
    fn message(found: &[(usize, Diagnostic)], i: usize) -> &str {
        &found.iter().find(|(j, _)| *j == i).unwrap().1.message
    }

    #[test]
    fn yaml_and_yml_of_one_stem_share_a_lockfile() {
        let found = check(&["plans/a.yaml", "plans/b.yaml", "plans/a.yml"], &|_| None);
        let mut indices: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 2]);
        assert!(message(&found, 0).ends_with("with `plans/a.yml`"));
        assert!(message(&found, 2).ends_with("with `plans/a.yaml`"));
        assert!(
            message(&found, 0).contains("its lockfile `plans/a.lock.json`"),
            "{}",
            message(&found, 0)
        );
        assert!(found.iter().all(|(_, d)| d.code == Code::SharedLockfile));
    }

    #[test]
    fn every_file_of_a_clash_names_the_others() {
        // `a` has no YAML extension: its lockfile is `a.lock.json` too.
        let found = check(
            &["a", "b.yaml", "a.yml", "b.yml", "a.yaml", "c.yaml"],
            &|_| None,
        );
        let mut indices: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        assert!(message(&found, 0).ends_with("with `a.yml` and `a.yaml`"));
        assert!(message(&found, 3).ends_with("with `b.yaml`"));
    }

    #[test]
    fn files_that_are_not_plans_take_no_part() {
        let displays = ["a.yaml", "a.yml"];
        let file = |i: usize| {
            (i == 0).then(|| PlanFile {
                display: Cow::Borrowed(displays[i]),
                file: Cow::Borrowed(Path::new(displays[i])),
            })
        };
        let name = |i: usize| (i == 0).then(|| OsStr::new(displays[i]));
        assert!(shared_lockfiles(2, &name, &file, &|_| None).is_empty());
    }

    #[test]
    fn points_at_the_name_when_the_file_parses() {
        let source = SourceFile::new("a.yml", "apiVersion: aepact/v1\nname: a\n");
        let found = check(&["a.yaml", "a.yml"], &|i| (i == 1).then(|| source.clone()));
        let diag = |i: usize| &found.iter().find(|(j, _)| *j == i).unwrap().1;
        assert!(diag(0).position().is_none());
        let pos = diag(1).position().unwrap();
        assert_eq!((pos.line, pos.column), (2, 7));
        assert_eq!(diag(1).pointer.as_deref(), Some("/name"));
    }

    #[test]
    fn canonical_falls_back_to_the_path_as_given() {
        let missing = Path::new("does/not/exist.yaml");
        assert_eq!(&*canonical(missing), missing);
    }
}
