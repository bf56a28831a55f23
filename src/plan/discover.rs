//! Finding the files to check: the command line's paths expanded, directories walked, every
//! file listed once.
//!
//! Apart from `check.rs` because the list is kept compact (issue 13): it lives for the whole
//! run, one entry per file. An entry holds the path as shown and, for a file found inside a
//! walked directory, only its name and the index of that directory's canonical path and of its
//! path as shown: the file's canonical path and its path as shown are that directory's joined
//! with the file's name, built when needed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ffi::OsStr;
use std::fs::FileType;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::diags::{Code, Diagnostic};
use super::guardrails::segment_key as text_key;
use super::{identity, read};

/// Everything to check, in order.
pub(super) struct Targets {
    pub(super) list: Vec<Target>,
    /// The display paths of file targets, one after the other (a file names its part): whole
    /// for a file stored whole ([`FileTarget::whole`]), else the file's name.
    text: String,
    /// Canonical paths that file targets name by index: walked directories (holding the files
    /// found in them) and files that are not found in a walked directory.
    paths: Vec<Arc<Path>>,
    /// For each of `paths`, the directory as shown, up to the file's name (with its `/`);
    /// empty for a file stored whole.
    shown: Vec<Box<str>>,
}

/// What to check.
pub(super) enum Target {
    File(FileTarget),
    Problem(Box<Diagnostic>),
    Dir(Box<DirTarget>),
}

/// A directory given on the command line, after its walk: the files it held (`met`, indices
/// of targets, also of files listed before it) and whether the walk hit problems. Whether it
/// held any plan is known only once those files are checked.
pub(super) struct DirTarget {
    pub(super) display: Box<str>,
    pub(super) met: Met,
    pub(super) problems: bool,
}

/// Indices of targets, in runs of consecutive ones: the files of a directory walked afresh
/// are one run, however many (issue 13: 8 bytes rather than 4 a file).
#[derive(Debug, Default)]
pub(super) struct Met {
    /// (first index, count).
    runs: Vec<(u32, u32)>,
}

impl Met {
    fn push(&mut self, i: u32) {
        match self.runs.last_mut() {
            Some((first, count)) if first.checked_add(*count) == Some(i) => *count += 1,
            _ => self.runs.push((i, 1)),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.runs.iter().map(|&(_, count)| count as usize).sum()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs
            .iter()
            .flat_map(|&(first, count)| first..first + count)
    }
}

/// A file to check: 16 bytes (a [`Target`] too: the enum's tag sits in a flag's spare bits),
/// and its display path (or name) in [`Targets`]'s text.
pub(super) struct FileTarget {
    /// Where the path as given starts in the text of display paths, and its length; for a
    /// file found under a directory that was given, its name's ([`Targets::display`]).
    at: u32,
    len: u32,
    /// The canonical file: the plan's identity, the key that dedupes files, and the path it
    /// is read through (the path as given when it could not be resolved). It is `paths[path]`
    /// itself when `whole`, else that directory joined with the name; then the path as shown
    /// is `shown[path]` followed by the name.
    path: u32,
    whole: bool,
    /// Named on the command line (always a plan), rather than only met in a directory walk
    /// (a plan only when `check::file_kind` says so).
    pub(super) named: bool,
    /// Met in a walk as a regular file (no symlink): opened without asking the file system
    /// first whether it is one (see [`read::read_regular`]).
    pub(super) regular: bool,
}

/// `name_at` of a file whose canonical path and display path are stored whole (see
/// [`Discovery::file`]).
const WHOLE: u32 = u32::MAX;

/// The length of an [`Entries`] name kept apart, whole (not UTF-8, or past 64 KiB).
const WHOLE_NAME: u16 = u16::MAX;

impl Targets {
    /// The path of `target` as shown: as given, or as found under a directory that was given.
    pub(super) fn display(&self, target: &FileTarget) -> Cow<'_, str> {
        let stored = stored_of(&self.text, target);
        if target.whole {
            Cow::Borrowed(stored)
        } else {
            Cow::Owned([&*self.shown[target.path as usize], stored].concat())
        }
    }

