//! The shape of the source tree (issue 10): data flows one way, so no file imports (directly or
//! through others) a file that imports it; no source file grows past 900 lines; the commands
//! stay thin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::repo_root;

/// Every `.rs` file under `src/`, by its module path (`crate::planner::decide`).
fn modules() -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}::{name}"), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "lib" | "main" if prefix == "crate" => prefix.to_owned(),
                    "mod" => prefix.to_owned(),
                    _ => format!("{prefix}::{name}"),
                };
                if name != "main" {
                    out.insert(module, path);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&repo_root().join("src"), "crate", &mut out);
    out
}

/// The paths a file's code names: `crate::a::b`, `super::x`, `self::y` (in `use` items and
/// inline), resolved to absolute module paths. Comments are left out.
fn named_paths(module: &str, text: &str) -> BTreeSet<String> {
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or("crate".to_owned(), |(p, _)| p.to_owned())
    };
    // `super` of `a/b.rs` (`crate::a::b`) and of `a/b/mod.rs` (also `crate::a::b`) is `crate::a`.
    let here = module.to_owned();
    let sup = parent(&here);
    let mut found = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // Expand `use x::{a, b::{c, d}}` groups into paths by scanning token by token.
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let (base, skip) = if rest.starts_with("crate::") {
            ("crate".to_owned(), 7)
        } else if rest.starts_with("super::") {
            (sup.clone(), 7)
        } else if rest.starts_with("self::") {
            (here.clone(), 6)
        } else {
            i += 1;
            continue;
        };
        let before = if i == 0 { b' ' } else { bytes[i - 1] };
        if before.is_ascii_alphanumeric() || before == b'_' {
            i += 1;
            continue;
        }
        let mut path = base;
        let mut j = i + skip;
        // `super::super::`
        while code[j..].starts_with("super::") {
            path = parent(&path);
            j += 7;
        }
        let tail: String = code[j..]
            .chars()
            .take_while(|c| {
                c.is_ascii_alphanumeric()
                    || *c == '_'
                    || *c == ':'
                    || *c == '{'
                    || *c == ','
                    || *c == ' '
                    || *c == '\n'
                    || *c == '}'
            })
            .collect();
        // Only the leading `a::b::c` part decides the module; groups name siblings of it.
        let head: String = tail.chars().take_while(|c| *c != '{').collect();
        let head = head
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("");
        for seg in head.split("::").filter(|s| !s.is_empty()) {
            path = format!("{path}::{seg}");
        }
        // `use super::{load, read}` names the two siblings, not their parent: the group's
        // `self` (or no group at all) names the path itself.
        let group = tail
            .strip_prefix(head)
            .and_then(|after| after.strip_prefix('{'))
            .or_else(|| {
                head.ends_with("::")
                    .then(|| tail.split_once('{').map(|(_, g)| g))
                    .flatten()
            });
        match group {
            Some(group) => {
                let group = group.split('}').next().unwrap_or("");
                let prefix = path.trim_end_matches("::").to_owned();
                for item in group.split(',') {
                    let item = item.trim();
                    let first = item.split("::").next().unwrap_or("");
                    let first = first.split_whitespace().next().unwrap_or(""); // `a as b`
                    if first == "self" {
                        found.insert(prefix.clone());
                    } else if !first.is_empty() {
                        found.insert(format!("{prefix}::{first}"));
                    }
                }
            }
            None => {
                found.insert(path.clone());
            }
        }
        i = j;
    }
    found
}

/// The file a module path lives in: the longest registered module that prefixes it.
fn file_of<'a>(path: &str, modules: &'a BTreeMap<String, PathBuf>) -> Option<&'a String> {
    let mut p = path.to_owned();
    loop {
        if let Some((m, _)) = modules.get_key_value(&p) {
            return Some(m);
        }
        p = p.rsplit_once("::")?.0.to_owned();
    }
}

#[test]
fn no_file_imports_a_file_that_imports_it() {
    let modules = modules();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &modules {
        let text = std::fs::read_to_string(path).unwrap();
        // Test modules inside a file may use anything.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        // A `mod.rs` that re-exports a child's items (`pub use check::CheckReport;`) stands for
        // that child: whoever imports them through it depends on the child.
        let reexports = text.lines().filter_map(|l| {
            let rest = l.trim_start().strip_prefix("pub use ")?;
            let first = rest.split("::").next()?.trim();
            (!first.is_empty() && !matches!(first, "crate" | "super" | "self"))
                .then(|| format!("{module}::{first}"))
        });
        for named in named_paths(module, text).into_iter().chain(reexports) {
            if let Some(target) = file_of(&named, &modules)
                && target != module
                && target != "crate"
            {
                edges
                    .entry(module.clone())
                    .or_default()
                    .insert(target.clone());
            }
        }
    }
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        cycles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.cycles.push(component);
            }
        }
    }
    let mut state = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in modules.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    let described: Vec<String> = state
        .cycles
        .iter()
        .map(|cycle| {
            let members: BTreeSet<&String> = cycle.iter().collect();
            cycle
                .iter()
                .flat_map(|from| {
                    edges
                        .get(from)
                        .into_iter()
                        .flatten()
                        .filter(|to| members.contains(to))
                        .map(move |to| format!("  {from} -> {to}"))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(
        state.cycles.is_empty(),
        "files that import each other (directly or through others), with the imports inside each cycle:\n{}",
        described.join("\n\n")
    );
}

#[test]
fn no_source_file_is_over_900_lines_and_commands_are_thin() {
    for (module, path) in modules() {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        let limit = if module.starts_with("crate::commands") {
            250
        } else {
            900
        };
        assert!(
            lines <= limit,
            "{} has {lines} lines (at most {limit})",
            path.display()
        );
    }
}
