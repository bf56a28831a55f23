//! One identity per plan: a plan is its canonical file (symlinks resolved) and its `name`.
//!
//! Exactly-once activation hangs on the lockfile beside each plan, so the path that names a plan
//! must not change which records it sees (issue 9, case 4). Discovery dedupes files by their
//! canonical path ([`canonical`]); this module also refuses two different files that would keep
//! their records in one lockfile ([`shared_lockfiles`]), such as `a.yaml` and `a.yml`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diags::{Code, Diagnostic};
use super::source::SourceFile;
use crate::lockfile::lockfile_path;

/// The canonical form of `path` (absolute, symlinks resolved).
///
/// Returns `path` as given when it cannot be resolved (a dangling link, a missing parent
/// permission), so that reading it reports what is wrong.
pub fn canonical(path: &Path) -> Arc<Path> {
    std::fs::canonicalize(path).map_or_else(|_| Arc::from(path), |p| Arc::from(p.into_boxed_path()))
}

/// A plan file as the lockfile check sees it: its index among the checked paths, the path
/// shown to users, and its canonical file.
#[derive(Debug, Clone, Copy)]
pub struct PlanFile<'a> {
    pub index: usize,
    pub display: &'a str,
    pub file: &'a Path,
}

/// Finds different plan files that map to the same lockfile (`a.yaml` and `a.yml`, or `a` and
/// `a.yaml`): their records would overwrite each other's.
///
/// `files` are distinct canonical files. `load` reads a file's source again, to point at its
/// `name`. Returns one error per file involved, with the index of the file it belongs to.
pub fn shared_lockfiles(
    files: &[PlanFile<'_>],
    load: &dyn Fn(usize) -> Option<SourceFile>,
) -> Vec<(usize, Diagnostic)> {
    // Lockfile -> the first file keeping its records there; clashes are rare, so only they
    // are gathered into groups.
    let mut first: HashMap<PathBuf, usize> = HashMap::with_capacity(files.len());
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (k, f) in files.iter().enumerate() {
        match first.entry(lockfile_path(f.file)) {
            Entry::Vacant(slot) => {
                slot.insert(k);
            }
            Entry::Occupied(slot) => {
                let g = *group_of.entry(*slot.get()).or_insert_with(|| {
                    groups.push(vec![*slot.get()]);
                    groups.len() - 1
                });
                groups[g].push(k);
            }
        }
    }
    drop(first);
    let mut out = Vec::new();
    for group in groups {
        for &k in &group {
            let f = files[k];
            let others: Vec<String> = group
                .iter()
                .filter(|&&o| o != k)
                .map(|&o| format!("`{}`", files[o].display))
                .collect();
            let lock = lockfile_path(Path::new(f.display));
            let message = format!(
                "plan file `{}` would share its lockfile `{}` with {}",
                f.display,
                lock.display(),
                others.join(" and ")
            );
            let diag = at_name(load(f.index), f.display, message)
                .with_label_text(format!("records go to `{}`", lock.display()))
                .with_help(
                    "rename or remove one of the files: each plan keeps its records in the \
                     lockfile beside it, so plans sharing one would overwrite each other's",
                );
            out.push((f.index, diag));
        }
    }
    out
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

    fn file<'a>(index: usize, display: &'a str) -> PlanFile<'a> {
        PlanFile {
            index,
            display,
            file: Path::new(display),
        }
    }

    #[test]
    fn yaml_and_yml_of_one_stem_share_a_lockfile() {
        let files = [
            file(0, "plans/a.yaml"),
            file(1, "plans/b.yaml"),
            file(2, "plans/a.yml"),
        ];
        let found = shared_lockfiles(&files, &|_| None);
        let indices: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 2]);
        assert!(
            found[0].1.message.contains("with `plans/a.yml`"),
            "{}",
            found[0].1.message
        );
        assert!(
            found[1].1.message.contains("with `plans/a.yaml`"),
            "{}",
            found[1].1.message
        );
        assert!(found.iter().all(|(_, d)| d.code == Code::SharedLockfile));
    }

    #[test]
    fn every_file_of_a_clash_names_the_others() {
        // `a` has no YAML extension: its lockfile is `a.lock.json` too.
        let files = [
            file(0, "a"),
            file(1, "b.yaml"),
            file(2, "a.yml"),
            file(3, "b.yml"),
            file(4, "a.yaml"),
        ];
        let found = shared_lockfiles(&files, &|_| None);
        let mut indices: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        let message = |i: usize| &found.iter().find(|(j, _)| *j == i).unwrap().1.message;
        assert!(
            message(0).ends_with("with `a.yml` and `a.yaml`"),
            "{}",
            message(0)
        );
        assert!(message(3).ends_with("with `b.yaml`"), "{}", message(3));
    }

    #[test]
    fn points_at_the_name_when_the_file_parses() {
        let source = SourceFile::new("a.yml", "apiVersion: aepact/v1\nname: a\n");
        let files = [file(0, "a.yaml"), file(1, "a.yml")];
        let found = shared_lockfiles(&files, &|i| (i == 1).then(|| source.clone()));
        assert!(found[0].1.position().is_none());
        let pos = found[1].1.position().unwrap();
        assert_eq!((pos.line, pos.column), (2, 7));
        assert_eq!(found[1].1.pointer.as_deref(), Some("/name"));
    }

    #[test]
    fn canonical_falls_back_to_the_path_as_given() {
        let missing = Path::new("does/not/exist.yaml");
        assert_eq!(&*canonical(missing), missing);
    }
}