    /// The canonical file of `target`.
    pub(super) fn file(&self, target: &FileTarget) -> Cow<'_, Path> {
        canonical_of(&self.paths, target.path, name_of(&self.text, target))
    }

    /// The walked directory `target` was found in (its canonical path, the directory of
    /// [`Targets::file`]) and that directory's index (equal for the files of one directory),
    /// `None` for a file stored whole.
    pub(super) fn dir_of(&self, target: &FileTarget) -> Option<(u32, &Path)> {
        (!target.whole).then(|| (target.path, &*self.paths[target.path as usize]))
    }

    /// The name of the canonical file of `target` (what [`Targets::file`] would end in),
    /// without building that path; `None` for a path that ends in `..` or a root.
    pub(super) fn file_name<'a>(&'a self, target: &'a FileTarget) -> Option<&'a OsStr> {
        match name_of(&self.text, target) {
            None => self.paths[target.path as usize].file_name(),
            Some(name) => Some(OsStr::new(name)),
        }
    }
}

/// What `text` (the display paths of a [`Targets`]) holds of `target`: its display path, or
/// its name when it was found in a walked directory.
fn stored_of<'t>(text: &'t str, target: &FileTarget) -> &'t str {
    &text[target.at as usize..(target.at + target.len) as usize]
}

/// The name of a file found in a walked directory, `None` for a file stored whole.
fn name_of<'t>(text: &'t str, target: &FileTarget) -> Option<&'t str> {
    (!target.whole).then(|| stored_of(text, target))
}

/// The canonical file `paths[path]` names, joined with `name` when given.
fn canonical_of<'p>(paths: &'p [Arc<Path>], path: u32, name: Option<&str>) -> Cow<'p, Path> {
    let path = &*paths[path as usize];
    match name {
        None => Cow::Borrowed(path),
        Some(name) => Cow::Owned(join_name(path, name)),
    }
}

/// Expands the command line's paths into files to check, in order: a file as given; a
/// directory as every `*.yaml`/`*.yml` below it, sorted, skipping hidden entries and symlinked
/// directories (so a link loop cannot trap the walk). A file reached twice (named twice, named
/// and walked, or through a symlink) is checked once, under the path it was first reached by.
pub(super) fn discover(paths: &[PathBuf]) -> Targets {
    let mut found = Discovery::default();
    for path in paths {
        // `-`: the plan on standard input (read once, whatever else is given).
        if path.as_os_str() == read::STDIN {
            let at = found.path(Arc::from(path.as_path()), "");
            found.file(read::STDIN_DISPLAY, (at, WHOLE, None), true, false);
            continue;
        }
        let display = display_path(path);
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => found.problem(
                Diagnostic::error(
                    Code::PathNotFound,
                    display.as_str(),
                    format!("`{display}` does not exist"),
                )
                .with_help("check the path; plans are `*.yaml` or `*.yml` files, or directories holding them"),
            ),
            Ok(meta) if meta.is_dir() => {
                let before = found.targets.len();
                let mut met = Met::default();
                let canonical = std::fs::canonicalize(path).ok();
                found.walk(path, canonical.as_deref(), &mut met);
                let problems = found.targets[before..]
                    .iter()
                    .any(|t| matches!(t, Target::Problem(_)));
                found.targets.push(Target::Dir(Box::new(DirTarget {
                    display: display.into(),
                    met,
                    problems,
                })));
            }
            // Files, and paths we cannot stat: reading will say what is wrong with them.
            _ => {
                let at = found.path(identity::canonical(path), "");
                found.file(&display, (at, WHOLE, None), true, false);
            }
        }
    }
    let (mut list, mut text) = (found.targets, found.text);
    list.shrink_to_fit();
    text.shrink_to_fit();
    Targets {
        list,
        text,
        paths: found.paths,
        shown: found.shown,
    }
}

