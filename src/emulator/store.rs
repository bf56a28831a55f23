//! The state file (`--state FILE`): the world as JSON, shared by every process that names it.
//!
//! Writes are atomic ([`fsx::write_atomic`]: temporary file in the same directory, fsync,
//! rename, fsync of the directory) and happen only when the world changes, so a GET never
//! writes. Changes are made under an exclusive lock ([`fsx::FileLock`]) on a `<file>.lock`
//! beside it, after re-reading the file if another process changed it; reads pick up such
//! changes too (one `stat` per request).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::error::EmulatorError;
use super::seed::Seed;
use super::state::{OLDEST_STATE_FORMAT, STATE_FORMAT, World};
use crate::fsx;

/// Where the world is kept, if anywhere.
pub(crate) struct Store {
    path: Option<PathBuf>,
    /// Identity of the file as we last read or wrote it: see [`stamp`].
    stamp: Option<Stamp>,
}

/// Holds the state file's lock until dropped.
pub(crate) struct FileLock(#[allow(dead_code)] Option<fsx::FileLock>);

impl Store {
    /// Opens the state file: loads it when it exists, else builds the world from `seed` and writes
    /// it. Without a path the world lives in memory only.
    pub(crate) fn open(path: Option<&Path>, seed: &Seed) -> Result<(World, Store), EmulatorError> {
        let now = super::state::system_now_ms();
        let Some(path) = path else {
            return Ok((
                seed.build(now, 0),
                Store {
                    path: None,
                    stamp: None,
                },
            ));
        };
        let mut store = Store {
            path: Some(path.to_owned()),
            stamp: None,
        };
        let _lock = store.lock()?;
        if path.exists() {
            let world = store.load()?;
            Ok((world, store))
        } else {
            let world = seed.build(now, 0);
            store.save(&world)?;
            Ok((world, store))
        }
    }

    fn display(&self) -> String {
        self.path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// Takes the exclusive lock on `<file>.lock` (a no-op without a state file).
    pub(crate) fn lock(&self) -> Result<FileLock, EmulatorError> {
        let Some(path) = &self.path else {
            return Ok(FileLock(None));
        };
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let lock = fsx::FileLock::acquire_creating(&lock_path).map_err(|source| {
            EmulatorError::StateWrite {
                path: lock_path.display().to_string(),
                source,
            }
        })?;
        Ok(FileLock(Some(lock)))
    }

    fn load(&mut self) -> Result<World, EmulatorError> {
        let path = self.path.clone().unwrap_or_default();
        let read_err = |source| EmulatorError::StateRead {
            path: self.display(),
            source,
        };
        let meta = fs::metadata(&path).map_err(read_err)?;
        let text = fs::read_to_string(&path).map_err(read_err)?;
        let world = parse_world(&text).map_err(|message| EmulatorError::StateInvalid {
            path: self.display(),
            message,
        })?;
        self.stamp = Some(stamp(&meta));
        Ok(world)
    }

    /// Reloads `world` if another process changed the file since we last saw it (one `stat`).
    /// Problems are ignored: the world in memory stays as it was.
    pub(crate) fn refresh(&mut self, world: &mut World) {
        let Some(path) = &self.path else { return };
        let Ok(meta) = fs::metadata(path) else { return };
        if Some(stamp(&meta)) == self.stamp {
            return;
        }
        if let Ok(fresh) = self.load() {
            *world = fresh;
        }
    }

    /// Reloads `world` from the file unconditionally, for a change made under the lock: a
    /// timestamp can miss a write by another process within its granularity, and a lost
    /// update (two runs for one segment) must never happen.
    pub(crate) fn reload(&mut self, world: &mut World) {
        if self.path.is_some()
            && let Ok(fresh) = self.load()
        {
            *world = fresh;
        }
    }

    /// Writes the world atomically (a no-op without a state file).
    pub(crate) fn save(&mut self, world: &World) -> Result<(), EmulatorError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let write_err = |source| EmulatorError::StateWrite {
            path: path.display().to_string(),
            source,
        };
        let mut text =
            serde_json::to_string_pretty(world).map_err(|e| write_err(std::io::Error::other(e)))?;
        text.push('\n');
        let meta = fsx::write_atomic(&path, text.as_bytes())
            .and_then(|()| fs::metadata(&path))
            .map_err(write_err)?;
        self.stamp = Some(stamp(&meta));
        Ok(())
    }
}

/// What tells us the file changed: every save renames a new file into place, so its inode
/// changes along with its modification time and, usually, its length.
type Stamp = (SystemTime, u64, u64);

fn stamp(meta: &fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    (
        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        meta.len(),
        inode,
    )
}

/// Parses a state file, checking its format version first so that a newer or older file gets
/// a clear message rather than a field-by-field complaint.
fn parse_world(text: &str) -> Result<World, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(f) if (u64::from(OLDEST_STATE_FORMAT)..=u64::from(STATE_FORMAT)).contains(&f) => {}
        Some(f) => {
            return Err(format!(
                "it has format {f}, this version reads formats {OLDEST_STATE_FORMAT} to {STATE_FORMAT}"
            ));
        }
        None => return Err("it has no `format` field: it is not an emulator state file".into()),
    }
    // Format 1 differs only by fields that have defaults; the next save writes the current one.
    let mut world: World = serde_json::from_value(value).map_err(|e| e.to_string())?;
    world.format = STATE_FORMAT;
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_round_trip_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let seed = Seed::demo();
        let (world, _store) = Store::open(Some(&path), &seed).unwrap();
        let (again, _store) = Store::open(Some(&path), &seed).unwrap();
        assert_eq!(world, again);

        fs::write(&path, "{\"format\": 99}").unwrap();
        let err = Store::open(Some(&path), &seed).err().unwrap();
        assert!(err.to_string().contains("not valid"), "{err}");
        assert!(
            err.to_string()
                .contains("has format 99, this version reads formats 1 to 2"),
            "{err}"
        );
        fs::write(&path, "not json").unwrap();
        assert!(Store::open(Some(&path), &seed).is_err());
    }

    /// A state file of format 1 (before runs had a `kind`) is read, its runs ad hoc, and the
    /// next save writes the current format.
    #[test]
    fn format_1_files_are_read_and_saved_as_the_current_format() {
        use super::super::state::{Outcome, Run, RunKind};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let seed = Seed::demo();
        let (mut world, mut store) = Store::open(Some(&path), &seed).unwrap();
        let run = Run {
            id: "r1".into(),
            flow_id: "f1".into(),
            segment_id: "s1".into(),
            client_id: "aepact-demo-client".into(),
            kind: RunKind::Adhoc,
            created_at: 1_000,
            duration_ms: 0,
            outcome: Outcome::Success,
            profiles: 1,
            etag: String::new(),
        };
        world
            .sandboxes
            .get_mut("prod")
            .unwrap()
            .runs
            .push(run.clone());
        store.save(&world).unwrap();
        // What a format-1 writer wrote: no `kind`, format 1.
        let mut old: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        old["format"] = 1.into();
        old["sandboxes"]["prod"]["runs"][0]
            .as_object_mut()
            .unwrap()
            .remove("kind");
        fs::write(&path, old.to_string()).unwrap();

        let (loaded, mut store) = Store::open(Some(&path), &seed).unwrap();
        assert_eq!(loaded.format, STATE_FORMAT);
        assert_eq!(loaded.sandboxes["prod"].runs, [run]);
        store.save(&loaded).unwrap();
        let saved: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["format"], STATE_FORMAT);
        assert_eq!(saved["sandboxes"]["prod"]["runs"][0]["kind"], "adhoc");
    }
}
