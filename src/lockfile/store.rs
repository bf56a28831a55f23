//! The one way a lockfile is saved: a [`Ledger`] (the plan's [`LockGuard`] and the lockfile as
//! read), whose [`Ledger::save`] writes atomically and only over the file it read or last wrote.
//!
//! `apply` and `status` change lockfiles only through a ledger; `plan` and `lock verify` only
//! read ([`Lockfile::load`], [`Lockfile::parse_format`]). The atomic write and the lock itself
//! are [`crate::fsx`]'s; this module adds what they mean for a lockfile.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{LockfileError, Result};
use super::format::Lockfile;
use super::parse::utf8;
use crate::digest::sha256_hex;
use crate::fsx;

/// The lockfile of a plan: `plans/flash-sale.yaml` (or `.yml`) → `plans/flash-sale.lock.json`.
///
/// Returns the plan path with `.yaml`/`.yml` replaced by `.lock.json`; any other name gets
/// `.lock.json` appended.
pub fn lockfile_path(plan_path: &Path) -> PathBuf {
    let Some(name) = plan_path.file_name() else {
        // A path ending in `..`: the suffix goes on the path as given.
        let mut name = plan_path.as_os_str().to_owned();
        name.push(".lock.json");
        return PathBuf::from(name);
    };
    let mut lock = lockfile_stem(name).to_owned();
    lock.push(".lock.json");
    plan_path.with_file_name(lock)
}

/// What a plan file's lockfile keeps of the file's name before `.lock.json`: the stem of a
/// `.yaml` or `.yml` file, else the whole name. Equal lockfile paths come from equal stems in
/// one directory.
pub fn lockfile_stem(name: &OsStr) -> &OsStr {
    // The usual name, in UTF-8, without taking the path apart (this runs for every plan).
    if let Some(text) = name.to_str() {
        return match text
            .strip_suffix(".yaml")
            .or_else(|| text.strip_suffix(".yml"))
        {
            Some(stem) if !stem.is_empty() => OsStr::new(stem),
            _ => name,
        };
    }
    stem_by_path(name)
}

/// [`lockfile_stem`] by the rules of [`Path`]: for names that are not UTF-8.
fn stem_by_path(name: &OsStr) -> &OsStr {
    let path = Path::new(name);
    match path.extension().and_then(OsStr::to_str) {
        Some("yaml" | "yml") => path.file_stem().unwrap_or(name),
        _ => name,
    }
}