#[derive(Default)]
struct Discovery {
    targets: Vec<Target>,
    /// As [`Targets`]'s text.
    text: String,
    paths: Vec<Arc<Path>>,
    shown: Vec<Box<str>>,
    /// Hash of a canonical file's name (its top 32 bits) -> its target (equal paths have
    /// equal names; hashing the name alone saves building the path). A file whose hash meets
    /// another's but is another file is listed in `also` (at 100,000 files, about one).
    seen: HashMap<u32, u32>,
    also: HashMap<PathBuf, u32>,
}

impl Discovery {
    fn problem(&mut self, diag: Diagnostic) {
        self.targets.push(Target::Problem(Box::new(diag)));
    }

    /// Lists, instead of the file `display`, the problem that it is one too many: the display
    /// paths of one run are kept in 4 GiB (tens of millions of files). Returns its index.
    fn too_many(&mut self, display: &str) -> u32 {
        self.problem(
            Diagnostic::error(
                Code::Unreadable,
                display,
                format!("`{display}` is not checked: too many files for one run"),
            )
            .with_help("check the plans in several runs, a directory at a time"),
        );
        (self.targets.len() - 1) as u32
    }

    /// Keeps a canonical path for targets to name: a file's, stored whole, or a directory's,
    /// shown as `shown` up to its files' names. Returns its index.
    fn path(&mut self, path: Arc<Path>, shown: &str) -> u32 {
        self.paths.push(path);
        self.shown.push(shown.into());
        (self.paths.len() - 1) as u32
    }

