//! `aepact log`: the activation history from the lockfiles ([`crate::lockfile::history`]),
//! filtered and sorted, rendered by [`crate::output::log`]. Offline: no platform call and no
//! credentials, so it runs anywhere the repository is checked out.

use std::path::PathBuf;

use crate::Exit;
use crate::cli::{LogArgs, LogFormat};
use crate::error::{Error, Result};
use crate::lockfile::Lockfile;
use crate::lockfile::history::{self, Entry};
use crate::output::{self, Style};
use crate::target::Target;

pub(crate) fn run(args: &LogArgs, style: Style) -> Result<Exit> {
    let given = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    if let Some(missing) = given.iter().find(|p| std::fs::symlink_metadata(p).is_err()) {
        return Err(Error::LogPath(missing.display().to_string()));
    }
    // The emulator's records live apart from the committed ones (`docs/lockfile.md`, Targets):
    // read them only when asked. Its org is not needed to find them, and a path it has no
    // records for has no history there.
    let target = args
        .emulator
        .then(|| Target::emulator("", &args.emulator_state));
    let paths: Vec<PathBuf> = given
        .iter()
        .map(|p| {
            target
                .as_ref()
                .map_or_else(|| p.clone(), |t| t.lockfiles_of(p))
        })
        .collect();
    let (mut lockfiles, _no_records) = history::find_lockfiles(&paths);
    // Found below `.`: named as people name them, `plans/x.lock.json`, not `./plans/…`.
    for path in &mut lockfiles {
        if let Ok(rest) = path.strip_prefix(".")
            && !rest.as_os_str().is_empty()
        {
            *path = rest.to_path_buf();
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    for path in &lockfiles {
        let Some(lockfile) = Lockfile::load(path)? else {
            continue;
        };
        entries.extend(history::entries(&lockfile, path));
    }
    let wanted = |list: &[String], id: &str| {
        list.is_empty() || list.iter().any(|w| w.trim().eq_ignore_ascii_case(id))
    };
    entries.retain(|e| {
        args.since.is_none_or(|since| e.at >= since)
            && wanted(&args.destination, &e.destination)
            && wanted(&args.segment, &e.segment)
    });
    // Oldest first; within one apply, in the order its lockfile records them.
    entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.lockfile.cmp(&b.lockfile)));
    let shown: Vec<String> = lockfiles.iter().map(|p| p.display().to_string()).collect();
    let text = match args.format {
        LogFormat::Human => output::log::human(&entries, shown.len(), style),
        LogFormat::Json => output::log::json(&entries, &shown),
        LogFormat::Csv => output::log::csv(&entries),
        LogFormat::Markdown => output::log::markdown(&entries),
    };
    output::write_stdout(&text)?;
    Ok(Exit::Success)
}