/// SHA-256 of a file's contents as 64 lowercase hex digits (see [`crate::digest::file_sha256`]).
///
/// Returns an error naming the file when it cannot be read.
pub fn file_digest(path: &Path) -> Result<String> {
    crate::digest::file_sha256(path).map_err(|source| LockfileError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// A plan's lockfile opened for change by `apply` or `status`: the plan's lock, held until this
/// is dropped, and the lockfile as read.
///
/// [`Ledger::save`] writes atomically and only over the file this ledger read or last wrote: if
/// anything else changed the lockfile meanwhile, it refuses, leaves that file alone and writes
/// its own record beside it, so neither record is lost.
#[derive(Debug)]
pub struct Ledger {
    /// The plan's lock, when this ledger took it (`None`: the caller holds it, for longer).
    _guard: Option<LockGuard>,
    path: PathBuf,
    lockfile: Lockfile,
    /// SHA-256 of the lockfile's bytes on disk as last read or written; `None`: no file.
    on_disk: Option<String>,
}

impl Ledger {
    /// Locks the plan at `plan_path` (waiting up to `timeout`, see [`LockGuard::acquire`]),
    /// then reads its lockfile, or starts an empty one when there is none.
    ///
    /// Returns an error when the lock is not granted in time, or when the lockfile cannot be
    /// read, is not a valid lockfile, or records another plan than `plan_name`.
    pub fn open(plan_path: &Path, plan_name: &str, timeout: Duration) -> Result<Ledger> {
        Ledger::open_at(plan_path, lockfile_path(plan_path), plan_name, timeout)
    }

    /// [`open`](Self::open), for a lockfile kept at `path` rather than beside the plan (the
    /// emulator's, under `.aepact/`).
    pub fn open_at(
        plan_path: &Path,
        path: PathBuf,
        plan_name: &str,
        timeout: Duration,
    ) -> Result<Ledger> {
        let guard = LockGuard::acquire(plan_path, timeout)?;
        let mut ledger = Ledger::read(path, plan_name)?;
        ledger._guard = Some(guard);
        Ok(ledger)
    }

    /// Reads the lockfile at `path` (or starts an empty one) for the plan whose lock the caller
    /// holds (`_guard`) and goes on holding: for a caller that took the locks of several plans
    /// first, in a fixed order, and keeps them until it is done with all of them.
    ///
    /// Returns an error when the lockfile cannot be read, is not a valid lockfile, or records
    /// another plan than `plan_name`.
    pub fn under_lock(_guard: &LockGuard, path: PathBuf, plan_name: &str) -> Result<Ledger> {
        Ledger::read(path, plan_name)
    }

    fn read(path: PathBuf, plan_name: &str) -> Result<Ledger> {
        let (lockfile, on_disk) = match read_bytes(&path)? {
            Some(bytes) => {
                // Not lossily: a replaced byte would be written back on the next save.
                let digest = sha256_hex(&bytes);
                let text = utf8(bytes, &path)?;
                let lockfile = Lockfile::parse(&text, &path)?;
                lockfile.check_plan(plan_name, &path)?;
                (lockfile, Some(digest))
            }
            None => (Lockfile::new(plan_name), None),
        };
        Ok(Ledger {
            _guard: None,
            path,
            lockfile,
            on_disk,
        })
    }

    /// The lockfile as it stands in memory.
    pub fn lockfile(&self) -> &Lockfile {
        &self.lockfile
    }

    /// The lockfile, to change before [`save`](Self::save).
    pub fn lockfile_mut(&mut self) -> &mut Lockfile {
        &mut self.lockfile
    }

    /// Where the lockfile is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 (hex) of the lockfile on disk as last read or written, `None` when there is no
    /// file: what a saved plan records to notice later that the lockfile changed.
    pub fn disk_digest(&self) -> Option<&str> {
        self.on_disk.as_deref()
    }

    /// Writes the lockfile atomically (see [`fsx::write_atomic`]), after checking that the file on
    /// disk is still the one read or last written.
    ///
    /// Returns [`LockfileError::ChangedOnDisk`] when it is not: the file on disk is left as it
    /// is and this ledger's record is written to `<lockfile>.conflict-<pid>` instead.
    pub fn save(&mut self) -> Result<()> {
        let text = self.lockfile.to_json();
        // The emulator's lockfiles live in directories made on first use.
        if self.on_disk.is_none()
            && let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            fs::create_dir_all(dir).map_err(|source| LockfileError::Write {
                path: self.path.display().to_string(),
                source,
            })?;
        }
        let current = read_bytes(&self.path)?.map(|bytes| sha256_hex(&bytes));
        if current != self.on_disk {
            let mut ours = self.path.clone().into_os_string();
            ours.push(format!(".conflict-{}", std::process::id()));
            let ours = PathBuf::from(ours);
            write_atomic(&ours, text.as_bytes())?;
            return Err(LockfileError::ChangedOnDisk {
                path: self.path.display().to_string(),
                ours: ours.display().to_string(),
            });
        }
        write_atomic(&self.path, text.as_bytes())?;
        self.on_disk = Some(sha256_hex(text.as_bytes()));
        Ok(())
    }
}

/// [`fsx::write_atomic`], failing with [`LockfileError::Write`].
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    fsx::write_atomic(path, bytes).map_err(|source| LockfileError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// A file's bytes, or `None` when it does not exist.
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockfileError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Locking

/// An exclusive advisory lock on a plan, held while `apply` or `status` reads, changes and saves
/// its lockfile. Released when dropped (or when the process exits, however it exits).
///
/// The lock is on the plan file itself, opened read-only, not on the lockfile: every save
/// replaces the lockfile by a rename, and a lock on a replaced file (inode) protects nothing,
/// because the next process opens the new one. The plan file is only read by aepact, so its
/// identity is stable. If something else replaces the plan between our open and our lock (an
/// editor's save, a `git checkout`), [`LockGuard::acquire`] notices that the path names another
/// file and locks that one instead.
///
/// The lock is advisory (`flock` on Unix, `LockFileEx` on Windows): it keeps aepact processes
/// apart, not other programs.
#[derive(Debug)]
pub struct LockGuard {
    lock: fsx::FileLock,
}

impl LockGuard {
    /// Takes the lock on `plan_path`, polling until `timeout` has passed (a zero timeout tries
    /// once).
    ///
    /// Returns [`LockfileError::LockTimeout`] when another process (or another guard in this
    /// process) still holds it, and [`LockfileError::Lock`] when the plan cannot be opened.
    pub fn acquire(plan_path: &Path, timeout: Duration) -> Result<LockGuard> {
        let path = plan_path.display().to_string();
        match fsx::FileLock::acquire(plan_path, timeout) {
            Ok(lock) => Ok(LockGuard { lock }),
            Err(fsx::LockError::Io(source)) => Err(LockfileError::Lock { path, source }),
            Err(fsx::LockError::Busy { waited }) => Err(LockfileError::LockTimeout {
                path,
                waited: format_duration(waited),
            }),
        }
    }

    /// The plan file whose lock this is.
    pub fn path(&self) -> &Path {
        self.lock.path()
    }
}

/// `1.5s`, `250ms`: how long we waited, for the timeout message.
fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stem_of_a_name_is_what_its_path_says() {
        for name in [
            "a.yaml",
            "a.yml",
            ".yaml",
            ".yml",
            "a.b.yaml",
            "..yaml",
            "a.YAML",
            "a.json",
            "yaml",
            "a.yaml.bak",
            "a.yamll",
            "plan-00001.yml",
        ] {
            let name = OsStr::new(name);
            assert_eq!(lockfile_stem(name), stem_by_path(name), "{name:?}");
        }
    }

    #[test]
    fn lockfile_path_replaces_yaml_extensions() {
        let p = |s: &str| lockfile_path(Path::new(s));
        assert_eq!(
            p("plans/flash-sale.yaml"),
            Path::new("plans/flash-sale.lock.json")
        );
        assert_eq!(
            p("plans/flash-sale.yml"),
            Path::new("plans/flash-sale.lock.json")
        );
        assert_eq!(p("flash-sale.yaml"), Path::new("flash-sale.lock.json"));
        assert_eq!(p("plans/odd.plan"), Path::new("plans/odd.plan.lock.json"));
        assert_eq!(p(".yaml"), Path::new(".yaml.lock.json"));
        assert_eq!(p("plans/a.b.yml"), Path::new("plans/a.b.lock.json"));
        assert_eq!(p("plans/.."), Path::new("plans/...lock.json"));
    }
}