    /// Lists a file unless its canonical file is listed already. Returns its target's index.
    ///
    /// `display[name_at..]` is the file's name in the directory `paths[path]`, or `name_at`
    /// is [`WHOLE`] when `paths[path]` is the file itself. `stored_at` is where that name
    /// already sits in the text (a walk's names are moved there whole, [`Discovery::walk`]),
    /// `None` to store it.
    fn file(
        &mut self,
        display: &str,
        (path, name_at, stored_at): (u32, u32, Option<u32>),
        named: bool,
        regular: bool,
    ) -> u32 {
        let name = (name_at != WHOLE).then(|| &display[name_at as usize..]);
        let hash = match name {
            None => {
                let name = self.paths[path as usize].file_name().unwrap_or_default();
                text_key(&name.to_string_lossy())
            }
            Some(name) => text_key(name),
        } >> 32;
        let hash = hash as u32;
        let listed = match self.seen.get(&hash) {
            None => None,
            Some(&i) => {
                let canonical = canonical_of(&self.paths, path, name);
                match &self.targets[i as usize] {
                    Target::File(first)
                        if canonical_of(&self.paths, first.path, name_of(&self.text, first))
                            == canonical =>
                    {
                        Some(i)
                    }
                    _ => self.also.get(&*canonical).copied(),
                }
            }
        };
        if let Some(i) = listed {
            // Named on the command line after it was met in a walk: checked as a plan.
            if let Some(Target::File(target)) = self.targets.get_mut(i as usize) {
                target.named |= named;
            }
            return i;
        }
        let stored = name.unwrap_or(display);
        let at = match stored_at.filter(|_| name.is_some()) {
            Some(at) => at,
            None if u32::try_from(self.text.len() + stored.len()).is_err() => {
                return self.too_many(display);
            }
            None => {
                self.text.push_str(stored);
                (self.text.len() - stored.len()) as u32
            }
        };
        let len = stored.len() as u32;
        let i = self.targets.len() as u32;
        match self.seen.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
            Entry::Occupied(_) => {
                let canonical = canonical_of(&self.paths, path, name).into_owned();
                self.also.insert(canonical, i);
            }
        }
        self.targets.push(Target::File(FileTarget {
            at,
            len,
            path,
            whole: name.is_none(),
            named,
            regular,
        }));
        i
    }

    /// Moves a directory's names (`text`, emptied) to the end of the text of display paths, and
    /// returns where they start there; `None`, leaving them, when they would not fit its 4 GiB.
    /// The first directory's text is taken as it is, without a copy.
    fn take_names(&mut self, text: &mut String) -> Option<u32> {
        let base = u32::try_from(self.text.len()).ok()?;
        u32::try_from(self.text.len() + text.len()).ok()?;
        if self.text.is_empty() {
            self.text = std::mem::take(text);
        } else {
            self.text.push_str(text);
            *text = String::new();
        }
        Some(base)
    }

    /// Walks `dir`, whose canonical path is `canonical` when known (then the canonical path of
    /// an entry that is no symlink is found without asking the file system). Pushes the index
    /// of every file met to `met`.
    fn walk(&mut self, dir: &Path, canonical: Option<&Path>, met: &mut Met) {
        let dir_display = display_path(dir);
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => {
                return self.problem(
                    Diagnostic::error(
                        Code::Unreadable,
                        dir_display.as_str(),
                        format!("cannot read directory `{dir_display}`: {err}"),
                    )
                    .with_help("check that the directory exists and that you may read it"),
                );
            }
        };
        let mut entries = Entries::read(entries);
        entries.sort();
        // Room for this directory's files at once, rather than doubling past it.
        self.targets.reserve(entries.entries.len());
        self.seen.reserve(entries.entries.len());
        // The names join the text of display paths, where the files found here name them:
        // one copy of a directory's names rather than two (issue 13: 1.6 MB at 100,000).
        let base = self.take_names(&mut entries.text);
        // The files of this directory name it by index, once.
        let mut canonical_dir: Option<u32> = None;
        let mut display = String::new();
        let mut name = std::ffi::OsString::new();
        for i in 0..entries.entries.len() {
            let (at, len, kind) = entries.entries[i];
            name.clear();
            name.push(match (len, base) {
                (WHOLE_NAME, _) => entries.others[at as usize].as_os_str(),
                (len, Some(base)) => {
                    let at = (base + at) as usize;
                    OsStr::new(&self.text[at..at + usize::from(len)])
                }
                (len, None) => {
                    let at = at as usize;
                    OsStr::new(&entries.text[at..at + usize::from(len)])
                }
            });
            let name = name.as_os_str();
            let stored_at = base.filter(|_| len != WHOLE_NAME).map(|base| base + at);
            let lossy = name.to_string_lossy();
            if lossy.starts_with('.') {
                continue;
            }
            let is_plan_name = lossy.ends_with(".yaml") || lossy.ends_with(".yml");
            if !kind.is_dir() && !is_plan_name {
                continue;
            }
            let inside = canonical.filter(|_| !kind.is_symlink());
            if kind.is_dir() {
                let inside = inside.map(|dir| dir.join(name));
                self.walk(&dir.join(name), inside.as_deref(), met);
            } else if !(kind.is_symlink() && dir.join(name).is_dir()) {
                child_display(&mut display, &dir_display, &lossy);
                debug_assert_eq!(display, display_path(&dir.join(name)));
                // The canonical path is the directory's joined with the name, unless the name
                // is not UTF-8 (the display shows it changed) or the entry is a symlink.
                let (at, name_at) = match (inside, name.to_str()) {
                    (Some(dir), Some(name)) => {
                        let name_at = display.len() - name.len();
                        let at = *canonical_dir
                            .get_or_insert_with(|| self.path(Arc::from(dir), &display[..name_at]));
                        (at, name_at as u32)
                    }
                    (Some(dir), None) => (self.path(Arc::from(dir.join(name)), ""), WHOLE),
                    (None, _) => (self.path(identity::canonical(&dir.join(name)), ""), WHOLE),
                };
                let file = (at, name_at, stored_at);
                met.push(self.file(&display, file, false, kind.is_file()));
            }
        }
    }
}

/// A directory's entries: names (read once each: `DirEntry::file_name` allocates) in one
/// buffer, rather than a `DirEntry` per entry, so that a directory of 100,000 plans is walked
/// in little memory (8 bytes an entry besides its name). Names that are not UTF-8 are kept
/// apart, whole.
struct Entries {
    text: String,
    others: Vec<std::ffi::OsString>,
    /// (start of the name in `text`, its length or [`WHOLE_NAME`] for `others[start]`, its
    /// type).
    entries: Vec<(u32, u16, Kind)>,
}

/// What a walk needs of a [`FileType`], in a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

impl Kind {
    fn of(kind: FileType) -> Self {
        if kind.is_file() {
            Kind::File
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        }
    }

    fn is_file(self) -> bool {
        self == Kind::File
    }

    fn is_dir(self) -> bool {
        self == Kind::Dir
    }

    fn is_symlink(self) -> bool {
        self == Kind::Symlink
    }
}

impl Entries {
    fn read(dir: std::fs::ReadDir) -> Self {
        let mut out = Entries {
            text: String::new(),
            others: Vec::new(),
            entries: Vec::new(),
        };
        for entry in dir.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let (name, kind) = (entry.file_name(), Kind::of(kind));
            match name.to_str() {
                Some(text) if text.len() < usize::from(WHOLE_NAME) => {
                    let at = out.text.len() as u32;
                    out.entries.push((at, text.len() as u16, kind));
                    out.text.push_str(text);
                }
                _ => {
                    out.entries
                        .push((out.others.len() as u32, WHOLE_NAME, kind));
                    out.others.push(name);
                }
            }
        }
        out
    }

    /// Sorts the entries by name (bytewise, as `OsStr` orders them), in place: a list of
    /// keys beside them took 32 bytes an entry (issue 13: 3.2 MB in a 100,000-file walk).
    ///
    /// Compared by the names' first 16 bytes as one number first, and only names that share
    /// those by their whole bytes: the names of one directory often share a long prefix
    /// (`plan-00001.yaml`), and comparing them byte by byte was a tenth of a 100,000-file
    /// walk.
    fn sort(&mut self) {
        let (text, others) = (&self.text, &self.others);
        let name = |&(at, len, _): &(u32, u16, Kind)| -> &OsStr {
            match len {
                WHOLE_NAME => &others[at as usize],
                len => OsStr::new(&text[at as usize..at as usize + usize::from(len)]),
            }
        };
        self.entries.sort_unstable_by(|a, b| {
            let (a, b) = (name(a), name(b));
            prefix_key(a.as_encoded_bytes())
                .cmp(&prefix_key(b.as_encoded_bytes()))
                .then_with(|| a.cmp(b))
        });
    }
}

/// The first 16 bytes of `name` as a big-endian number, zeros after a shorter name: names
/// whose keys differ are ordered as their keys are (a file name holds no zero byte, so a name
/// that is a prefix of another gets the smaller key); names with equal keys share those bytes.
fn prefix_key(name: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name[..n]);
    u128::from_be_bytes(bytes)
}

/// `dir.join(name)` for a directory entry's `name` (no separator in it, not empty), in one
/// allocation: `Path::join` re-parses the path, which was a fifth of the cost of a walk.
fn join_name(dir: &Path, name: &str) -> PathBuf {
    let dir = dir.as_os_str();
    let mut path = std::ffi::OsString::with_capacity(dir.len() + 1 + name.len());
    path.push(dir);
    let ends_in_separator = dir
        .as_encoded_bytes()
        .last()
        .is_some_and(|&b| std::path::is_separator(char::from(b)));
    if !dir.is_empty() && !ends_in_separator {
        path.push(std::path::MAIN_SEPARATOR_STR);
    }
    path.push(name);
    PathBuf::from(path)
}

/// The path as shown to users: as given, without `./` segments, with `/` separators.
pub(super) fn display_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        return ".".to_owned();
    }
    let joined = parts.join("/");
    joined
        .strip_prefix("//")
        .map_or(joined.clone(), |rest| format!("/{rest}"))
}

/// Sets `out` to what [`display_path`] gives for the entry `name` of a directory it shows as
/// `dir`.
fn child_display(out: &mut String, dir: &str, name: &str) {
    out.clear();
    if dir != "." {
        out.push_str(dir);
        if !dir.ends_with('/') {
            out.push('/');
        }
    }
    out.push_str(name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn a_discovered_file_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<FileTarget>(), 16);
        assert_eq!(std::mem::size_of::<Target>(), 16);
        // And a directory entry while its walk lasts, besides its name.
        assert_eq!(std::mem::size_of::<(u32, u16, Kind)>(), 8);
    }

    #[test]
    fn names_sort_by_their_prefix_keys_as_by_their_bytes() {
        let mut names = vec![
            "plan-00010.yaml",
            "plan-00001.yaml",
            "plan-0000.yaml",
            "plan",
            "plan-00001.yaml.bak",
            "a-very-long-name-past-sixteen-b.yaml",
            "a-very-long-name-past-sixteen-a.yaml",
            "Z.yaml",
            "é.yaml",
            "e.yaml",
            "",
            "plan-00001.yam",
        ];
        let by_key = |names: &[&'static str]| {
            let mut keyed: Vec<(u128, &'static str)> = names
                .iter()
                .map(|n| (prefix_key(n.as_bytes()), *n))
                .collect();
            keyed.sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.cmp(y.1)));
            keyed.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
        };
        let sorted = by_key(&names);
        names.sort_unstable();
        assert_eq!(sorted, names);
    }

    #[test]
    fn join_name_joins_as_path_join_does() {
        for dir in ["/", "/tmp/plans", "plans", "", "a/b/"] {
            let dir = Path::new(dir);
            assert_eq!(join_name(dir, "x.yaml"), dir.join("x.yaml"), "{dir:?}");
        }
    }

    #[test]
    fn files_of_one_name_in_two_directories_are_two_files() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["one", "two"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("a.yaml"), "name: a\n").unwrap();
        }
        // `one/a.yaml` once more, named: its key meets both walked files', and it is the first.
        let paths = [
            dir.path().join("one"),
            dir.path().join("two"),
            dir.path().join("one/a.yaml"),
        ];
        let targets = discover(&paths);
        let files: Vec<(Cow<'_, str>, bool, PathBuf)> = targets
            .list
            .iter()
            .filter_map(|t| match t {
                Target::File(file) => {
                    Some((targets.display(file), file.named, targets.file(file).into()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(files.len(), 2, "{files:?}");
        let canonical = |p: &str| std::fs::canonicalize(dir.path().join(p)).unwrap();
        assert_eq!(files[0].2, canonical("one/a.yaml"));
        assert!(
            files[0].1,
            "named on the command line after the walk met it"
        );
        assert_eq!(files[1].2, canonical("two/a.yaml"));
        assert!(!files[1].1);
    }

    #[test]
    fn names_moved_from_walks_show_each_file_under_its_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, body) in [
            ("one/a.yaml", "x"),
            ("one/.hidden.yaml", "x"),
            ("one/notes.txt", "x"),
            ("one/m/b.yaml", "x"),
            ("one/m/n/c.yml", "x"),
            ("one/z.yaml", "x"),
            ("two/d.yaml", "x"),
            ("two/sub/e.yaml", "x"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let name = OsStr::from_bytes(b"f\xff.yaml");
            std::fs::write(root.join("one/m").join(name), "x").unwrap();
        }
        let targets = discover(&[root.join("one"), root.join("two")]);
        let files: Vec<(String, PathBuf, Option<OsString>)> = targets
            .list
            .iter()
            .filter_map(|t| match t {
                Target::File(file) => Some((
                    targets.display(file).into_owned(),
                    targets.file(file).into_owned(),
                    targets.file_name(file).map(OsStr::to_owned),
                )),
                _ => None,
            })
            .collect();
        let mut expected = vec!["one/a.yaml", "one/m/b.yaml"];
        if cfg!(unix) {
            expected.push("one/m/f\u{FFFD}.yaml");
        }
        expected.extend([
            "one/m/n/c.yml",
            "one/z.yaml",
            "two/d.yaml",
            "two/sub/e.yaml",
        ]);
        let shown: Vec<String> = files
            .iter()
            .map(|(display, _, _)| {
                display.strip_prefix(&display_path(root)).unwrap()[1..].to_owned()
            })
            .collect();
        assert_eq!(shown, expected);
        let canonical_root = std::fs::canonicalize(root).unwrap();
        for (display, file, name) in &files {
            assert!(file.starts_with(&canonical_root), "{display}: {file:?}");
            assert_eq!(std::fs::read_to_string(file).unwrap(), "x", "{display}");
            assert_eq!(name.as_deref(), file.file_name(), "{display}");
        }
    }
}
